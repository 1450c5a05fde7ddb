/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_cancel on -1 or on a closed descriptor fails with -1/EBADF, with or without an aiocb. */
#include "common.h"

static void expect_ebadf(int fd, struct aiocb *cb, const char *what)
{
	int ret;

	errno = 0;
	ret = aio_cancel(fd, cb);
	EXPECT(ret == -1 && errno == EBADF, "aio_cancel(%s): expected -1/EBADF, got %d/%s", what,
	       ret, errname(errno));
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

	expect_ebadf(-1, NULL, "-1, NULL");
	expect_ebadf(closed, NULL, "closed fd, NULL");
	aiocb_prep(&cb, -1, buf, sizeof(buf), 0);
	expect_ebadf(-1, &cb, "-1, aiocb on -1");
	aiocb_prep(&cb, closed, buf, sizeof(buf), 0);
	expect_ebadf(closed, &cb, "closed fd, aiocb on it");
	close(fd);
	return 0;
}

TEST_MAIN(test)
