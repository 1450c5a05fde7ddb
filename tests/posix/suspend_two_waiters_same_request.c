/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Several threads waiting in aio_suspend on the same pending request (and one waiting on a
 * list holding it among others) are all woken when it completes.
 */
#include "common.h"

#define NTHREADS 4

static struct aiocb r, other;
static atomic_int woken;

static void *waiter(void *arg)
{
	long id = (long)arg;
	const struct aiocb *one[1] = {&r};
	const struct aiocb *many[3] = {&other, NULL, &r};

	while (aio_error(&r) == EINPROGRESS) {
		if (id % 2)
			aio_suspend(many, 3, NULL);
		else
			aio_suspend(one, 1, NULL);
	}
	atomic_fetch_add(&woken, 1);
	return NULL;
}

static int test(void)
{
	char buf[16], obuf[16];
	pthread_t th[NTHREADS];
	int p[2], q[2];

	SYSCHECK(pipe(p));
	SYSCHECK(pipe(q));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	aiocb_prep(&other, q[0], obuf, sizeof(obuf), 0);
	EXPECT_OK(aio_read(&other));
	for (long i = 0; i < NTHREADS; i++)
		EXPECT(pthread_create(&th[i], NULL, waiter, (void *)i) == 0, "pthread_create");
	sleep_ms(30);
	EXPECT(atomic_load(&woken) == 0, "a waiter returned before the request completed");
	write_all(p[1], "go", 2);
	EXPECT(wait_counter(&woken, NTHREADS, WAIT_DONE_MS),
	       "%d of %d threads waiting on the same request were woken", atomic_load(&woken),
	       NTHREADS);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	expect_done_ok(&r, 2, "the shared request");
	expect_pending(&other, "the other request");
	write_all(q[1], "x", 1);
	expect_done_ok(&other, 1, "the other request");
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	return 0;
}

TEST_MAIN(test)
