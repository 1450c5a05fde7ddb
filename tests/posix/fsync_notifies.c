/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_fsync notifies like any request: SIGEV_SIGNAL once with its value, SIGEV_THREAD once,
 * each after its status is 0 and after the writes queued before it are done.
 */
#include "common.h"

static struct aiocb w, f;
static atomic_int signals, calls, bad;

static void check_done(void)
{
	if (aio_error(&f) != 0 || aio_error(&w) == EINPROGRESS)
		atomic_fetch_add(&bad, 1);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_value.sival_ptr != &f || si->si_code != SI_ASYNCIO)
		atomic_fetch_add(&bad, 1);
	check_done();
	atomic_fetch_add(&signals, 1);
}

static void on_done(union sigval v)
{
	if (v.sival_ptr != &f)
		atomic_fetch_add(&bad, 1);
	check_done();
	atomic_fetch_add(&calls, 1);
}

static int test(void)
{
	static char buf[256 * 1024];
	int sig = SIGRTMIN + 9, fd = tmp_file(O_RDWR);

	install_handler(sig, on_signal, SA_SIGINFO);
	memset(buf, 's', sizeof(buf));
	for (int round = 0; round < 2; round++) {
		aiocb_prep(&w, fd, buf, sizeof(buf), 0);
		EXPECT_OK(aio_write(&w));
		aiocb_prep(&f, fd, NULL, 0, 0);
		f.aio_sigevent.sigev_value.sival_ptr = &f;
		if (round == 0) {
			f.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
			f.aio_sigevent.sigev_signo = sig;
		} else {
			f.aio_sigevent.sigev_notify = SIGEV_THREAD;
			f.aio_sigevent.sigev_notify_function = on_done;
		}
		EXPECT_OK(aio_fsync(round ? O_DSYNC : O_SYNC, &f));
		EXPECT(wait_counter(round ? &calls : &signals, 1, WAIT_DONE_MS),
		       "the aio_fsync %s did not come", round ? "function" : "signal");
		expect_done_ok(&f, 0, "aio_fsync");
		expect_done_ok(&w, sizeof(buf), "the write before it");
	}
	sleep_ms(50);
	EXPECT(atomic_load(&signals) == 1 && atomic_load(&calls) == 1,
	       "expected one signal and one call, got %d and %d", atomic_load(&signals),
	       atomic_load(&calls));
	EXPECT(atomic_load(&bad) == 0, "%d notifications came too early or with a wrong value",
	       atomic_load(&bad));
	close(fd);
	return 0;
}

TEST_MAIN(test)
