/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_cancel(fd, NULL) with no request outstanding on fd returns AIO_ALLDONE: on a descriptor
 * never used for AIO and on one whose requests all completed.
 */
#include "common.h"

static int test(void)
{
	char buf[64];
	struct aiocb cb;
	int fd = tmp_file_with(0, 4096, pattern_byte), p[2], ret;

	SYSCHECK(pipe(p));
	ret = aio_cancel(p[0], NULL);
	EXPECT(ret == AIO_ALLDONE,
	       "aio_cancel(fd, NULL) on a pipe never used for AIO: expected AIO_ALLDONE (%d), got "
	       "%d (errno %s)",
	       AIO_ALLDONE, ret, errname(errno));

	for (int i = 0; i < 4; i++) {
		aiocb_prep(&cb, fd, buf, sizeof(buf), i * 64);
		EXPECT_OK(aio_read(&cb));
		expect_done_ok(&cb, sizeof(buf), "aio_read of a file");
	}
	ret = aio_cancel(fd, NULL);
	EXPECT(ret == AIO_ALLDONE,
	       "aio_cancel(fd, NULL) after all its requests completed: expected AIO_ALLDONE (%d), "
	       "got %d (errno %s)",
	       AIO_ALLDONE, ret, errname(errno));
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
