/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_fsync on one descriptor waits only for that descriptor's requests: a pipe read pending
 * (forever, until this test writes) does not hold back writes and an fsync on a file.
 */
#include "common.h"

static int test(void)
{
	char pbuf[16], wbuf[4096];
	struct aiocb r, w, f;
	int fd = tmp_file(O_RDWR), p[2];

	SYSCHECK(pipe(p));
	aiocb_prep(&r, p[0], pbuf, sizeof(pbuf), 0);
	EXPECT_OK(aio_read(&r));

	memset(wbuf, 'f', sizeof(wbuf));
	aiocb_prep(&w, fd, wbuf, sizeof(wbuf), 0);
	EXPECT_OK(aio_write(&w));
	aiocb_prep(&f, fd, NULL, 0, 0);
	EXPECT_OK(aio_fsync(O_SYNC, &f));
	expect_done_ok(&f, 0, "aio_fsync on a file while a pipe read is pending");
	expect_done_ok(&w, sizeof(wbuf), "aio_write before the fsync");
	expect_pending(&r, "the pipe read");

	aiocb_prep(&f, fd, NULL, 0, 0);
	EXPECT_OK(aio_fsync(O_DSYNC, &f));
	expect_done_ok(&f, 0, "aio_fsync(O_DSYNC) on a file while a pipe read is pending");

	write_all(p[1], "x", 1);
	expect_done_ok(&r, 1, "the pipe read");
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
