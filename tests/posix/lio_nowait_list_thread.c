/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio(LIO_NOWAIT) with a SIGEV_THREAD list sigevent runs the function exactly once,
 * with sigev_value, after every member completed.
 */
#include "common.h"

#define NREQ 8

static struct aiocb cbs[NREQ];
static atomic_int calls, early, bad_value;
static int token;

static void on_done(union sigval v)
{
	if (v.sival_ptr != &token)
		atomic_store(&bad_value, 1);
	for (int i = 0; i < NREQ; i++)
		if (aio_error(&cbs[i]) == EINPROGRESS)
			atomic_store(&early, i + 1);
	atomic_fetch_add(&calls, 1);
}

static int test(void)
{
	struct aiocb *list[NREQ];
	struct sigevent sev;
	char bufs[NREQ][8];
	int pipes[NREQ][2];

	for (int i = 0; i < NREQ; i++) {
		SYSCHECK(pipe(pipes[i]));
		aiocb_prep(&cbs[i], pipes[i][0], bufs[i], sizeof(bufs[i]), 0);
		cbs[i].aio_lio_opcode = LIO_READ;
		list[i] = &cbs[i];
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = on_done;
	sev.sigev_value.sival_ptr = &token;
	EXPECT_OK(lio_listio(LIO_NOWAIT, list, NREQ, &sev));

	for (int i = 0; i < NREQ; i++) {
		write_all(pipes[i][1], "x", 1);
		expect_done_ok(&cbs[i], 1, "a member read");
		if (i < NREQ - 1) {
			sleep_ms(5);
			EXPECT(atomic_load(&calls) == 0,
			       "the list function ran after %d of %d members completed", i + 1,
			       NREQ);
		}
	}
	EXPECT(wait_counter(&calls, 1, 2000), "the list function did not run within 2 s");
	sleep_ms(100);
	EXPECT(atomic_load(&calls) == 1, "expected the list function to run once, it ran %d times",
	       atomic_load(&calls));
	EXPECT(!atomic_load(&early), "when it ran, member %d was still in progress",
	       atomic_load(&early) - 1);
	EXPECT(!atomic_load(&bad_value), "the function got another sigev_value");
	for (int i = 0; i < NREQ; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	return 0;
}

TEST_MAIN(test)
