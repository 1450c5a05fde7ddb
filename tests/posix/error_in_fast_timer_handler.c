/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_error and aio_return are async-signal-safe: a timer firing every 100 us whose handler
 * calls them on live aiocbs never deadlocks the thread it interrupts, while that thread
 * submits and reaps thousands of requests.
 */
#include <sys/time.h>

#include "common.h"

/* tests/ext/claim_return_in_fast_timer_handler.c runs this with the library in claim mode. */
#ifndef BEFORE_TIMER
#define BEFORE_TIMER() ((void)0)
#endif

#define BATCH 8
#define ROUNDS 10000

static struct aiocb cbs[BATCH];
static atomic_int ticks;

static void tick(int sig)
{
	int saved = errno;

	(void)sig;
	for (int i = 0; i < BATCH; i++)
		if (aio_error(&cbs[i]) != EINPROGRESS)
			aio_return(&cbs[i]);
	atomic_fetch_add(&ticks, 1);
	errno = saved;
}

static int test(void)
{
	static char buf[BATCH][512];
	struct itimerval it = {{0, 100}, {0, 100}}, off = {{0, 0}, {0, 0}};
	int fd = tmp_file_with(0, 65536, pattern_byte);

	BEFORE_TIMER();
	install_handler(SIGALRM, tick, SA_RESTART);
	SYSCHECK(setitimer(ITIMER_REAL, &it, NULL));
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < BATCH; i++) {
			aiocb_prep(&cbs[i], fd, buf[i], sizeof(buf[i]),
				   (off_t)((round * BATCH + i) % 128) * 512);
			EXPECT_OK(aio_read(&cbs[i]));
		}
		for (int i = 0; i < BATCH; i++) {
			int err;

			while ((err = aio_error(&cbs[i])) == EINPROGRESS)
				;
			EXPECT(err == 0, "read %d of round %d failed: %s", i, round, errname(err));
			EXPECT(aio_return(&cbs[i]) == sizeof(buf[i]), "read %d of round %d short",
			       i, round);
		}
	}
	SYSCHECK(setitimer(ITIMER_REAL, &off, NULL));
	EXPECT(atomic_load(&ticks) > 0, "the timer never fired");
	return 0;
}

TEST_MAIN(test)
