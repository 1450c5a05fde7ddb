/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_cancel(fd, NULL) cancels every request pending on fd: with 4 reads pending on a pipe it
 * returns AIO_CANCELED and each reports ECANCELED; a read pending on another pipe is left
 * alone and later completes.
 */
#include "common.h"

#define NREQ 4

static int test(void)
{
	char bufs[NREQ][16], obuf[16];
	struct aiocb r[NREQ], other;
	int p[2], q[2], ret;

	SYSCHECK(pipe(p));
	SYSCHECK(pipe(q));
	for (int i = 0; i < NREQ; i++) {
		aiocb_prep(&r[i], p[0], bufs[i], sizeof(bufs[i]), 0);
		EXPECT_OK(aio_read(&r[i]));
	}
	aiocb_prep(&other, q[0], obuf, sizeof(obuf), 0);
	EXPECT_OK(aio_read(&other));
	for (int i = 0; i < NREQ; i++)
		EXPECT(aio_error(&r[i]) == EINPROGRESS, "read %d is not pending", i);

	ret = aio_cancel(p[0], NULL);
	EXPECT(ret == AIO_CANCELED,
	       "aio_cancel(fd, NULL) with %d reads pending: expected AIO_CANCELED (%d), got %d "
	       "(AIO_NOTCANCELED %d, AIO_ALLDONE %d)",
	       NREQ, AIO_CANCELED, ret, AIO_NOTCANCELED, AIO_ALLDONE);
	for (int i = 0; i < NREQ; i++) {
		int err = aio_error(&r[i]);

		EXPECT(err == ECANCELED, "read %d: expected ECANCELED, got %s", i, errname(err));
		EXPECT(aio_return(&r[i]) == -1, "read %d: aio_return is not -1", i);
	}
	expect_pending(&other, "the read on another pipe");

	write_all(p[1], "abc", 3);
	sleep_ms(20);
	EXPECT(bytes_available(p[0]) == 3, "a cancelled read consumed data written afterwards");
	write_all(q[1], "xyz", 3);
	expect_done_ok(&other, 3, "the read on another pipe");

	/* Nothing is left on fd now. */
	ret = aio_cancel(p[0], NULL);
	EXPECT(ret == AIO_ALLDONE, "aio_cancel(fd, NULL) again: expected AIO_ALLDONE (%d), got %d",
	       AIO_ALLDONE, ret);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	return 0;
}

TEST_MAIN(test)
