/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_read and aio_write of 0 bytes complete with 0, on a file and on an empty pipe. */
#include "common.h"

static int test(void)
{
	char buf[16] = "untouched";
	struct aiocb cb;
	struct stat st;
	int fd = tmp_file(O_RDWR), p[2];

	aiocb_prep(&cb, fd, buf, 0, 0);
	EXPECT_OK(aio_write(&cb));
	expect_done_ok(&cb, 0, "0-byte aio_write on a file");
	SYSCHECK(fstat(fd, &st));
	EXPECT(st.st_size == 0, "0-byte aio_write changed the file size to %lld",
	       (long long)st.st_size);

	aiocb_prep(&cb, fd, buf, 0, 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, 0, "0-byte aio_read on a file");

	/* read(2) of 0 bytes on an empty pipe returns 0 at once: so must the request. */
	SYSCHECK(pipe(p));
	aiocb_prep(&cb, p[0], buf, 0, 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, 0, "0-byte aio_read on an empty pipe");
	EXPECT(strcmp(buf, "untouched") == 0, "a 0-byte read changed the buffer");
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
