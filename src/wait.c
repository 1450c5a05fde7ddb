/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Waiting for completions: aio_suspend(), lio_listio(LIO_WAIT), aio_cancel().
 *
 * One waiting thread at a time, the leader, sleeps on the engine's own descriptors (the
 * io_uring ring fd, the native AIO eventfd) and reaps when they wake it; the others sleep on
 * a per-thread eventfd that whoever finishes a request writes to. With a single waiter, the
 * common case, a completion wakes the thread that waits for it once and directly. Sleeping
 * is ppoll(), so pthread_cancel() acts there and nowhere else in a wait (the cleanup handler
 * leaves the waiter list), and a signal handler ends the wait with EINTR unless it
 * was installed with SA_RESTART.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct waiter {
	struct waiter *prev, *next;
	int efd;
	/*
	 * efd was written and the thread has not read it yet: no need to write it again. Set
	 * by the waker after publishing results, cleared by the waiter before it looks at them
	 * (both sequentially consistent): of the two, one sees the other's.
	 */
	bool kicked;
};

struct wait_ctx {
	struct waiter w;
	bool registered, leader;
	int ret;
	int cancel_state; /* the caller's: restored at the sleep only */
};

/* Called with core.lock held: wake every waiting thread. */
void waiters_wake(void)
{
	static const uint64_t one = 1;
	struct waiter *w;

	LOCK_HELD();

	for (w = core.waiters; w; w = w->next) {
		if (__atomic_load_n(&w->kicked, __ATOMIC_SEQ_CST))
			continue;
		/* A lost one was written as it went: that thread is awake. */
		if (!ownfd_use(w->efd))
			continue;
		__atomic_store_n(&w->kicked, true, __ATOMIC_SEQ_CST);
		if (write(w->efd, &one, sizeof(one)) < 0 && errno == EBADF)
			ownfd_notice(w->efd); /* EAGAIN: already non-zero, the thread will wake */
		ownfd_done();
	}
}

static void leave(void *arg)
{
	struct wait_ctx *c = arg;

	if (!c->registered && !c->leader)
		return;
	core_lock();
	if (c->registered) {
		if (c->w.prev)
			c->w.prev->next = c->w.next;
		else
			core.waiters = c->w.next;
		if (c->w.next)
			c->w.next->prev = c->w.prev;
		core.nwaiters--;
		c->registered = false;
	}
	if (c->leader) {
		/* Someone else must watch the engine now. */
		__atomic_store_n(&core.leader, 0, __ATOMIC_RELEASE);
		c->leader = false;
		waiters_wake();
	}
	core_unlock();
}

/*
 * Called with core.lock held: the calling thread's eventfd, made when first needed and again
 * when the program closed it; -1 when there is no descriptor to spare (or no memory): the
 * thread waits all the same, looking again often.
 */
static int thread_efd(void)
{
	struct tstate *t = tstate_get();

	LOCK_HELD();

	if (!t)
		return -1;
	if (t->efd >= 0 && ownfd_lost(t->efd)) {
		ownfd_close(t->efd);
		t->efd = -1;
	}
	if (t->efd < 0) {
		t->efd = ownfd_new(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), true);
		if (t->efd < 0)
			t->efd = -1;
	}
	return t->efd;
}

static int enter(struct wait_ctx *c)
{
	core_lock();
	c->w.efd = thread_efd();
	c->w.prev = NULL;
	c->w.next = core.waiters;
	if (core.waiters)
		core.waiters->prev = &c->w;
	core.waiters = &c->w;
	core.nwaiters++;
	c->registered = true;
	core_unlock();
	return 0;
}

/*
 * ppoll() ended with EINTR: a handler ran. POSIX's sigaction() says an interruptible
 * function restarts when that handler was installed with SA_RESTART, and fails with EINTR
 * otherwise. Which signal it was cannot be known here, so restart only when every handler
 * the process has installed asks for it (crash handlers, such as a sanitizer's, aside); one
 * without SA_RESTART makes every interruption an EINTR, the safe side for a program that
 * relies on it.
 */
