/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's own descriptors, and what happens when the program closes them.
 *
 * A program may close every descriptor it did not open itself (a daemon's close_range(3,
 * ~0U, 0), a loop of close(), dup2() over high numbers) and then reuse the numbers. The
 * library must then never read, write, poll or close those numbers again: they name the
 * program's files now. So every descriptor the library makes (the ring, its eventfds and epoll
 * sets, the duplicates it holds of the program's descriptors) is recorded here, and close(),
 * close_range(), closefrom(), dup2() and dup3() are interposed: before the program's call
 * takes effect, each of the library's numbers in its range is marked lost, and an eventfd a
 * library thread may sleep on is written once more, while it is still the library's, so the
 * sleeper wakes and sees the loss. The owner of a lost number forgets it without closing it
 * and makes a new one when it needs one (engine-uring.c, engine-kaio.c, engine-poll.c,
 * notify.c, wait.c, claim.c).
 *
 * A thread about to make one system call on one of them brackets it with ownfd_use() and
 * ownfd_done(); the interposed call, once it marked the numbers lost, waits for those
 * brackets to end before the numbers go, so a number is never used after the program could
 * have reused it.
 *
 * New descriptors are made only in a call of the program's (ownfd_may_open()): one made by a
 * thread of the library at any moment would take a number the program is about to open or
 * dup2() over (dup2 then fails with EBUSY), or stdin's after a daemon closed it.
 *
 * A program that closes them with a raw system call is not seen here; the owners also treat
 * EBADF from their own descriptor as a loss, which covers a number closed and not reused.
 *
 * The table is read without a lock (close() is async-signal-safe, and may be called by a
 * handler that interrupted a thread holding any lock of the library): a fixed top level of
 * pages, each made once under track_lock and never freed, one state byte per descriptor.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define PAGE_SHIFT 10
#define PAGE_FDS (1u << PAGE_SHIFT)
#define TOP (1u << 10) /* descriptors below 2^20, the kernel's default fs.nr_open */

enum { FD_NONE, FD_OWNED, FD_KICK, FD_LOST };

static uint8_t *pages[TOP];    /* atomic pointers */
static unsigned tracked, lost; /* atomic counts of the numbers in each state */
static unsigned losses;        /* atomic: how many were ever lost */
static unsigned users;         /* atomic: threads between ownfd_use() and ownfd_done() */
static TLS unsigned tl_users;  /* of them, this thread (a handler may interrupt it) */
static TLS bool tl_internal;   /* a thread of the library's own, running no program code */
static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;

static uint8_t *state_of(int fd)
{
	uint8_t *p;

	if (fd < 0 || (unsigned)fd >= TOP * PAGE_FDS)
		return NULL;
	p = __atomic_load_n(&pages[(unsigned)fd >> PAGE_SHIFT], __ATOMIC_ACQUIRE);
	return p ? p + ((unsigned)fd & (PAGE_FDS - 1)) : NULL;
}

/* The page of states for numbers p << PAGE_SHIFT on: 0, or -ENOMEM. */
static int page_make(unsigned p)
{
	int ret = 0;

	pthread_mutex_lock(&track_lock);
	if (!pages[p]) {
		uint8_t *page = calloc(PAGE_FDS, 1);

		if (page)
			__atomic_store_n(&pages[p], page, __ATOMIC_RELEASE);
		else
			ret = -ENOMEM;
	}
	pthread_mutex_unlock(&track_lock);
	return ret;
}

int ownfd_track(int fd, bool kick)
{
	unsigned p = (unsigned)fd >> PAGE_SHIFT;
	uint8_t *s;
	int ret;

	if (fd < 0 || p >= TOP)
		return -EMFILE;
	/* Made once: only the first number of a page takes the lock. */
	if (!__atomic_load_n(&pages[p], __ATOMIC_ACQUIRE) && (ret = page_make(p)) < 0)
		return ret;
	s = state_of(fd);
	/* A number the program closed under us and the kernel handed back: no longer lost. */
	if (__atomic_exchange_n(s, kick ? FD_KICK : FD_OWNED, __ATOMIC_ACQ_REL) == FD_LOST)
		__atomic_fetch_sub(&lost, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&tracked, 1, __ATOMIC_RELAXED);
	return 0;
}

