/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_read across end of file returns the bytes up to EOF; at or past EOF it returns 0. */
#include "common.h"

#define SIZE 1000

static void read_at(int fd, off_t off, size_t len, ssize_t want)
{
	char buf[4096], what[128];
	struct aiocb cb;

	memset(buf, 0x5a, sizeof(buf));
	aiocb_prep(&cb, fd, buf, len, off);
	snprintf(what, sizeof(what), "aio_read of %zu bytes at offset %lld of a %d-byte file", len,
		 (long long)off, SIZE);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, want, what);
	for (ssize_t i = 0; i < want; i++)
		EXPECT((unsigned char)buf[i] == pattern_byte((size_t)off + (size_t)i),
		       "%s: byte %zd differs from the file", what, i);
	EXPECT((unsigned char)buf[want] == 0x5a, "%s: wrote past the returned length", what);
}

static int test(void)
{
	int fd = tmp_file_with(0, SIZE, pattern_byte);

	read_at(fd, 0, 4000, SIZE);
	read_at(fd, 950, 100, 50);
	read_at(fd, 999, 10, 1);
	read_at(fd, SIZE, 100, 0);
	read_at(fd, 5000, 100, 0);
	close(fd);
	return 0;
}

TEST_MAIN(test)
