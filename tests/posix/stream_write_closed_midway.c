/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stream write the program's close() interrupts is finished or cancelled, never reported as
 * a short success. A 256 KiB aio_write goes to a socket with small buffers, so it moves in
 * pieces; once the first pieces went through, the program closes its descriptor and reads
 * the peer to the end. The write must end whole (256 KiB, all of it at the peer) or with
 * ECANCELED; a count between the two would tell the program its data went out when most of
 * it did not.
 */
#include "common.h"

#define LEN (256 * 1024)

static int test(void)
{
	static char out[LEN], in[LEN];
	int sv[2], small = 4096;
	size_t got = 0;
	struct aiocb w;
	int err;
	ssize_t ret;

	for (size_t i = 0; i < LEN; i++)
		out[i] = (char)pattern_byte(i);
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYSCHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)));
	SYSCHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)));
	aiocb_prep(&w, sv[0], out, LEN, 0);
	EXPECT_OK(aio_write(&w));
	/* Take a first piece, so the write is under way and waits for room. */
	while (got < 8192) {
		ssize_t n = read(sv[1], in + got, 8192 - got);

		EXPECT(n > 0, "read of the peer: %zd (%s)", n, errname(errno));
		got += (size_t)n;
	}
	sleep_ms(50);
	expect_pending(&w, "a 256 KiB write the peer has read 8 KiB of");
	SYSCHECK(close(sv[0]));
	for (;;) {
		struct timeval tv = { 1, 0 };
		ssize_t n;

		/* The write may be cancelled, and the other end then stays open with no data. */
		SYSCHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
		n = read(sv[1], in + got, LEN - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == LEN)
			break;
	}
	err = wait_done(&w, "the write after its descriptor was closed");
	ret = aio_return(&w);
	EXPECT((err == 0 && ret == LEN && got == LEN) || err == ECANCELED,
	       "aio_error %s, aio_return %zd, the peer got %zu of %d bytes: expected the whole "
	       "write, or ECANCELED",
	       errname(err), ret, got, LEN);
	EXPECT(!memcmp(in, out, got), "the peer received other bytes than were written");
	close(sv[1]);
	return 0;
}

TEST_MAIN(test)
