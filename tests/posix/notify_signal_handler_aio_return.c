/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_error and aio_return are async-signal-safe: a SIGEV_SIGNAL handler collects the result
 * of the request it is told about (through si_value) with them, for 50 pipe reads.
 *
 * ThreadSanitizer keeps one pending instance per signal number while it defers a handler, so a
 * burst of queued realtime signals reaches the handler as one there: under TSan the reads
 * are completed one at a time, each after the previous signal was handled.
 */
#include "common.h"

#define NREQ 50

static struct aiocb cbs[NREQ];
static atomic_long results[NREQ];
static atomic_int handled;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	struct aiocb *cb = si->si_value.sival_ptr;

	(void)sig;
	(void)uc;
	if (cb >= cbs && cb < cbs + NREQ && aio_error(cb) == 0)
		atomic_store(&results[cb - cbs], (long)aio_return(cb));
	atomic_fetch_add(&handled, 1);
}

static int test(void)
{
	static char bufs[NREQ][8];
	int sig = SIGRTMIN + 8, p[2];

	install_handler(sig, on_signal, SA_SIGINFO | SA_RESTART);
	SYSCHECK(pipe(p));
	for (int i = 0; i < NREQ; i++) {
		atomic_store(&results[i], -2);
		aiocb_prep(&cbs[i], p[0], bufs[i], 1, 0);
		cbs[i].aio_sigevent.sigev_notify = SIGEV_SIGNAL;
		cbs[i].aio_sigevent.sigev_signo = sig;
		cbs[i].aio_sigevent.sigev_value.sival_ptr = &cbs[i];
		EXPECT_OK(aio_read(&cbs[i]));
	}
	for (int i = 0; i < NREQ; i++) {
		write_all(p[1], "r", 1);
#ifdef UNDER_TSAN
		EXPECT(wait_counter(&handled, i + 1, 5000), "signal %d not handled", i);
#endif
	}
	EXPECT(wait_counter(&handled, NREQ, 5000), "%d of %d signals handled",
	       atomic_load(&handled), NREQ);
	for (int i = 0; i < NREQ; i++) {
		EXPECT(atomic_load(&results[i]) == 1,
		       "request %d: aio_return in the handler gave %ld, expected 1", i,
		       atomic_load(&results[i]));
		/* After aio_return in the handler, the status stays final. */
		EXPECT(aio_error(&cbs[i]) == 0,
		       "request %d: aio_error after the handler's "
		       "aio_return is %s",
		       i, errname(aio_error(&cbs[i])));
	}
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
