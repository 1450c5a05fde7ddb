/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Four threads wait in aio_waitcomplete() while the main thread submits reads of a file and
 * of pipes: every completion goes to exactly one of them, none is lost. Each thread stops
 * when it is handed one of the final "stop" requests.
 */
#include "ext.h"

#define THREADS 4
#define FILE_READS 1500
#define PIPE_READS 500
#define TOTAL (FILE_READS + PIPE_READS + THREADS)

static struct aiocb cbs[TOTAL];
static char bufs[TOTAL][64];
static atomic_int seen[TOTAL];
static atomic_int failures;

static void *claimer(void *arg)
{
	(void)arg;
	for (;;) {
		struct aiocb *cb = NULL;
		ssize_t ret = aio_waitcomplete(&cb, NULL);
		long i;

		if (!cb) {
			if (ret == -1 && errno == EINTR)
				continue;
			atomic_fetch_add(&failures, 1);
			return NULL;
		}
		i = cb - cbs;
		if (i < 0 || i >= TOTAL) {
			atomic_fetch_add(&failures, 1);
			return NULL;
		}
		atomic_fetch_add(&seen[i], 1);
		if (ret != (i < FILE_READS ? 64 : 1))
			atomic_fetch_add(&failures, 1);
		if (i >= FILE_READS + PIPE_READS)
			return NULL;
	}
}

static int test(void)
{
	pthread_t t[THREADS];
	int fd = tmp_file_with(0, 64 * 64, pattern_byte);
	int p[2];

	SYSCHECK(pipe(p));
	/*
	 * Ask before the first request: until the process has called aio_waitcomplete() or
	 * posixaio_fd(), only its last 256 completions are kept for claiming, and the threads
	 * may not have started waiting by then.
	 */
	expect_nothing("before any request");
	for (int i = 0; i < THREADS; i++)
		EXPECT(pthread_create(&t[i], NULL, claimer, NULL) == 0, "pthread_create");
	for (int i = 0; i < FILE_READS + PIPE_READS; i++) {
		bool file = i < FILE_READS;

		aiocb_prep(&cbs[i], file ? fd : p[0], bufs[i], file ? 64 : 1,
			   file ? (off_t)(i % 64) * 64 : 0);
		EXPECT_OK(aio_read(&cbs[i]));
		if (!file)
			write_all(p[1], "x", 1);
	}
	/* Stop requests come after every other one is complete, so none is left behind. */
	for (int i = 0; i < FILE_READS + PIPE_READS; i++)
		while (aio_error(&cbs[i]) == EINPROGRESS)
			sleep_ms(1);
	for (int i = FILE_READS + PIPE_READS; i < TOTAL; i++) {
		aiocb_prep(&cbs[i], p[0], bufs[i], 1, 0);
		EXPECT_OK(aio_read(&cbs[i]));
		write_all(p[1], "s", 1);
		/* One stop each: the next waits until a thread took this one. */
		while (atomic_load(&seen[i]) == 0)
			sleep_ms(1);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	EXPECT(atomic_load(&failures) == 0, "%d claims failed or had a wrong result",
	       atomic_load(&failures));
	for (int i = 0; i < TOTAL; i++)
		EXPECT(atomic_load(&seen[i]) == 1, "request %d handed out %d times, expected once",
		       i, atomic_load(&seen[i]));
	expect_nothing("after all threads stopped");
	close(fd);
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
