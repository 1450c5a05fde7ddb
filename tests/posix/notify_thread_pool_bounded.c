/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many SIGEV_THREAD notifications do not create a thread each: 2000 requests' functions run
 * in far fewer distinct threads (at most 64 thread ids seen), and the process never holds
 * more than 64 threads of its own meanwhile.
 */
#include "common.h"

#define NREQ 2000
#define LIMIT 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t tids[NREQ];
static int ntids;
static atomic_int calls;

static void on_done(union sigval v)
{
	pid_t tid = test_gettid();
	int known = 0;

	(void)v;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < ntids && !known; i++)
		known = tids[i] == tid;
	if (!known && ntids < NREQ)
		tids[ntids++] = tid;
	pthread_mutex_unlock(&lock);
	atomic_fetch_add(&calls, 1);
}

static int test(void)
{
	static struct aiocb cbs[NREQ];
	static char bufs[NREQ];
	int fd = tmp_file_with(0, NREQ, pattern_byte), max_threads = 0, workers;
	int64_t deadline;

	for (int i = 0; i < NREQ; i++) {
		aiocb_prep(&cbs[i], fd, &bufs[i], 1, i);
		cbs[i].aio_sigevent.sigev_notify = SIGEV_THREAD;
		cbs[i].aio_sigevent.sigev_notify_function = on_done;
		EXPECT_OK(aio_read(&cbs[i]));
		if (i % 100 == 0) {
			int n = count_threads(&workers, NULL, 0);

			max_threads = n > max_threads ? n : max_threads;
		}
	}
	deadline = now_ms() + 10000 * time_scale();
	while (atomic_load(&calls) < NREQ) {
		int n = count_threads(&workers, NULL, 0);

		max_threads = n > max_threads ? n : max_threads;
		EXPECT(now_ms() < deadline, "only %d of %d functions ran within 10 s",
		       atomic_load(&calls), NREQ);
		sleep_ms(2);
	}
	for (int i = 0; i < NREQ; i++)
		expect_done_ok(&cbs[i], 1, "a file read");
	printf("%d functions ran in %d distinct threads; at most %d threads seen at once\n", NREQ,
	       ntids, max_threads);
	EXPECT(ntids <= LIMIT,
	       "%d SIGEV_THREAD functions ran in %d distinct threads, expected at most %d (one "
	       "thread per notification?)",
	       NREQ, ntids, LIMIT);
	EXPECT(max_threads <= LIMIT + 1, "the process held %d threads, expected at most %d",
	       max_threads, LIMIT + 1);
	close(fd);
	return 0;
}

TEST_MAIN(test)
