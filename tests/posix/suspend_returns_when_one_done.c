/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_suspend returns 0 without waiting when one request of its list is already done, even if
 * the others are pending (with no timeout, and with a long timeout it must not use up), and
 * returns 0 as soon as a pending one completes.
 */
#include "common.h"

static int p[2];

static void *late_writer(void *arg)
{
	(void)arg;
	sleep_ms(30);
	write_all(p[1], "late", 4);
	return NULL;
}

static int test(void)
{
	char fbuf[64], pbuf[16];
	struct aiocb done, pending;
	const struct aiocb *list[2] = {&pending, &done};
	struct timespec ts = {3 * time_scale(), 0};
	int fd = tmp_file_with(0, 4096, pattern_byte);
	pthread_t th;

	SYSCHECK(pipe(p));
	aiocb_prep(&pending, p[0], pbuf, sizeof(pbuf), 0);
	EXPECT_OK(aio_read(&pending));
	aiocb_prep(&done, fd, fbuf, sizeof(fbuf), 0);
	EXPECT_OK(aio_read(&done));
	EXPECT(wait_done(&done, "aio_read of a file") == 0, "aio_read of a file failed");

	EXPECT_OK(aio_suspend(list, 2, NULL));
	EXPECT_OK(aio_suspend(list, 2, &ts));
	EXPECT(aio_error(&pending) == EINPROGRESS, "the pipe read is no longer pending");
	EXPECT(aio_return(&done) == sizeof(fbuf), "aio_return of the file read is wrong");

	/* Only the pending one listed: aio_suspend returns when it completes. */
	EXPECT(pthread_create(&th, NULL, late_writer, NULL) == 0, "pthread_create failed");
	EXPECT_OK(aio_suspend(list, 1, &ts));
	pthread_join(th, NULL);
	EXPECT(aio_error(&pending) == 0, "aio_suspend returned 0 but the read is not done");
	EXPECT(aio_return(&pending) == 4, "the pipe read did not get 4 bytes");
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
