/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process-directed signals from a timer interrupt aio_suspend with -1/EINTR: SIGALRM from
 * setitimer (as alarm() sends) and a POSIX timer's SIGEV_SIGNAL.
 */
#include "common.h"

#include <sys/time.h>

static atomic_int caught;

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&caught, 1);
}

static void expect_eintr(const struct aiocb *const list[], const char *what)
{
	int ret, err;

	errno = 0;
	ret = aio_suspend(list, 1, NULL);
	err = errno;
	EXPECT(ret == -1 && err == EINTR,
	       "aio_suspend interrupted by %s: expected -1/EINTR, got "
	       "%d/%s",
	       what, ret, errname(err));
	EXPECT(atomic_load(&caught) > 0, "the %s handler did not run", what);
}

static int test(void)
{
	/* Repeating, in case the first one comes before aio_suspend blocks. */
	struct itimerval itv = {{0, 20000}, {0, 20000}}, off = {{0, 0}, {0, 0}};
	struct itimerspec its = {{0, 20000000}, {0, 20000000}}, its_off = {{0, 0}, {0, 0}};
	struct sigevent sev;
	char buf[16];
	struct aiocb r;
	const struct aiocb *list[1] = {&r};
	timer_t timer;
	int p[2];

	install_handler(SIGALRM, on_signal, 0);
	install_handler(SIGUSR2, on_signal, 0);
	SYSCHECK(pipe(p));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));

	SYSCHECK(setitimer(ITIMER_REAL, &itv, NULL));
	expect_eintr(list, "SIGALRM from setitimer");
	SYSCHECK(setitimer(ITIMER_REAL, &off, NULL));

	atomic_store(&caught, 0);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR2;
	SYSCHECK(timer_create(CLOCK_MONOTONIC, &sev, &timer));
	SYSCHECK(timer_settime(timer, 0, &its, NULL));
	expect_eintr(list, "SIGUSR2 from a POSIX timer");
	SYSCHECK(timer_settime(timer, 0, &its_off, NULL));
	timer_delete(timer);

	EXPECT(aio_error(&r) == EINPROGRESS, "the interrupted wait changed the request");
	write_all(p[1], "x", 1);
	expect_done_ok(&r, 1, "the pipe read after the interrupted waits");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
