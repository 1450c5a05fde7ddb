/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A cancelled request still notifies: the SIGEV_SIGNAL of a pending pipe read that aio_cancel
 * cancels is delivered exactly once, with SI_ASYNCIO and its value, and the handler sees
 * ECANCELED through aio_error.
 */
#include "common.h"

#define VALUE 4242

static struct aiocb r;
static atomic_int signals, bad_code, bad_value, err_in_handler;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_ASYNCIO)
		atomic_store(&bad_code, si->si_code ? si->si_code : -1000);
	if (si->si_value.sival_int != VALUE)
		atomic_store(&bad_value, 1);
	atomic_store(&err_in_handler, aio_error(&r));
	atomic_fetch_add(&signals, 1);
}

static int test(void)
{
	int sig = SIGRTMIN + 2, p[2], ret;
	char buf[16];

	install_handler(sig, on_signal, SA_SIGINFO);
	SYSCHECK(pipe(p));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	r.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	r.aio_sigevent.sigev_signo = sig;
	r.aio_sigevent.sigev_value.sival_int = VALUE;
	EXPECT_OK(aio_read(&r));
	expect_pending(&r, "aio_read on an empty pipe");
	EXPECT(atomic_load(&signals) == 0, "a signal came before the request ended");

	ret = aio_cancel(p[0], &r);
	EXPECT(ret == AIO_CANCELED, "aio_cancel: expected AIO_CANCELED (%d), got %d", AIO_CANCELED,
	       ret);
	EXPECT(wait_counter(&signals, 1, 2000),
	       "no signal within 2 s of cancelling a request that asked for SIGEV_SIGNAL");
	sleep_ms(100);
	EXPECT(atomic_load(&signals) == 1, "expected exactly 1 signal, got %d",
	       atomic_load(&signals));
	EXPECT(atomic_load(&bad_code) == 0, "si_code is %d, expected SI_ASYNCIO (%d)",
	       atomic_load(&bad_code), SI_ASYNCIO);
	EXPECT(atomic_load(&bad_value) == 0, "si_value is not the sigev_value given");
	EXPECT(atomic_load(&err_in_handler) == ECANCELED,
	       "aio_error inside the handler: expected ECANCELED, got %s",
	       errname(atomic_load(&err_in_handler)));
	EXPECT(aio_return(&r) == -1, "aio_return of the cancelled read is not -1");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
