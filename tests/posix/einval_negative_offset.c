/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A negative aio_offset on a regular file is EINVAL, for aio_read and aio_write: either -1 with
 * errno EINVAL from the call, or an accepted request that ends with aio_error EINVAL and
 * aio_return -1 (POSIX allows both). Nothing is written.
 */
#include "common.h"

static void expect_einval(int (*submit)(struct aiocb *), int fd, off_t off, const char *what)
{
	char buf[16] = "must not land";
	struct aiocb cb;
	int ret;

	aiocb_prep(&cb, fd, buf, sizeof(buf), off);
	errno = 0;
	ret = submit(&cb);
	if (ret == -1) {
		EXPECT(errno == EINVAL, "%s at offset %lld: expected errno EINVAL, got %s", what,
		       (long long)off, errname(errno));
		return;
	}
	EXPECT(ret == 0, "%s at offset %lld returned %d", what, (long long)off, ret);
	expect_done_err(&cb, EINVAL, what);
}

static int test(void)
{
	int fd = tmp_file_with(0, 4096, pattern_byte);
	struct stat st;

	expect_einval(aio_read, fd, -1, "aio_read");
	expect_einval(aio_read, fd, -4096, "aio_read");
	expect_einval(aio_write, fd, -1, "aio_write");
	expect_einval(aio_write, fd, -4096, "aio_write");
	SYSCHECK(fstat(fd, &st));
	EXPECT(st.st_size == 4096, "the file size changed to %lld", (long long)st.st_size);
	close(fd);
	return 0;
}

TEST_MAIN(test)
