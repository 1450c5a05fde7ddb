/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A second aio_return on the same completed aiocb returns the same value as the first. */
#include "common.h"

static int test(void)
{
	char buf[64];
	struct aiocb cb;
	int fd = tmp_file_with(0, 100, pattern_byte);
	ssize_t first, second;

	aiocb_prep(&cb, fd, buf, sizeof(buf), 50);
	EXPECT_OK(aio_read(&cb));
	wait_done(&cb, "aio_read of a file");
	first = aio_return(&cb);
	second = aio_return(&cb);
	EXPECT(first == 50, "first aio_return: expected 50, got %zd", first);
	EXPECT(second == first, "second aio_return: expected %zd like the first, got %zd", first,
	       second);
	EXPECT(aio_return(&cb) == first, "third aio_return differs");
	close(fd);
	return 0;
}

TEST_MAIN(test)
