/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A write waits on a full socket with more queued behind it; the program closes the socket's
 * number and a new socket takes it; then a write for the new socket. When the waiting write
 * finally goes, the requests after it are issued from its completion: the one submitted for
 * the new socket must reach the new socket, never the old one the waiting write still held.
 * (The library keeps a served stream's duplicate and registration for the request that
 * follows; this checks that what it keeps follows the file, not the number.)
 *
 * Both ways of losing the number: dup2() over it, which the library sees, and the raw system
 * call, which it does not (the write for the new socket may then be cancelled instead).
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "common.h"

#define BIG 4096

/* Fill fd's socket until it takes no more; the bytes sent. */
static size_t fill(int fd)
{
	static char junk[BIG];
	size_t total = 0;
	ssize_t n;

	memset(junk, 'F', sizeof(junk));
	while ((n = send(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	EXPECT(n < 0 && errno == EAGAIN, "filling the socket: %s", strerror(errno));
	return total;
}

/* Everything fd's socket holds now, without waiting; counts of 'C' bytes in *c. */
static size_t drain(int fd, size_t *c)
{
	char buf[BIG];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			*c += buf[i] == 'C';
		total += (size_t)n;
	}
	return total;
}

static void round_trip(bool raw)
{
	static char one[BIG], two[16], three[16];
	const char *how = raw ? "raw close" : "dup2()";
	struct aiocb w1, w2, w3;
	size_t filled, got = 0, c_old = 0, c_new = 0;
	int a[2], b[2], err;

	memset(one, 'A', sizeof(one));
	memset(two, 'B', sizeof(two));
	memset(three, 'C', sizeof(three));
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, a));
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, b));
	filled = fill(a[0]);

	aiocb_prep(&w1, a[0], one, sizeof(one), 0);
	EXPECT_OK(aio_write(&w1));
	aiocb_prep(&w2, a[0], two, sizeof(two), 0);
	EXPECT_OK(aio_write(&w2));
	expect_pending(&w1, "a write to a full socket");

	/* The number now names the other socket. */
	if (raw) {
		SYSCHECK(syscall(SYS_close, a[0]));
		EXPECT(fcntl(b[0], F_DUPFD, a[0]) == a[0], "F_DUPFD did not give back %d", a[0]);
	} else {
		EXPECT(dup2(b[0], a[0]) == a[0], "dup2 onto %d: %s", a[0], strerror(errno));
	}
	aiocb_prep(&w3, a[0], three, sizeof(three), 0);
	EXPECT_OK(aio_write(&w3));

	/* Room on the old socket: the first write goes, and issues what follows. */
	while (got < filled + sizeof(one)) {
		size_t n = drain(a[1], &c_old);

		got += n;
		if (!n && aio_error(&w1) == EINPROGRESS) {
			const struct aiocb *l[1] = { &w1 };
			struct timespec ts = { 0, 10 * 1000000L };

			aio_suspend(l, 1, &ts);
		} else if (!n) {
			break;
		}
	}
	expect_done_ok(&w1, sizeof(one), "the write that waited on the old socket");
	err = wait_done(&w2, "the write queued behind it");
	EXPECT(err == 0 || err == ECANCELED, "%s: the queued write: aio_error %s", how,
	       errname(err));
	aio_return(&w2);
	/*
	 * Unseen, the reuse looks like the old socket's number naming another file: what was
	 * queued for the number is cancelled rather than sent there (close() allows it).
	 */
	err = wait_done(&w3, "the write for the new socket");
	EXPECT(err == 0 || (raw && err == ECANCELED), "%s: the write for the new socket: "
	       "aio_error %s", how, errname(err));
	EXPECT(aio_return(&w3) == (err ? -1 : (ssize_t)sizeof(three)),
	       "%s: the write for the new socket: a wrong count", how);

	drain(a[1], &c_old);
	drain(b[1], &c_new);
	EXPECT(c_old == 0, "%s: %zu bytes of the new socket's write reached the old socket", how,
	       c_old);
	EXPECT(c_new == (err ? 0 : sizeof(three)), "%s: the new socket got %zu of its write's "
	       "%zu bytes (aio_error %s)", how, c_new, sizeof(three), errname(err));
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static int test(void)
{
	round_trip(false);
	round_trip(true);
	return 0;
}

TEST_MAIN(test)
