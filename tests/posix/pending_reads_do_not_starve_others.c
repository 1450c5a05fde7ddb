/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads pending on many pipes do not hold up other requests: with 200 reads pending on 200
 * pipes (more than any sensible pool of blocking threads), a file read and a write submitted
 * afterwards complete, and so does a read on yet another pipe that has data.
 */
#include "common.h"

#define NPIPE 200

static int test(void)
{
	static struct aiocb r[NPIPE];
	static char pbuf[NPIPE];
	static int pipes[NPIPE][2];
	char fbuf[64], wbuf[64] = "written", obuf[8];
	struct aiocb fr, fw, other;
	int fd = tmp_file_with(0, 4096, pattern_byte), q[2];

	for (int i = 0; i < NPIPE; i++) {
		SYSCHECK(pipe(pipes[i]));
		aiocb_prep(&r[i], pipes[i][0], &pbuf[i], 1, 0);
		EXPECT_OK(aio_read(&r[i]));
	}
	aiocb_prep(&fr, fd, fbuf, sizeof(fbuf), 0);
	EXPECT_OK(aio_read(&fr));
	aiocb_prep(&fw, fd, wbuf, sizeof(wbuf), 8192);
	EXPECT_OK(aio_write(&fw));
	SYSCHECK(pipe(q));
	write_all(q[1], "ready", 5);
	aiocb_prep(&other, q[0], obuf, sizeof(obuf), 0);
	EXPECT_OK(aio_read(&other));

	expect_done_ok(&fr, sizeof(fbuf), "a file read behind 200 pending pipe reads");
	expect_done_ok(&fw, sizeof(wbuf), "a file write behind 200 pending pipe reads");
	expect_done_ok(&other, 5, "a pipe read with data behind 200 pending pipe reads");
	for (int i = 0; i < NPIPE; i++)
		EXPECT(aio_error(&r[i]) == EINPROGRESS, "pipe read %d is no longer pending", i);
	for (int i = 0; i < NPIPE; i++) {
		write_all(pipes[i][1], "p", 1);
		expect_done_ok(&r[i], 1, "a pipe read");
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	close(q[0]);
	close(q[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
