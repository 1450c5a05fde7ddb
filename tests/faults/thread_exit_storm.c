/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Threads that submit and exit at once, round after round for a few seconds, while other
 * threads wait on their requests: each round 16 short-lived threads leave a pipe read and a
 * file read pending (some with SIGEV_THREAD), two waiter threads wait on all of them with
 * aio_suspend, and the main thread feeds the pipes. Every request completes once with its
 * data, none ECANCELED (io_uring cancels a dead thread's requests; the library must not let
 * that show).
 */
#include "faults.h"

#define NTHREADS 16
#define RUN_MS 3000
#define CHUNK 16

struct job {
	int p[2];
	struct aiocb pr, fr;
	char pbuf[CHUNK], fbuf[CHUNK];
	atomic_int notified;
};

static struct job jobs[NTHREADS];
static int fd;
static long round_no;

static void on_done(union sigval v)
{
	atomic_fetch_add(&((struct job *)v.sival_ptr)->notified, 1);
}

static void *submit_and_exit(void *arg)
{
	struct job *j = arg;
	long i = j - jobs;

	aiocb_prep(&j->pr, j->p[0], j->pbuf, CHUNK, 0);
	aiocb_prep(&j->fr, fd, j->fbuf, CHUNK, (off_t)(((round_no + i) % NTHREADS) * CHUNK));
	if ((round_no + i) % 4 == 0) {
		j->pr.aio_sigevent.sigev_notify = SIGEV_THREAD;
		j->pr.aio_sigevent.sigev_notify_function = on_done;
		j->pr.aio_sigevent.sigev_value.sival_ptr = j;
	}
	if (aio_read(&j->pr) != 0 || aio_read(&j->fr) != 0)
		return (void *)1;
	return NULL;
}

/* Waits until every request of the round is done. */
static void *waiter(void *arg)
{
	const struct aiocb *list[2 * NTHREADS];
	int64_t deadline = now_ms() + WAIT_DONE_MS;

	(void)arg;
	for (;;) {
		int n = 0;

		for (int i = 0; i < NTHREADS; i++) {
			if (aio_error(&jobs[i].pr) == EINPROGRESS)
				list[n++] = &jobs[i].pr;
			if (aio_error(&jobs[i].fr) == EINPROGRESS)
				list[n++] = &jobs[i].fr;
		}
		if (n == 0)
			return NULL;
		if (now_ms() > deadline)
			return (void *)"requests still in progress";
		struct timespec ts = {0, 100 * 1000000L};

		if (aio_suspend(list, n, &ts) == -1 && errno != EAGAIN && errno != EINTR)
			return (void *)"aio_suspend failed";
	}
}

static void one_round(void)
{
	pthread_t th[NTHREADS], w[2];

	for (int i = 0; i < NTHREADS; i++) {
		atomic_store(&jobs[i].notified, 0);
		EXPECT(pthread_create(&th[i], NULL, submit_and_exit, &jobs[i]) == 0,
		       "pthread_create failed");
	}
	for (int i = 0; i < NTHREADS; i++) {
		void *res;

		pthread_join(th[i], &res);
		EXPECT(res == NULL, "round %ld: thread %d could not submit", round_no, i);
	}
	for (int k = 0; k < 2; k++)
		EXPECT(pthread_create(&w[k], NULL, waiter, NULL) == 0, "pthread_create failed");
	for (int i = 0; i < NTHREADS; i++) {
		char msg[CHUNK];
		int len = snprintf(msg, sizeof(msg), "r%ld j%d", round_no % 10000, i);

		write_all(jobs[i].p[1], msg, (size_t)len);
		expect_done_ok(&jobs[i].pr, len, "a pipe read whose thread exited");
		EXPECT(memcmp(jobs[i].pbuf, msg, (size_t)len) == 0,
		       "round %ld: pipe read %d got other data", round_no, i);
	}
	for (int k = 0; k < 2; k++) {
		void *res;

		pthread_join(w[k], &res);
		EXPECT(res == NULL, "round %ld: waiter: %s", round_no, (const char *)res);
	}
	for (int i = 0; i < NTHREADS; i++) {
		size_t off = (size_t)(((round_no + i) % NTHREADS) * CHUNK);

		expect_done_ok(&jobs[i].fr, CHUNK, "a file read whose thread exited");
		EXPECT((unsigned char)jobs[i].fbuf[3] == pattern_byte(off + 3),
		       "round %ld: file read %d got other bytes", round_no, i);
		if ((round_no + i) % 4 == 0)
			EXPECT(wait_counter(&jobs[i].notified, 1, WAIT_DONE_MS),
			       "round %ld: pipe read %d never notified", round_no, i);
	}
}

static int test(void)
{
	int64_t end;

	fd = tmp_file_with(0, NTHREADS * CHUNK * 2, pattern_byte);
	for (int i = 0; i < NTHREADS; i++)
		SYSCHECK(pipe(jobs[i].p));
	end = now_ms() + RUN_MS;
	for (round_no = 0; now_ms() < end; round_no++)
		one_round();
	sleep_ms(10);
	for (int i = 0; i < NTHREADS; i++)
		EXPECT(atomic_load(&jobs[i].notified) <= 1, "a request was notified %d times",
		       atomic_load(&jobs[i].notified));
	printf("%ld rounds of %d threads\n", round_no, NTHREADS);
	return 0;
}

TEST_MAIN(test)