static bool is_fault(int sig)
{
	/* Raised by the faulting instruction itself: never what interrupts a sleep. */
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
	       sig == SIGTRAP || sig == SIGSYS || sig == SIGABRT;
}

static bool signals_restart(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (is_fault(sig) || sigaction(sig, NULL, &sa) < 0)
			continue; /* a signal the C library keeps to itself */
		if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
			continue;
		if (!(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

/* Time left until deadline in out; 0 when it has passed. */
int wait_time_left(const struct timespec *deadline, struct timespec *out)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	out->tv_sec = deadline->tv_sec - now.tv_sec;
	out->tv_nsec = deadline->tv_nsec - now.tv_nsec;
	if (out->tv_nsec < 0) {
		out->tv_nsec += 1000000000L;
		out->tv_sec--;
	}
	if (out->tv_sec < 0) {
		out->tv_sec = 0;
		out->tv_nsec = 0;
		return 0;
	}
	return 1;
}

/*
 * The one place a wait acts on pthread_cancel(): no lock is held here, and the cleanup
 * handler leaves the waiter list. Everywhere else in the wait cancellation is disabled, so
 * that the write() waking another waiter, made with core.lock held, never acts on it.
 */
static int wait_sleep(struct wait_ctx *c, struct pollfd *pfd, nfds_t n, const struct timespec *tsp)
{
	int ret, err;

	if (c->cancel_state == PTHREAD_CANCEL_ENABLE)
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	ret = ppoll(pfd, n, tsp, NULL);
	err = errno;
	if (c->cancel_state == PTHREAD_CANCEL_ENABLE)
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	errno = err;
	return ret;
}

static int wait_loop(struct wait_ctx *c, bool (*done)(void *arg), void *arg,
		     const struct timespec *deadline)
{
	for (;;) {
		struct timespec left, *tsp = NULL;
		struct pollfd pfd[5];
		nfds_t n = 1;
		int ret;

		reap(c->leader);
		if (done(arg))
			return 0;
		/* Before registering: a zero timeout needs no eventfd, no allocation. */
		if (deadline && !wait_time_left(deadline, &left))
			return -EAGAIN;
		if (!c->registered) {
			ret = enter(c);
			if (ret)
				return ret;
			continue; /* look again: a completion before we were listed woke nobody */
		}
		if (!c->leader) {
			int zero = 0;

			c->leader = __atomic_compare_exchange_n(&core.leader, &zero, 1, false,
								__ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
			if (c->leader)
				continue; /* reap once as the leader before sleeping */
		}
		if (c->w.efd >= 0 && ownfd_lost(c->w.efd)) {
			core_lock();
			c->w.efd = thread_efd();
			__atomic_store_n(&c->w.kicked, false, __ATOMIC_SEQ_CST); /* a new one */
			core_unlock();
			continue; /* woken by the loss: look again before sleeping */
		}
		pfd[0].fd = c->w.efd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		if (c->leader)
			n += (nfds_t)core.eng->pollfds(pfd + 1, 4);
		if (deadline) {
			if (!wait_time_left(deadline, &left))
				return -EAGAIN;
			tsp = &left;
		}
		if (__atomic_load_n(&core.sq_pending, __ATOMIC_RELAXED) || c->w.efd < 0 ||
		    (c->leader && core.eng->poll_short && core.eng->poll_short())) {
			/*
			 * Submissions wait for resources, or nothing can wake this thread: come
			 * back soon to look.
			 */
			static const struct timespec soon = { 0, 10000000L };

			if (!tsp || left.tv_sec > 0 || left.tv_nsec > soon.tv_nsec) {
				left = soon;
				tsp = &left;
			}
		}
		ret = wait_sleep(c, pfd, n, tsp);
		if (ret < 0 && errno == EINTR && !signals_restart())
			return -EINTR;
		if (ret > 0)
			pollfds_check(pfd, (int)n);
		if ((pfd[0].revents & POLLIN) && ownfd_use(c->w.efd)) {
			uint64_t v;

			if (read(c->w.efd, &v, sizeof(v)) < 0) {
				/* EAGAIN: another wake drained it first; nothing to do */
			}
			ownfd_done();
			__atomic_store_n(&c->w.kicked, false, __ATOMIC_SEQ_CST);
		}
	}
}

#define TIME_T_MAX ((time_t)((1ULL << (sizeof(time_t) * 8 - 1)) - 1))

/* The CLOCK_MONOTONIC time rel from now, in deadline. 0, or -EINVAL for a bad rel. */
int wait_deadline(const struct timespec *rel, struct timespec *deadline)
{
	if (rel->tv_sec < 0 || rel->tv_nsec < 0 || rel->tv_nsec >= 1000000000L)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, deadline);
	/* The largest timeouts saturate, a deadline that never comes, rather than overflow. */
	if (rel->tv_sec >= TIME_T_MAX - deadline->tv_sec) {
		deadline->tv_sec = TIME_T_MAX;
		deadline->tv_nsec = 999999999L;
		return 0;
	}
	deadline->tv_sec += rel->tv_sec;
	deadline->tv_nsec += rel->tv_nsec;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_nsec -= 1000000000L;
		deadline->tv_sec++;
	}
	return 0;
}

#if __TIMESIZE == 32
/* Read a struct __timespec64: 0, or -EINVAL for a bad one; seconds past time_t's saturate. */
int timespec_from_time64(const struct timespec_time64 *t, struct timespec *out)
{
	if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000L)
		return -EINVAL;
	out->tv_sec = t->tv_sec > TIME_T_MAX ? TIME_T_MAX : (time_t)t->tv_sec;
	out->tv_nsec = t->tv_nsec;
	return 0;
}
#endif

