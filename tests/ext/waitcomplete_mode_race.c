/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads of cached data finish inside aio_read(), and with nothing to notify they are kept
 * without a request. The first aio_waitcomplete() comes while four threads submit such reads.
 * Every read that began after it, and every one of the last 200 before it (the library keeps
 * the last few hundred completions nobody claimed, to hand out to a first call), is handed out
 * exactly once, unless aio_return() claimed it; no read is handed out twice, none that
 * aio_return() claimed is handed out at all, and each one handed out has its whole length.
 * The order of beginnings is a counter taken before each aio_read() and read by the main
 * thread once the first call returned. A process has one first call, so each round is a
 * child process of its own.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "ext.h"

#define THREADS 4
#define PER_THREAD 3000
#define TOTAL (THREADS * PER_THREAD)
#define LEN 512
#define ROUNDS 20
#define KEPT 200 /* fewer than the library keeps, with room for the threads in flight */

static struct aiocb cbs[TOTAL];
static char bufs[TOTAL][LEN];
static unsigned ticket_of[TOTAL]; /* the order aio_read() began in */
static bool returned[TOTAL]; /* claimed by aio_return() */
static atomic_int started, failures;
static atomic_uint tickets;
static int fd;

static void *submitter(void *arg)
{
	long t = (long)arg;

	for (int k = 0; k < PER_THREAD; k++) {
		int i = (int)t * PER_THREAD + k;

		aiocb_prep(&cbs[i], fd, bufs[i], LEN, (off_t)(i % 64) * LEN);
		ticket_of[i] = atomic_fetch_add(&tickets, 1);
		if (aio_read(&cbs[i]) != 0) {
			atomic_fetch_add(&failures, 1);
			continue;
		}
		/* Every seventh read the thread claims itself, once it is done. */
		if (k % 7 == 0) {
			while (aio_error(&cbs[i]) == EINPROGRESS)
				sleep_ms(1);
			returned[i] = aio_return(&cbs[i]) == LEN;
			if (!returned[i])
				atomic_fetch_add(&failures, 1);
		}
		atomic_fetch_add(&started, 1);
	}
	return NULL;
}

static void round_in_child(void)
{
	static int seen[TOTAL];
	pthread_t th[THREADS];
	struct aiocb *cb = NULL;
	int must = 0, got = 0;
	unsigned on;
	ssize_t ret;
	char warm[64 * LEN];

	EXPECT(pread(fd, warm, sizeof(warm), 0) == (ssize_t)sizeof(warm), "warming the cache");
	for (long t = 0; t < THREADS; t++)
		EXPECT(pthread_create(&th[t], NULL, submitter, (void *)t) == 0, "pthread_create");
	while (atomic_load(&started) < TOTAL / 4)
		sched_yield();
	/* Claim mode comes on here, in the middle of the submissions. */
	ret = waitcomplete_ms(&cb, 0);
	on = atomic_load(&tickets);
	if (cb)
		seen[cb - cbs]++;
	(void)ret;
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	EXPECT(atomic_load(&failures) == 0, "%d submissions or aio_return() calls failed",
	       atomic_load(&failures));

	for (int i = 0; i < TOTAL; i++)
		must += ticket_of[i] + KEPT >= on && !returned[i];
	/* Older reads may be handed out too. */
	for (;;) {
		long i;

		cb = NULL;
		ret = waitcomplete_ms(&cb, got < must ? WAIT_DONE_MS : 0);
		if (!cb) {
			EXPECT(ret == -1 && errno == EAGAIN, "aio_waitcomplete: %zd (%s)", ret,
			       errname(errno));
			break;
		}
		i = cb - cbs;
		EXPECT(i >= 0 && i < TOTAL, "aio_waitcomplete returned a foreign aiocb %p",
		       (void *)cb);
		EXPECT(ret == LEN, "read %ld: handed out with %zd, expected %d", i, ret, LEN);
		EXPECT(!returned[i], "read %ld was claimed by aio_return() and handed out again", i);
		seen[i]++;
		got += ticket_of[i] + KEPT >= on;
	}
	for (int i = 0; i < TOTAL; i++) {
		EXPECT(seen[i] <= 1, "read %d was handed out %d times", i, seen[i]);
		EXPECT(ticket_of[i] + KEPT < on || returned[i] || seen[i] == 1,
		       "read %d, begun %d reads before the first aio_waitcomplete() returned, was "
		       "never handed out (token %d/%d)", i, (int)on - (int)ticket_of[i],
		       cbs[i].__abs_prio, cbs[i].__policy);
	}
}

static int test(void)
{
	fd = tmp_file_with(0, 64 * LEN, pattern_byte);
	for (int round = 0; round < ROUNDS; round++) {
		int status;
		pid_t pid = fork();

		SYSCHECK(pid);
		if (pid == 0) {
			round_in_child();
			_exit(0);
		}
		SYSCHECK(waitpid(pid, &status, 0));
		EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		       "round %d failed (status %#x)", round, status);
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
