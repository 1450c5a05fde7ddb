/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cancelling one of several reads queued on a pipe leaves the others in their order: with
 * reads 0..3 queued, cancelling read 0 (the one served first) and read 2 makes read 1 get the
 * first message and read 3 the second.
 */
#include "common.h"

#define NREQ 4

static int test(void)
{
	char bufs[NREQ][16];
	struct aiocb r[NREQ];
	int p[2], ret;

	SYSCHECK(pipe(p));
	for (int i = 0; i < NREQ; i++) {
		memset(bufs[i], 0, sizeof(bufs[i]));
		aiocb_prep(&r[i], p[0], bufs[i], sizeof(bufs[i]), 0);
		EXPECT_OK(aio_read(&r[i]));
	}
	ret = aio_cancel(p[0], &r[0]);
	EXPECT(ret == AIO_CANCELED,
	       "aio_cancel of the first queued read: expected AIO_CANCELED "
	       "(%d), got %d",
	       AIO_CANCELED, ret);
	ret = aio_cancel(p[0], &r[2]);
	EXPECT(ret == AIO_CANCELED,
	       "aio_cancel of the third queued read: expected AIO_CANCELED "
	       "(%d), got %d",
	       AIO_CANCELED, ret);
	EXPECT(aio_error(&r[0]) == ECANCELED && aio_error(&r[2]) == ECANCELED,
	       "the cancelled reads do not report ECANCELED");
	expect_pending(&r[1], "the second read");
	expect_pending(&r[3], "the fourth read");

	write_all(p[1], "first", 5);
	expect_done_ok(&r[1], 5, "the second read (first left after the cancels)");
	EXPECT(memcmp(bufs[1], "first", 5) == 0, "the second read got \"%s\", expected \"first\"",
	       bufs[1]);
	expect_pending(&r[3], "the fourth read");
	write_all(p[1], "second", 6);
	expect_done_ok(&r[3], 6, "the fourth read");
	EXPECT(memcmp(bufs[3], "second", 6) == 0, "the fourth read got \"%s\", expected \"second\"",
	       bufs[3]);
	EXPECT(bufs[0][0] == 0 && bufs[2][0] == 0, "a cancelled read wrote into its buffer");
	EXPECT(aio_return(&r[0]) == -1 && aio_return(&r[2]) == -1,
	       "a cancelled read's aio_return is not -1");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
