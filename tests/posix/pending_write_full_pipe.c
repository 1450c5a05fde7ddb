/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_write on a full pipe returns at once and stays EINPROGRESS without changing the caller's
 * blocking mode; when the reader drains the pipe it completes with its full length, its bytes
 * whole and after what was there.
 */
#include "common.h"

#define LEN 8192

static int test(void)
{
	static char fill[1 << 20], data[LEN], got[LEN];
	struct aiocb w;
	size_t filled = 0;
	ssize_t n;
	int p[2], fl;

	SYSCHECK(pipe(p));
	SYSCHECK(fl = fcntl(p[1], F_GETFL));
	SYSCHECK(fcntl(p[1], F_SETFL, fl | O_NONBLOCK));
	memset(fill, 'f', sizeof(fill));
	while ((n = write(p[1], fill, sizeof(fill) - filled)) > 0)
		filled += (size_t)n;
	EXPECT(errno == EAGAIN, "filling the pipe: %s", strerror(errno));
	SYSCHECK(fcntl(p[1], F_SETFL, fl));

	for (int i = 0; i < LEN; i++)
		data[i] = (char)pattern_byte((size_t)i);
	aiocb_prep(&w, p[1], data, LEN, 0);
	EXPECT_OK(aio_write(&w));
	expect_pending(&w, "aio_write on a full pipe");
	EXPECT(fcntl(p[1], F_GETFL) == fl,
	       "F_GETFL changed while the write is pending: 0x%x, "
	       "was 0x%x",
	       fcntl(p[1], F_GETFL), fl);

	read_all(p[0], fill, filled);
	read_all(p[0], got, LEN);
	expect_done_ok(&w, LEN, "aio_write on a pipe once drained");
	EXPECT(memcmp(got, data, LEN) == 0, "the write's bytes arrived altered");
	EXPECT(fcntl(p[1], F_GETFL) == fl, "F_GETFL changed after the write");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
