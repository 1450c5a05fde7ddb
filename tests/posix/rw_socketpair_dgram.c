/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_read and aio_write on a datagram socketpair keep datagram semantics: one read gets one
 * whole datagram, and a read with a smaller buffer gets the start of one datagram only.
 */
#include "common.h"

static void send_one(int fd, const char *msg)
{
	struct aiocb w;
	size_t len = strlen(msg);

	aiocb_prep(&w, fd, (void *)msg, len, 0);
	EXPECT_OK(aio_write(&w));
	expect_done_ok(&w, (ssize_t)len, "aio_write of a datagram");
}

static void recv_one(int fd, size_t bufsize, const char *want)
{
	char buf[128];
	struct aiocb r;

	memset(buf, 0, sizeof(buf));
	aiocb_prep(&r, fd, buf, bufsize, 0);
	EXPECT_OK(aio_read(&r));
	expect_done_ok(&r, (ssize_t)strlen(want), "aio_read of a datagram");
	EXPECT(strcmp(buf, want) == 0, "aio_read got \"%s\", expected \"%s\"", buf, want);
}

static int test(void)
{
	int sv[2];

	SYSCHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	send_one(sv[0], "first datagram");
	send_one(sv[0], "second");
	send_one(sv[0], "third datagram, longer than eight bytes");
	send_one(sv[0], "fourth");
	recv_one(sv[1], 100, "first datagram");
	recv_one(sv[1], 100, "second");
	/* The rest of a truncated datagram is discarded, as for read(2). */
	recv_one(sv[1], 8, "third da");
	recv_one(sv[1], 100, "fourth");

	send_one(sv[1], "the other way");
	recv_one(sv[0], 100, "the other way");
	close(sv[0]);
	close(sv[1]);
	return 0;
}

TEST_MAIN(test)
