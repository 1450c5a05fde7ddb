/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_write to a pipe or socket whose reader is gone fails like write(2): with SIGPIPE ignored,
 * aio_error EPIPE and aio_return -1 (and the process lives on). Also a write pending on a full
 * pipe when the reader closes.
 */
#include "common.h"

#define BIG (1024 * 1024)

static void expect_epipe(int fd, void *buf, size_t len, const char *what)
{
	struct aiocb w;

	aiocb_prep(&w, fd, buf, len, 0);
	EXPECT_OK(aio_write(&w));
	expect_done_err(&w, EPIPE, what);
}

static int test(void)
{
	char *big = calloc(1, BIG);
	struct aiocb w;
	int p[2], sv[2];

	EXPECT(big, "malloc failed");
	signal(SIGPIPE, SIG_IGN);
	SYSCHECK(pipe(p));
	close(p[0]);
	expect_epipe(p[1], big, 16, "aio_write to a pipe with no reader");
	close(p[1]);

	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	close(sv[1]);
	expect_epipe(sv[0], big, 16, "aio_write to a socket whose peer closed");
	close(sv[0]);

	/* More than the pipe holds: pending until the reader goes away. */
	SYSCHECK(pipe(p));
	aiocb_prep(&w, p[1], big, BIG, 0);
	EXPECT_OK(aio_write(&w));
	expect_pending(&w, "a 1 MiB aio_write on a pipe nobody reads");
	close(p[0]);
	{
		int err = wait_done(&w, "the pending write after the reader closed");
		ssize_t ret = aio_return(&w);

		/* write(2) returns what it moved before the reader went, or EPIPE if nothing. */
		EXPECT((err == 0 && ret > 0 && ret < BIG) || (err == EPIPE && ret == -1),
		       "the pending write after the reader closed: aio_error %s, aio_return %zd; "
		       "expected a partial count or EPIPE",
		       errname(err), ret);
	}
	close(p[1]);
	free(big);
	return 0;
}

TEST_MAIN(test)