void ownfd_thread_internal(void)
{
	tl_internal = true;
}

bool ownfd_may_open(void)
{
	return !tl_internal;
}

bool ownfd_is_internal(void)
{
	return tl_internal;
}

int ownfd_new(int fd, bool kick)
{
	int moved[8], nmoved = 0, ret;
	uint8_t *s;

	if (fd < 0)
		return -errno;
	/*
	 * A number still marked lost may yet be in the hands of an owner that has not looked:
	 * it must not find it valid again. Take another number, and give that one back.
	 */
	while ((s = state_of(fd)) && __atomic_load_n(s, __ATOMIC_SEQ_CST) == FD_LOST &&
	       nmoved < 8) {
		int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);

		moved[nmoved++] = fd;
		if (d < 0) {
			fd = -1;
			break;
		}
		fd = d;
	}
	for (int i = 0; i < nmoved; i++)
		syscall(SYS_close, moved[i]);
	if (fd < 0 || nmoved == 8) {
		if (fd >= 0)
			syscall(SYS_close, fd);
		return -EMFILE;
	}
	ret = ownfd_track(fd, kick);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

bool ownfd_lost(int fd)
{
	uint8_t *s;

	if (!__atomic_load_n(&lost, __ATOMIC_SEQ_CST))
		return false;
	s = state_of(fd);
	return s && __atomic_load_n(s, __ATOMIC_SEQ_CST) == FD_LOST;
}

/* Mark fd lost; true when it was the library's and is lost now. */
static bool lose(int fd)
{
	uint8_t *s = state_of(fd);
	uint8_t old;

	if (!s)
		return false;
	old = __atomic_load_n(s, __ATOMIC_ACQUIRE);
	do {
		if (old == FD_NONE || old == FD_LOST)
			return false;
	} while (!__atomic_compare_exchange_n(s, &old, FD_LOST, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST));
	__atomic_fetch_add(&lost, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&losses, 1, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&tracked, 1, __ATOMIC_RELAXED);
	if (old == FD_KICK) {
		static const uint64_t one = 1;

		/* Still the library's: wake whoever sleeps on it, to see it is gone. */
		if (syscall(SYS_write, fd, &one, sizeof(one)) < 0) {
			/* EAGAIN: it is already readable */
		}
	}
	return true;
}

void ownfd_enter(void)
{
	__atomic_fetch_add(&users, 1, __ATOMIC_SEQ_CST);
	tl_users++;
}

bool ownfd_use(int fd)
{
	ownfd_enter();
	if (fd < 0 || ownfd_lost(fd)) {
		ownfd_done();
		return false;
	}
	return true;
}

void ownfd_done(void)
{
	tl_users--;
	__atomic_fetch_sub(&users, 1, __ATOMIC_SEQ_CST);
}

unsigned ownfd_losses(void)
{
	return __atomic_load_n(&losses, __ATOMIC_ACQUIRE);
}

void ownfd_notice(int fd)
{
	lose(fd);
}

int ownfd_close(int fd)
{
	uint8_t *s = state_of(fd);
	uint8_t old;

	if (fd < 0)
		return 0;
	if (!s) {
		/* Never tracked (beyond the table): the library's all the same. */
		return close(fd);
	}
	old = __atomic_exchange_n(s, FD_NONE, __ATOMIC_ACQ_REL);
	if (old == FD_LOST) {
		__atomic_fetch_sub(&lost, 1, __ATOMIC_RELEASE);
		return 0; /* the program's now: forget it, never close it */
	}
	if (old != FD_NONE)
		__atomic_fetch_sub(&tracked, 1, __ATOMIC_RELAXED);
	return close(fd);
}

static pid_t owner; /* the process the table describes */

void ownfd_fork_child(void)
{
	owner = (pid_t)syscall(SYS_getpid);
	/*
	 * Another thread of the parent may have held it at the fork: the child's first new
	 * descriptor then waited forever (fault-fork_storm). A page it was making is either
	 * published or not; at worst the child makes it again.
	 */
	pthread_mutex_init(&track_lock, NULL);
}

/*
 * A child of vfork() (or clone(CLONE_VM)) shares this memory but not the descriptors: what
 * it closes stays open in the parent, which must not lose track of it. A fork() child has
 * its own memory, and dropped the parent's descriptors in its fork handler already.
 */