/*
 * aio_suspend() is async-signal-safe. A signal handler that interrupted this thread inside
 * the library (taking, holding or releasing one of its locks) must take none of them nor
 * reap: look, and nap, until done or the deadline. Only other threads can move requests on
 * meanwhile; the interrupted one does once the handler returns. Not a cancellation point
 * here: a cancellation acting in the handler would leave the interrupted frame's lock held.
 */
static int wait_in_handler(bool (*done)(void *arg), void *arg, const struct timespec *deadline)
{
	for (;;) {
		struct timespec left, nap = { 0, 1000000L };

		if (done(arg))
			return 0;
		if (deadline) {
			if (!wait_time_left(deadline, &left))
				return -EAGAIN;
			if (left.tv_sec == 0 && left.tv_nsec < nap.tv_nsec)
				nap = left;
		}
		if (nanosleep(&nap, NULL) < 0 && errno == EINTR && !signals_restart())
			return -EINTR;
	}
}

/*
 * Wait until done(arg) holds. 0, -EAGAIN when the deadline (from wait_deadline(), or NULL
 * for none) passed, -EINTR on a signal. A cancellation point. The calls on the way (an
 * eventfd read another wake drained first, the engine's rearm) may fail and leave errno set:
 * the exported calls give the program's back (errno_kept()).
 */
int wait_until(bool (*done)(void *arg), void *arg, const struct timespec *deadline)
{
	struct wait_ctx c = { .registered = false, .leader = false };

	if (core_inside()) {
		int cs = nocancel_begin(), ret = wait_in_handler(done, arg, deadline);

		nocancel_end(cs);
		return ret;
	}
	STAT_INC(waits);
	c.cancel_state = nocancel_begin();
	pthread_cleanup_push(leave, &c);
	c.ret = wait_loop(&c, done, arg, deadline);
	pthread_cleanup_pop(1);
	nocancel_end(c.cancel_state);
	return c.ret;
}

/* wait_until() with a timeout relative to now; -EINVAL for a bad one. */
int wait_for(bool (*done)(void *arg), void *arg, const struct timespec *rel_timeout)
{
	struct timespec deadline;
	int err;

	if (rel_timeout && (err = wait_deadline(rel_timeout, &deadline)))
		return err;
	return wait_until(done, arg, rel_timeout ? &deadline : NULL);
}

void wait_fork_child(void)
{
	core.waiters = NULL;
	core.nwaiters = 0;
	core.leader = 0;
}
