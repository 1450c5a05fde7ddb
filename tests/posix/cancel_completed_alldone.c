/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_cancel of a request that has completed returns AIO_ALLDONE and leaves its result alone,
 * before and after aio_return.
 */
#include "common.h"

static int test(void)
{
	char buf[64], msg[] = "done";
	struct aiocb cb;
	int fd = tmp_file_with(0, 4096, pattern_byte), p[2], ret;

	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	EXPECT(wait_done(&cb, "aio_read of a file") == 0, "aio_read of a file failed");
	ret = aio_cancel(fd, &cb);
	EXPECT(ret == AIO_ALLDONE,
	       "aio_cancel of a completed file read: expected AIO_ALLDONE "
	       "(%d), got %d",
	       AIO_ALLDONE, ret);
	EXPECT(aio_error(&cb) == 0, "aio_cancel changed the status of a completed request");
	EXPECT(aio_return(&cb) == sizeof(buf), "aio_cancel changed the result of a request");

	/* A completed pipe read, cancelled after its aio_return. */
	SYSCHECK(pipe(p));
	write_all(p[1], msg, sizeof(msg));
	aiocb_prep(&cb, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(msg), "aio_read of a pipe with data");
	ret = aio_cancel(p[0], &cb);
	EXPECT(ret == AIO_ALLDONE,
	       "aio_cancel of a completed and returned pipe read: expected "
	       "AIO_ALLDONE (%d), got %d",
	       AIO_ALLDONE, ret);
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
