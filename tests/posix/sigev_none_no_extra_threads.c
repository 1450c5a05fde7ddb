/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program that only uses SIGEV_NONE requests runs with no extra thread: after 1000 file
 * reads and 100 pipe reads (pending, then fed) completed, /proc/self/task lists the main
 * thread alone, and it did while the pipe reads were pending. Kernel io_uring workers
 * (iou-wrk-*) are not threads of the program and are not counted.
 */
#include "common.h"

#define NFILE 1000
#define NPIPE 100

static void expect_alone(const char *when)
{
	char names[4096];
	int workers, n = count_threads(&workers, names, sizeof(names));

	EXPECT(n == 1, "%s: %d threads (%s), expected the main thread alone", when, n, names);
	if (workers)
		printf("%s: %d kernel io_uring workers (not counted)\n", when, workers);
}

static int test(void)
{
	SKIP_UNDER_TSAN("the number of threads in the process");
	static struct aiocb f[NFILE], r[NPIPE];
	static char fbuf[NFILE][4], pbuf[NPIPE];
	int fd = tmp_file_with(0, NFILE * 4, pattern_byte), pipes[NPIPE][2];

	expect_alone("before any request");
	for (int i = 0; i < NFILE; i++) {
		aiocb_prep(&f[i], fd, fbuf[i], 4, (off_t)i * 4);
		EXPECT_OK(aio_read(&f[i]));
	}
	for (int i = 0; i < NFILE; i++)
		expect_done_ok(&f[i], 4, "a file read");
	for (int i = 0; i < NPIPE; i++) {
		SYSCHECK(pipe(pipes[i]));
		aiocb_prep(&r[i], pipes[i][0], &pbuf[i], 1, 0);
		EXPECT_OK(aio_read(&r[i]));
	}
	expect_pending(&r[0], "a pipe read");
	expect_alone("while 100 pipe reads are pending");
	for (int i = 0; i < NPIPE; i++) {
		write_all(pipes[i][1], "p", 1);
		expect_done_ok(&r[i], 1, "a pipe read");
	}
	expect_alone("after all requests completed");
	for (int i = 0; i < NPIPE; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