static bool in_owner(void)
{
	return (pid_t)syscall(SYS_getpid) == owner;
}

/* The program is about to close [lo, hi]. */
static void losing(unsigned lo, unsigned hi)
{
	bool any = false, mine = false;
	unsigned end;

	try_forget(lo, hi);
	fdhold_closing(lo, hi);
	if (!__atomic_load_n(&tracked, __ATOMIC_ACQUIRE))
		return;
	end = TOP * PAGE_FDS - 1;
	if (hi > end)
		hi = end;
	for (unsigned fd = lo; fd <= hi && fd >= lo; fd++) {
		uint8_t *s, st;

		if (!__atomic_load_n(&pages[fd >> PAGE_SHIFT], __ATOMIC_ACQUIRE)) {
			fd |= PAGE_FDS - 1; /* no page: none of the library's in it */
			continue;
		}
		s = state_of((int)fd);
		st = __atomic_load_n(s, __ATOMIC_ACQUIRE);
		if (st == FD_NONE || st == FD_LOST)
			continue;
		/* Asked only when one of the library's is in the range: a system call. */
		if (!mine && !(mine = in_owner()))
			return;
		any |= lose((int)fd);
	}
	/* Whoever checked a number before it was marked finishes its one call on it first. */
	while (any && __atomic_load_n(&users, __ATOMIC_SEQ_CST) > tl_users)
		sched_yield();
}

/*
 * The interposed calls. The next definitions are looked up at load time: close() may be
 * called from a signal handler, where dlsym() may not.
 */
typedef int (*close_fn)(int);
typedef int (*close_range_fn)(unsigned, unsigned, int);
typedef void (*closefrom_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);

static close_fn next_close;
static close_range_fn next_close_range;
static closefrom_fn next_closefrom;
static dup2_fn next_dup2;
static dup3_fn next_dup3;

__attribute__((constructor)) static void ownfd_load(void)
{
	owner = (pid_t)syscall(SYS_getpid);
	next_close = (close_fn)dlsym(RTLD_NEXT, "close");
	next_close_range = (close_range_fn)dlsym(RTLD_NEXT, "close_range");
	next_closefrom = (closefrom_fn)dlsym(RTLD_NEXT, "closefrom");
	next_dup2 = (dup2_fn)dlsym(RTLD_NEXT, "dup2");
	next_dup3 = (dup3_fn)dlsym(RTLD_NEXT, "dup3");
}

static long sys_ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

EXPORT int close(int fd)
{
	if (fd >= 0)
		losing((unsigned)fd, (unsigned)fd);
	if (next_close)
		return next_close(fd);
	return (int)syscall(SYS_close, fd);
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
	/* CLOSE_RANGE_CLOEXEC only marks them: they stay open until an exec. */
	if (lo <= hi && !(flags & CLOSE_RANGE_CLOEXEC))
		losing(lo, hi);
	if (next_close_range)
		return next_close_range(lo, hi, flags);
	return (int)sys_ret(syscall(SYS_close_range, lo, hi, flags));
}

EXPORT void closefrom(int lo)
{
	if (lo < 0)
		lo = 0;
	losing((unsigned)lo, ~0U);
	if (next_closefrom) {
		next_closefrom(lo);
		return;
	}
	syscall(SYS_close_range, (unsigned)lo, ~0U, 0);
}

/* dup2() and dup3() close newfd only when oldfd is open and differs from it. */
static void dup_losing(int oldfd, int newfd)
{
	if (newfd >= 0 && oldfd != newfd && fcntl(oldfd, F_GETFD) >= 0)
		losing((unsigned)newfd, (unsigned)newfd);
}

EXPORT int dup2(int oldfd, int newfd)
{
	dup_losing(oldfd, newfd);
	if (next_dup2)
		return next_dup2(oldfd, newfd);
	if (oldfd == newfd)
		return fcntl(oldfd, F_GETFD) < 0 ? -1 : newfd;
	return (int)sys_ret(syscall(SYS_dup3, oldfd, newfd, 0));
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	dup_losing(oldfd, newfd);
	if (next_dup3)
		return next_dup3(oldfd, newfd, flags);
	return (int)sys_ret(syscall(SYS_dup3, oldfd, newfd, flags));
}
