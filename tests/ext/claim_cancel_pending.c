/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * posixaio_fd() is no cancellation point, and aio_waitcomplete() is one only while it sleeps.
 * A thread with a cancellation pending (deferred type) that calls posixaio_fd(), claims
 * completions with aio_waitcomplete() and a zero timeout (a poll: no sleep), and reads
 * results with aio_return() while completions are listed for claiming returns normally
 * from each; the cancellation acts at its next cancellation point, and other threads' AIO
 * goes on. (Each of these updates the eventfd of posixaio_fd() with write(2) or read(2),
 * cancellation points, while holding the library's lock.)
 */
#include "ext.h"

static int fd;
static atomic_int step;

static void spin_done(struct aiocb *cb)
{
	while (aio_error(cb) == EINPROGRESS)
		sched_yield();
}

static void *victim(void *arg)
{
	static char buf[8][512];
	static struct aiocb cbs[8];
	struct timespec zero = { 0, 0 };

	(void)arg;
	pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
	pthread_cancel(pthread_self());
	for (int round = 0; round < 50; round++) {
		struct aiocb *cb;

		/* Completed and unclaimed: posixaio_fd() arms its eventfd for them. */
		for (int i = 0; i < 8; i++) {
			aiocb_prep(&cbs[i], fd, buf[i], 512, 512 * i);
			if (aio_read(&cbs[i]) != 0)
				return (void *)2;
			spin_done(&cbs[i]);
		}
		atomic_store(&step, 1);
		if (posixaio_fd() < 0)
			return (void *)2;
		atomic_store(&step, 2);
		/* Half claimed by aio_waitcomplete, half by aio_return: the list empties. */
		for (int i = 0; i < 4; i++) {
			if (aio_waitcomplete(&cb, &zero) < 0 && errno != EAGAIN)
				return (void *)2;
		}
		atomic_store(&step, 3);
		for (int i = 0; i < 8; i++)
			aio_return(&cbs[i]);
		while (aio_waitcomplete(&cb, &zero) >= 0 || errno != EAGAIN)
			;
		atomic_store(&step, 4);
	}
	pthread_testcancel();
	return (void *)1; /* the cancellation was lost */
}

static int test(void)
{
	static char buf[64];
	struct aiocb cb;
	struct timespec ts;
	pthread_t v;
	void *res;
	int err;

	fd = tmp_file_with(0, 8 * 512, pattern_byte);
	EXPECT(pthread_create(&v, NULL, victim, NULL) == 0, "pthread_create failed");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5 * time_scale();
	err = pthread_timedjoin_np(v, &res, &ts);
	EXPECT(err == 0, "the thread with a cancellation pending hung in the library (after step %d)",
	       atomic_load(&step));
	EXPECT(res != (void *)2, "a call failed in the thread with a cancellation pending");
	EXPECT(res != (void *)1, "the pending cancellation never acted at pthread_testcancel");
	EXPECT(atomic_load(&step) == 4, "the thread was cancelled inside the library, after step %d",
	       atomic_load(&step));

	/* Everyone else's AIO goes on. */
	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(buf), "a read after the cancelled thread");
	return 0;
}

TEST_MAIN(test)
