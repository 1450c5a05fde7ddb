/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A pending aio_read on a pipe or socket completes with 0 (EOF) when the writer closes. */
#include "common.h"

static void pending_then_close(int rfd, int wfd, const char *what)
{
	char buf[64];
	struct aiocb r;

	aiocb_prep(&r, rfd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	expect_pending(&r, what);
	close(wfd);
	expect_done_ok(&r, 0, what);
	close(rfd);
}

static int test(void)
{
	int p[2], sv[2];

	SYSCHECK(pipe(p));
	pending_then_close(p[0], p[1], "pending aio_read on a pipe whose writer closed");
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pending_then_close(sv[0], sv[1], "pending aio_read on a socket whose peer closed");
	return 0;
}

TEST_MAIN(test)
