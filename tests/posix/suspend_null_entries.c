/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_suspend ignores NULL entries of its list. */
#include "common.h"

static int test(void)
{
	char fbuf[64], pbuf[16];
	struct aiocb done, pending;
	struct timespec ts = {0, 20 * 1000000L};
	int fd = tmp_file_with(0, 4096, pattern_byte), p[2], ret;

	SYSCHECK(pipe(p));
	aiocb_prep(&done, fd, fbuf, sizeof(fbuf), 0);
	EXPECT_OK(aio_read(&done));
	EXPECT(wait_done(&done, "aio_read of a file") == 0, "aio_read of a file failed");
	aiocb_prep(&pending, p[0], pbuf, sizeof(pbuf), 0);
	EXPECT_OK(aio_read(&pending));

	const struct aiocb *with_done[5] = {NULL, NULL, &done, NULL, &pending};

	EXPECT_OK(aio_suspend(with_done, 5, NULL));

	const struct aiocb *only_pending[4] = {NULL, &pending, NULL, NULL};

	errno = 0;
	ret = aio_suspend(only_pending, 4, &ts);
	EXPECT(ret == -1 && errno == EAGAIN,
	       "aio_suspend on [NULL, pending, NULL, NULL] with a 20 ms timeout: expected "
	       "-1/EAGAIN, got %d/%s",
	       ret, errname(errno));

	write_all(p[1], "x", 1);
	EXPECT_OK(aio_suspend(only_pending, 4, NULL));
	EXPECT(aio_return(&pending) == 1, "the pipe read did not get its byte");
	EXPECT(aio_return(&done) == sizeof(fbuf), "the file read did not get its bytes");
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
