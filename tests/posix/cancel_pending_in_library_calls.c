/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Only aio_suspend and lio_listio(LIO_WAIT) are cancellation points. A thread with a
 * cancellation pending (deferred type) that calls aio_write, aio_read, aio_error, aio_return,
 * aio_cancel, aio_fsync and lio_listio(LIO_NOWAIT) returns normally from each; the
 * cancellation acts at the next cancellation point, and other threads' AIO still works.
 *
 * Another thread waits in aio_suspend meanwhile, so a completion has a waiter to wake.
 */
#include "common.h"

static int fd;
static int pipefd[2];
static struct aiocb pending; /* a pipe read the suspended thread waits for */
static atomic_int step;
static pthread_barrier_t suspended;

static void *suspender(void *arg)
{
	const struct aiocb *list[1] = {&pending};

	(void)arg;
	pthread_barrier_wait(&suspended);
	while (aio_error(&pending) == EINPROGRESS)
		aio_suspend(list, 1, NULL);
	return NULL;
}

/* No cancellation point here: aio_error is not one. */
static void spin_done(struct aiocb *cb)
{
	while (aio_error(cb) == EINPROGRESS)
		sched_yield();
}

static void *victim(void *arg)
{
	static char wbuf[4096], rbuf[4096], lbuf[2][4096];
	static struct aiocb w, r, s, l[2];
	struct aiocb *list[2] = {&l[0], &l[1]};

	(void)arg;
	pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
	pthread_cancel(pthread_self());

	for (int round = 0; round < 50; round++) {
		aiocb_prep(&w, fd, wbuf, sizeof(wbuf), 0);
		if (aio_write(&w) != 0)
			return (void *)2;
		atomic_store(&step, 1);
		aiocb_prep(&r, fd, rbuf, sizeof(rbuf), 0);
		if (aio_read(&r) != 0)
			return (void *)2;
		atomic_store(&step, 2);
		spin_done(&w);
		spin_done(&r);
		atomic_store(&step, 3);
		aio_return(&w);
		aio_return(&r);
		atomic_store(&step, 4);
		aio_cancel(fd, NULL);
		atomic_store(&step, 5);
		aiocb_prep(&s, fd, NULL, 0, 0);
		if (aio_fsync(O_SYNC, &s) != 0)
			return (void *)2;
		spin_done(&s);
		aio_return(&s);
		atomic_store(&step, 6);
		for (int i = 0; i < 2; i++) {
			aiocb_prep(&l[i], fd, lbuf[i], sizeof(lbuf[i]), 4096 * (i + 1));
			l[i].aio_lio_opcode = i ? LIO_READ : LIO_WRITE;
		}
		if (lio_listio(LIO_NOWAIT, list, 2, NULL) != 0)
			return (void *)2;
		spin_done(&l[0]);
		spin_done(&l[1]);
		aio_return(&l[0]);
		aio_return(&l[1]);
		atomic_store(&step, 7);
	}
	pthread_testcancel();
	return (void *)1; /* the cancellation was lost */
}

static int test(void)
{
	static char pbuf[8], buf[64];
	struct aiocb cb;
	struct timespec ts;
	pthread_t s, v;
	void *res;
	int err;

	fd = tmp_file(O_RDWR);
	SYSCHECK(pipe(pipefd));
	aiocb_prep(&pending, pipefd[0], pbuf, sizeof(pbuf), 0);
	EXPECT_OK(aio_read(&pending));
	pthread_barrier_init(&suspended, NULL, 2);
	EXPECT(pthread_create(&s, NULL, suspender, NULL) == 0, "pthread_create failed");
	pthread_barrier_wait(&suspended);
	sleep_ms(20); /* let it sleep in aio_suspend */

	EXPECT(pthread_create(&v, NULL, victim, NULL) == 0, "pthread_create failed");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5 * time_scale();
	err = pthread_timedjoin_np(v, &res, &ts);
	EXPECT(err == 0,
	       "the thread with a cancellation pending hung in the library (after step %d)",
	       atomic_load(&step));
	EXPECT(res != (void *)2, "a submission failed in the thread with a cancellation pending");
	EXPECT(res != (void *)1, "the pending cancellation never acted at pthread_testcancel");
	EXPECT(atomic_load(&step) == 7,
	       "the thread was cancelled inside the library, after step %d of 7",
	       atomic_load(&step));

	/* Everyone else's AIO goes on. */
	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(buf), "a read after the cancelled thread");
	write_all(pipefd[1], "x", 1);
	expect_done_ok(&pending, 1, "the pipe read the other thread waits for");
	EXPECT(pthread_join(s, NULL) == 0, "pthread_join failed");
	return 0;
}

TEST_MAIN(test)
