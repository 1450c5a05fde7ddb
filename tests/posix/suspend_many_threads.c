/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many threads each blocked in aio_suspend on their own pending pipe read are each woken when
 * their own data arrives, and only then (data is sent in reverse order, one pipe at a time).
 */
#include "common.h"

#define NTHREADS 16

struct waiter {
	pthread_t th;
	int p[2];
	char buf[32];
	struct aiocb r;
	atomic_int woken;
	int err;
};

static struct waiter w[NTHREADS];

static void *wait_one(void *arg)
{
	struct waiter *me = arg;
	const struct aiocb *list[1] = {&me->r};

	while (aio_error(&me->r) == EINPROGRESS)
		if (aio_suspend(list, 1, NULL) == -1 && errno != EINTR)
			break;
	me->err = aio_error(&me->r);
	atomic_store(&me->woken, 1);
	return NULL;
}

static int test(void)
{
	for (int i = 0; i < NTHREADS; i++) {
		SYSCHECK(pipe(w[i].p));
		aiocb_prep(&w[i].r, w[i].p[0], w[i].buf, sizeof(w[i].buf), 0);
		EXPECT_OK(aio_read(&w[i].r));
		EXPECT(pthread_create(&w[i].th, NULL, wait_one, &w[i]) == 0,
		       "pthread_create failed");
	}
	for (int i = NTHREADS - 1; i >= 0; i--) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "for thread %d", i);

		for (int j = 0; j <= i; j++)
			EXPECT(!atomic_load(&w[j].woken),
			       "thread %d left aio_suspend before its data was written", j);
		write_all(w[i].p[1], msg, (size_t)len);
		EXPECT(wait_counter(&w[i].woken, 1, WAIT_DONE_MS),
		       "thread %d was not woken within %d ms of its data arriving", i,
		       WAIT_DONE_MS);
		pthread_join(w[i].th, NULL);
		EXPECT(w[i].err == 0, "thread %d: aio_error %s", i, errname(w[i].err));
		EXPECT(aio_return(&w[i].r) == len && memcmp(w[i].buf, msg, (size_t)len) == 0,
		       "thread %d got other data", i);
	}
	for (int i = 0; i < NTHREADS; i++) {
		close(w[i].p[0]);
		close(w[i].p[1]);
	}
	return 0;
}

TEST_MAIN(test)
