/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_error after aio_return still reports the request's final status (as glibc does): 0 for
 * a success, the errno for a failure.
 */
#include "common.h"

static int test(void)
{
	char buf[64];
	struct aiocb ok, bad;
	int fd = tmp_file_with(0, 4096, pattern_byte), err;

	aiocb_prep(&ok, fd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&ok));
	expect_done_ok(&ok, sizeof(buf), "aio_read of a file");
	err = aio_error(&ok);
	EXPECT(err == 0, "aio_error after aio_return of a success: expected 0, got %d (%s)", err,
	       errname(err));

	/* read(2) of a directory fails with EISDIR: a request that fails when it runs. */
	int dir = open(tmp_dir(), O_RDONLY | O_DIRECTORY);

	SYSCHECK(dir);
	aiocb_prep(&bad, dir, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&bad));
	expect_done_err(&bad, EISDIR, "aio_read of a directory");
	err = aio_error(&bad);
	EXPECT(err == EISDIR,
	       "aio_error after aio_return of a failure: expected EISDIR, got %d (%s)", err,
	       errname(err));
	close(dir);
	close(fd);
	return 0;
}

TEST_MAIN(test)
