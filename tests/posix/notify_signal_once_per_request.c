/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGEV_SIGNAL sends exactly one signal per request: 500 file reads and 64 pipe reads, each
 * with a realtime signal (they queue) carrying its index; every index arrives once.
 */
#include "common.h"

#define NFILE 500
#define NPIPE 64
#define NREQ (NFILE + NPIPE)

static atomic_int seen[NREQ], total, bad;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int v = si->si_value.sival_int;

	(void)sig;
	(void)uc;
	if (v >= 0 && v < NREQ && si->si_code == SI_ASYNCIO)
		atomic_fetch_add(&seen[v], 1);
	else
		atomic_fetch_add(&bad, 1);
	atomic_fetch_add(&total, 1);
}

static int test(void)
{
	SKIP_UNDER_TSAN("the delivery of queued realtime signals");
	static struct aiocb cbs[NREQ];
	static char bufs[NREQ][8];
	int sig = SIGRTMIN + 1, fd = tmp_file_with(0, 65536, pattern_byte), p[2];

	install_handler(sig, on_signal, SA_SIGINFO);
	SYSCHECK(pipe(p));
	for (int i = 0; i < NREQ; i++) {
		if (i < NFILE)
			aiocb_prep(&cbs[i], fd, bufs[i], sizeof(bufs[i]), (off_t)i * 8);
		else
			aiocb_prep(&cbs[i], p[0], bufs[i], 1, 0);
		cbs[i].aio_sigevent.sigev_notify = SIGEV_SIGNAL;
		cbs[i].aio_sigevent.sigev_signo = sig;
		cbs[i].aio_sigevent.sigev_value.sival_int = i;
		EXPECT_OK(aio_read(&cbs[i]));
	}
	for (int i = 0; i < NFILE; i++)
		expect_done_ok(&cbs[i], 8, "a file read");
	for (int i = NFILE; i < NREQ; i++) {
		write_all(p[1], "z", 1);
		expect_done_ok(&cbs[i], 1, "a pipe read");
	}
	EXPECT(wait_counter(&total, NREQ, 5000), "%d signals arrived for %d requests",
	       atomic_load(&total), NREQ);
	sleep_ms(100);
	EXPECT(atomic_load(&bad) == 0, "%d signals had a wrong si_value or si_code",
	       atomic_load(&bad));
	for (int i = 0; i < NREQ; i++)
		EXPECT(atomic_load(&seen[i]) == 1, "request %d sent %d signals, expected 1", i,
		       atomic_load(&seen[i]));
	EXPECT(atomic_load(&total) == NREQ, "%d signals for %d requests", atomic_load(&total),
	       NREQ);
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
