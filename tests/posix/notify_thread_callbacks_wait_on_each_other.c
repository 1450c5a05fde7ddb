/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGEV_THREAD functions may wait for each other (glibc runs each on a thread of its own):
 * 20 callbacks meeting at a barrier of 20 all get through it.
 */
#include "common.h"

#define N 20

static pthread_barrier_t meet;
static atomic_int through;

static void meet_others(union sigval v)
{
	(void)v;
	pthread_barrier_wait(&meet);
	atomic_fetch_add(&through, 1);
}

static int test(void)
{
	static struct aiocb cbs[N];
	static char buf[N][16];
	int fd = tmp_file_with(0, 4096, pattern_byte);

	pthread_barrier_init(&meet, NULL, N);
	for (int i = 0; i < N; i++) {
		aiocb_prep(&cbs[i], fd, buf[i], 16, 0);
		cbs[i].aio_sigevent.sigev_notify = SIGEV_THREAD;
		cbs[i].aio_sigevent.sigev_notify_function = meet_others;
		EXPECT_OK(aio_read(&cbs[i]));
	}
	for (int i = 0; i < N; i++)
		expect_done_ok(&cbs[i], 16, "a read whose callback waits at the barrier");
	EXPECT(wait_counter(&through, N, 5000), "%d of %d callbacks got through a barrier of %d",
	       atomic_load(&through), N, N);
	return 0;
}

TEST_MAIN(test)
