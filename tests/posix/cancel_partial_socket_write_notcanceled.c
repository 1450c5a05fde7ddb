/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A write that has already moved part of its data is not cancellable: aio_cancel of a
 * 4 MiB socket write under way (the peer read 64 KiB of it) answers AIO_NOTCANCELED, as
 * POSIX, glibc and FreeBSD do, and the write then completes whole once the peer drains it.
 */
#include "common.h"

#define SIZE (4 << 20)

static int test(void)
{
	static char out[SIZE], in[65536];
	static struct aiocb cb;
	size_t got = 0;
	int sv[2], ret;

	for (size_t i = 0; i < SIZE; i++)
		out[i] = (char)pattern_byte(i);
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	aiocb_prep(&cb, sv[0], out, SIZE, 0);
	EXPECT_OK(aio_write(&cb));
	read_all(sv[1], in, sizeof(in));
	got = sizeof(in);
	sleep_ms(50); /* let it fill the socket again */
	EXPECT(aio_error(&cb) == EINPROGRESS, "the 4 MiB write is not under way any more");
	ret = aio_cancel(sv[0], &cb);
	EXPECT(ret == AIO_NOTCANCELED,
	       "aio_cancel of a write that moved part of its data: expected AIO_NOTCANCELED (%d), "
	       "got %d (AIO_CANCELED %d, AIO_ALLDONE %d)", AIO_NOTCANCELED, ret, AIO_CANCELED,
	       AIO_ALLDONE);
	while (got < SIZE) {
		ssize_t n = read(sv[1], in, sizeof(in));

		EXPECT(n > 0, "reading the rest of the write: %s", n ? strerror(errno) : "EOF");
		for (ssize_t i = 0; i < n; i++)
			EXPECT(in[i] == (char)pattern_byte(got + (size_t)i), "byte %zu differs",
			       got + (size_t)i);
		got += (size_t)n;
		if (aio_error(&cb) != EINPROGRESS && got < SIZE &&
		    bytes_available(sv[1]) == 0)
			break;
	}
	expect_done_ok(&cb, SIZE, "the write, after its peer drained it");
	EXPECT(got == SIZE, "the peer got %zu bytes of %d", got, SIZE);
	return 0;
}

TEST_MAIN(test)
