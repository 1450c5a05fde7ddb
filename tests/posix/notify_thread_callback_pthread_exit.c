/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A SIGEV_THREAD function may end its thread with pthread_exit (glibc runs each on a thread
 * of its own). After 20 that do, a normal callback still runs.
 */
#include "common.h"

#define EXITING 20

static atomic_int exited, normal;

static void exit_thread(union sigval v)
{
	(void)v;
	atomic_fetch_add(&exited, 1);
	pthread_exit(NULL);
}

static void count(union sigval v)
{
	(void)v;
	atomic_fetch_add(&normal, 1);
}

static void submit(struct aiocb *cb, int fd, char *buf, void (*fn)(union sigval))
{
	aiocb_prep(cb, fd, buf, 16, 0);
	cb->aio_sigevent.sigev_notify = SIGEV_THREAD;
	cb->aio_sigevent.sigev_notify_function = fn;
	EXPECT_OK(aio_read(cb));
}

static int test(void)
{
	static struct aiocb cbs[EXITING], last;
	static char buf[EXITING + 1][16];
	int fd = tmp_file_with(0, 4096, pattern_byte);

	for (int i = 0; i < EXITING; i++) {
		submit(&cbs[i], fd, buf[i], exit_thread);
		expect_done_ok(&cbs[i], 16, "a read whose callback calls pthread_exit");
	}
	EXPECT(wait_counter(&exited, EXITING, 5000), "%d of %d callbacks that exit ran",
	       atomic_load(&exited), EXITING);
	submit(&last, fd, buf[EXITING], count);
	expect_done_ok(&last, 16, "the read after them");
	EXPECT(wait_counter(&normal, 1, 5000),
	       "no callback runs after %d callbacks called pthread_exit", EXITING);
	return 0;
}

TEST_MAIN(test)
