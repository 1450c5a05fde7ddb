/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_readv()/aio_writev() with aio_iovcnt 0 complete with 0 bytes, as readv()/writev() and
 * FreeBSD's aio_readv()/aio_writev() do, on a file, a pipe (even an empty one) and a stream
 * socket.
 */
#include "ext.h"

static void zero(int rfd, int wfd, const char *what)
{
	struct iovec v[1] = { { NULL, 0 } };
	struct aiocb cb;
	char msg[80];

	aiocb_prep(&cb, wfd, v, 0, 0);
	EXPECT_OK(aio_writev(&cb));
	snprintf(msg, sizeof(msg), "aio_writev of 0 entries on %s", what);
	expect_done_ok(&cb, 0, msg);
	aiocb_prep(&cb, rfd, v, 0, 0);
	EXPECT_OK(aio_readv(&cb));
	snprintf(msg, sizeof(msg), "aio_readv of 0 entries on %s", what);
	expect_done_ok(&cb, 0, msg);
	/* No array at all: nothing is read from it. */
	aiocb_prep(&cb, rfd, NULL, 0, 0);
	EXPECT_OK(aio_readv(&cb));
	snprintf(msg, sizeof(msg), "aio_readv of 0 entries at NULL on %s", what);
	expect_done_ok(&cb, 0, msg);
}

static int test(void)
{
	int fd = tmp_file(O_RDWR), p[2], sv[2];

	SYSCHECK(pipe(p));
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	zero(fd, fd, "a file");
	zero(p[0], p[1], "a pipe");
	zero(sv[0], sv[1], "a stream socket");
	EXPECT(bytes_available(p[0]) == 0 && bytes_available(sv[0]) == 0,
	       "a 0-entry write put bytes in a pipe or socket");
	return 0;
}

TEST_MAIN(test)
