/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_suspend on a list of 1,000 entries (16 pending pipe reads spread among NULLs) returns
 * when any one of them completes: the last, the first, one in the middle.
 */
#include "common.h"

#define NPIPE 16
#define STRIDE 62
#define NLIST 1000

static int test(void)
{
	static struct aiocb r[NPIPE];
	static const struct aiocb *list[NLIST];
	static int pipes[NPIPE][2];
	char bufs[NPIPE];
	static const int order[] = {NPIPE - 1, 0, NPIPE / 2, 3};

	for (int i = 0; i < NPIPE; i++) {
		SYSCHECK(pipe(pipes[i]));
		aiocb_prep(&r[i], pipes[i][0], &bufs[i], 1, 0);
		EXPECT_OK(aio_read(&r[i]));
		list[i * STRIDE] = &r[i];
	}
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		int i = order[k];
		struct timespec ts = {5 * time_scale(), 0};

		write_all(pipes[i][1], "x", 1);
		EXPECT_OK(aio_suspend(list, NLIST, &ts));
		expect_done_ok(&r[i], 1, "the read that got data");
		list[i * STRIDE] = NULL;
	}
	for (int i = 0; i < NPIPE; i++) {
		if (list[i * STRIDE]) {
			EXPECT(aio_error(&r[i]) == EINPROGRESS, "read %d is no longer pending", i);
			write_all(pipes[i][1], "y", 1);
			expect_done_ok(&r[i], 1, "a read");
		}
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	return 0;
}

TEST_MAIN(test)
