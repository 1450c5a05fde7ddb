/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * On a zeroed aiocb that was never submitted, aio_error returns 0 and aio_return returns 0 (as
 * glibc does: they read the aiocb), also before any other AIO call in the process.
 */
#include "common.h"

static int test(void)
{
	struct aiocb cb;
	ssize_t ret;
	int err;

	memset(&cb, 0, sizeof(cb));
	err = aio_error(&cb);
	EXPECT(err == 0, "aio_error of a zeroed unsubmitted aiocb: expected 0, got %d (%s)", err,
	       errname(err));
	ret = aio_return(&cb);
	EXPECT(ret == 0, "aio_return of a zeroed unsubmitted aiocb: expected 0, got %zd", ret);

	/* The same once the implementation is in use. */
	char buf[8];
	struct aiocb used;
	int fd = tmp_file_with(0, 64, pattern_byte);

	aiocb_prep(&used, fd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&used));
	expect_done_ok(&used, sizeof(buf), "aio_read of a file");
	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = fd;
	err = aio_error(&cb);
	EXPECT(err == 0, "aio_error of a zeroed unsubmitted aiocb: expected 0, got %d (%s)", err,
	       errname(err));
	EXPECT(aio_return(&cb) == 0, "aio_return of a zeroed unsubmitted aiocb is not 0");
	close(fd);
	return 0;
}

TEST_MAIN(test)
