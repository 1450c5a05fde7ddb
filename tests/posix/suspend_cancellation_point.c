/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_suspend is a cancellation point: pthread_cancel of a thread blocked in it on a pending
 * pipe read ends that thread. The read itself goes on and later completes.
 */
#include "common.h"

static struct aiocb r;
static pthread_barrier_t ready;
static atomic_int returned;

static void *waiter(void *arg)
{
	const struct aiocb *list[1] = {&r};

	(void)arg;
	/* pthread_barrier_wait is not a cancellation point: aio_suspend is the first one. */
	pthread_barrier_wait(&ready);
	aio_suspend(list, 1, NULL);
	atomic_store(&returned, 1);
	return (void *)1;
}

static int test(void)
{
	char buf[16];
	void *res;
	pthread_t th;
	int p[2];

	SYSCHECK(pipe(p));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	pthread_barrier_init(&ready, NULL, 2);
	EXPECT(pthread_create(&th, NULL, waiter, NULL) == 0, "pthread_create failed");
	pthread_barrier_wait(&ready);
	/* Most often it is blocked by now; if not, the cancel is acted upon when it gets there. */
	sleep_ms(20);
	EXPECT(pthread_cancel(th) == 0, "pthread_cancel failed");
	EXPECT(pthread_join(th, &res) == 0, "pthread_join failed");
	EXPECT(res == PTHREAD_CANCELED && !atomic_load(&returned),
	       "the thread blocked in aio_suspend was not cancelled (aio_suspend returned: %d)",
	       atomic_load(&returned));

	expect_pending(&r, "the read the cancelled thread waited for");
	write_all(p[1], "x", 1);
	expect_done_ok(&r, 1, "the read the cancelled thread waited for");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
