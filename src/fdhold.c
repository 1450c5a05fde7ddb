/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Duplicates of the program's descriptors, held while requests wait in the library.
 *
 * POSIX has a request the caller does not cancel complete "as if the close() had not yet
 * occurred". Where the kernel holds no reference to the file while a request waits, the
 * library holds one: a duplicate of the program's descriptor, owned by the library (ownfd.c),
 * used for the request's transfers instead of the program's number, so a close() neither
 * strands the request nor sends it to another file that takes the number. The duplicate goes
 * above the numbers programs use (and select() sees), never at the lowest free number, which
 * the program's next open() is entitled to. With no descriptor to spare, the request uses the
 * program's number, as glibc does.
 *
 * Two ways to hold one. Requests of a file that wait for a helper thread (helpers.c) or for
 * a native AIO context slot (engine-kaio.c) share one duplicate per descriptor, counted
 * (fdhold_get(), fdhold_put()): a steady stream of writes to one file makes it once, not
 * once per request. A stream of the poll part (engine-poll.c) holds its own (fdhold_dup()),
 * registered in its epoll set, and lets go once its registration is removed.
 *
 * A shared duplicate serves only requests of the file it was made from: when the program
 * closed the number since (and may have opened another file there), a new request gets a
 * duplicate of its own instead, made from what the number names now. The interposed close()
 * and its kin (ownfd.c) count closes per number, hashed, without a lock; a count that moved
 * for another number with the same hash costs a duplicate, never a wrong file. A close by
 * raw system call is not seen, as for the rest of the library.
 *
 * The shared ones are guarded by core.lock.
 */
#include <fcntl.h>
#include <sys/resource.h>

#include "fdtab.h"
#include "internal.h"

struct shared_hold {
	int fd;		 /* the duplicate, while n > 0 */
	unsigned n;	 /* requests using it */
	unsigned closes; /* fdhold_closes() the number when it was made */
};

static int hold_min; /* where duplicates are placed */
static struct fdtab shared = FDTAB_INIT(struct shared_hold);

#define CLOSE_WORDS 64
static unsigned closes[CLOSE_WORDS]; /* atomic */

unsigned fdhold_closes(int fd)
{
	return __atomic_load_n(&closes[(unsigned)fd % CLOSE_WORDS], __ATOMIC_ACQUIRE);
}

/* Lock-free, async-signal-safe: the program is about to close the numbers lo to hi. */
void fdhold_closing(unsigned lo, unsigned hi)
{
	for (unsigned i = 0; i < CLOSE_WORDS && lo + i <= hi && lo + i >= lo; i++)
		__atomic_add_fetch(&closes[(lo + i) % CLOSE_WORDS], 1, __ATOMIC_RELEASE);
}

/* Above what programs use and select() can see, where the limit allows. */
void fdhold_init(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > 2048)
		hold_min = 1024;
	else
		hold_min = (int)(rl.rlim_cur / 2);
}

int fdhold_dup(int fd)
{
	int d = ownfd_new(fcntl(fd, F_DUPFD_CLOEXEC, hold_min), false);

	return d < 0 ? -1 : d;
}

int fdhold_get(int fd)
{
	struct shared_hold *h = fdtab_get(&shared, fd);
	unsigned c = fdhold_closes(fd);

	LOCK_HELD();

	if (!h)
		return -1;
	if (h->n && h->closes != c)
		return fdhold_dup(fd); /* the shared one may be another file's: one of its own */
	if (!h->n) {
		h->fd = fdhold_dup(fd);
		if (h->fd < 0)
			return -1;
		h->closes = c;
	}
	h->n++;
	return h->fd;
}

void fdhold_put(int fd, int held)
{
	struct shared_hold *h = fdtab_find(&shared, fd);

	LOCK_HELD();

	if (!h || !h->n || held != h->fd) {
		ownfd_close(held); /* its own */
		return;
	}
	if (--h->n == 0)
		ownfd_close(h->fd);
}

static void close_shared(void *entry, int fd, void *arg)
{
	struct shared_hold *h = entry;

	(void)fd;
	(void)arg;
	if (h->n)
		ownfd_close(h->fd);
}

/*
 * In a forked child, before fdhold_fork_child(): a request of the parent's held this
 * duplicate of fd. The child's copy goes, whether it is shared (with the rest, next) or the
 * request's own.
 */
void fdhold_fork_forget(int fd, int held)
{
	struct shared_hold *h = fdtab_find(&shared, fd);

	if (h && h->n && h->fd == held)
		return;
	ownfd_close(held);
}

void fdhold_fork_child(void)
{
	fdtab_each(&shared, close_shared, NULL);
	fdtab_clear(&shared);
}
