/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_read on a stream socket with nothing to read returns at once and stays EINPROGRESS; it
 * completes with the data when the peer sends it.
 */
#include "common.h"

static int test(void)
{
	static const char msg[] = "late data";
	char buf[64];
	struct aiocb r;
	int sv[2];

	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	memset(buf, 0, sizeof(buf));
	aiocb_prep(&r, sv[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	expect_pending(&r, "aio_read on an empty socket");
	write_all(sv[1], msg, sizeof(msg));
	expect_done_ok(&r, sizeof(msg), "aio_read after the peer sent data");
	EXPECT(memcmp(buf, msg, sizeof(msg)) == 0, "aio_read got \"%s\", expected \"%s\"", buf,
	       msg);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

TEST_MAIN(test)
