/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_read and aio_write on a stream socketpair, in both directions. */
#include "common.h"

static void one_way(int from, int to, const char *msg)
{
	size_t len = strlen(msg) + 1;
	char buf[128];
	struct aiocb r, w;

	memset(buf, 0, sizeof(buf));
	aiocb_prep(&r, to, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	aiocb_prep(&w, from, (void *)msg, len, 0);
	EXPECT_OK(aio_write(&w));
	expect_done_ok(&w, (ssize_t)len, "aio_write on a stream socket");
	expect_done_ok(&r, (ssize_t)len, "aio_read on a stream socket");
	EXPECT(memcmp(buf, msg, len) == 0, "aio_read got \"%s\", expected \"%s\"", buf, msg);
}

static int test(void)
{
	int sv[2];

	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	one_way(sv[0], sv[1], "from the first socket to the second");
	one_way(sv[1], sv[0], "and back again");
	close(sv[0]);
	close(sv[1]);
	return 0;
}

TEST_MAIN(test)
