/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Completion signals can be collected with sigwaitinfo while blocked in every thread: one
 * SIGEV_SIGNAL per request queues up, each with SI_ASYNCIO and its own value, and by then the
 * request's result is visible.
 */
#include "common.h"

#define NREQ 100

static int test(void)
{
	static struct aiocb cbs[NREQ];
	static char bufs[NREQ][16];
	int seen[NREQ] = {0};
	int sig = SIGRTMIN + 7, fd = tmp_file_with(0, NREQ * 16, pattern_byte);
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	SYSCHECK(sigprocmask(SIG_BLOCK, &set, NULL));
	for (int i = 0; i < NREQ; i++) {
		aiocb_prep(&cbs[i], fd, bufs[i], 16, (off_t)i * 16);
		cbs[i].aio_sigevent.sigev_notify = SIGEV_SIGNAL;
		cbs[i].aio_sigevent.sigev_signo = sig;
		cbs[i].aio_sigevent.sigev_value.sival_int = i;
		EXPECT_OK(aio_read(&cbs[i]));
	}
	for (int k = 0; k < NREQ; k++) {
		struct timespec ts = {5 * time_scale(), 0};
		siginfo_t si;
		int got = sigtimedwait(&set, &si, &ts), i;

		EXPECT(got == sig, "sigtimedwait for completion %d of %d: got %d/%s", k + 1, NREQ,
		       got, errname(errno));
		EXPECT(si.si_code == SI_ASYNCIO, "si_code %d, expected SI_ASYNCIO", si.si_code);
		i = si.si_value.sival_int;
		EXPECT(i >= 0 && i < NREQ, "si_value %d is none of the requests", i);
		EXPECT(!seen[i]++, "request %d signalled twice", i);
		EXPECT(aio_error(&cbs[i]) == 0 && aio_return(&cbs[i]) == 16,
		       "request %d signalled but its result is not there", i);
	}
	struct timespec zero = {0, 50 * 1000000L};

	EXPECT(sigtimedwait(&set, NULL, &zero) == -1, "a signal more than one per request came");
	close(fd);
	return 0;
}

TEST_MAIN(test)
