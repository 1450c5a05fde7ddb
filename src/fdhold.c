/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Duplicates of the program's descriptors, held while requests wait in the library.
 *
 * POSIX has a request the caller does not cancel complete "as if the close() had not yet
 * occurred". Where the kernel holds no reference to the file while a request waits, the
 * library holds one: a duplicate of the program's descriptor, owned by the library (ownfd.c),
 * used for the request's transfers instead of the program's number, so a close() neither
 * strands the request nor sends it to another file that takes the number. This is done by
 * the native AIO engine for requests waiting for a helper thread or a context slot
 * (engine-kaio.c), and by its poll part for requests waiting for readiness (engine-poll.c).
 * The duplicate goes above the numbers programs use (and select() sees), never at the lowest
 * free number, which the program's next open() is entitled to. With no descriptor to spare,
 * the request uses the program's number, as glibc does.
 *
 * How long each lives stays with its owner, because the two differ: the native AIO engine
 * shares one duplicate among every waiting request on a descriptor, counted, and lets go with
 * the last; a stream of the poll part has at most one read and one write waiting, holds one
 * duplicate while either does, has it registered in its epoll set, and lets go only once
 * both are done and the registration is removed.
 */
#include <fcntl.h>
#include <sys/resource.h>

#include "internal.h"

static int hold_min; /* where duplicates are placed */

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
