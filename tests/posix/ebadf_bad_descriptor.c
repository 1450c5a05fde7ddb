/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_read and aio_write on -1 or on a closed descriptor fail with EBADF: either -1/EBADF from
 * the call or an accepted request that ends with aio_error EBADF and aio_return -1 (POSIX
 * allows both).
 */
#include "common.h"

static void expect_ebadf(int (*submit)(struct aiocb *), int fd, const char *what)
{
	char buf[16] = "data";
	struct aiocb cb;
	int ret;

	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	errno = 0;
	ret = submit(&cb);
	if (ret == -1) {
		EXPECT(errno == EBADF, "%s on fd %d: expected errno EBADF, got %s", what, fd,
		       errname(errno));
		return;
	}
	EXPECT(ret == 0, "%s on fd %d returned %d", what, fd, ret);
	expect_done_err(&cb, EBADF, what);
}

static int test(void)
{
	char buf[16];
	struct aiocb cb;
	int fd = tmp_file_with(0, 4096, pattern_byte), closed;

	/* Let the implementation open whatever it needs first, so the closed number stays free. */
	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(buf), "warm-up aio_read");
	SYSCHECK(closed = fcntl(fd, F_DUPFD, 777));
	close(closed);

	expect_ebadf(aio_read, -1, "aio_read");
	expect_ebadf(aio_write, -1, "aio_write");
	expect_ebadf(aio_read, closed, "aio_read");
	expect_ebadf(aio_write, closed, "aio_write");
	close(fd);
	return 0;
}

TEST_MAIN(test)
