/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Notifications keep coming while the program's own exit handlers run: a handler the
 * program registered before its first AIO call, which completes two pending pipe reads and
 * waits for the SIGEV_THREAD callback of one and the SIGEV_SIGNAL of the other, gets both,
 * and the process exits 0.
 */
#include <semaphore.h>

#include "common.h"

static int p[2];
static sem_t called;
static struct aiocb by_thread, by_signal;
static char buf[2];

static void callback(union sigval v)
{
	(void)v;
	sem_post(&called);
}

static atomic_int signalled;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&signalled, 1);
}

static void flush_at_exit(void)
{
	struct timespec abs;

	write_all(p[1], "x", 1);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += 5 * time_scale();
	if (sem_timedwait(&called, &abs) != 0) {
		fprintf(stderr, "FAIL %s: in an exit handler: no SIGEV_THREAD callback\n",
			test_name());
		_exit(1);
	}
	write_all(p[1], "y", 1);
	if (!wait_counter(&signalled, 1, 5000)) {
		fprintf(stderr, "FAIL %s: in an exit handler: no SIGEV_SIGNAL\n", test_name());
		_exit(1);
	}
	if (aio_error(&by_thread) != 0 || aio_error(&by_signal) != 0) {
		fprintf(stderr, "FAIL %s: in an exit handler: the reads did not succeed\n",
			test_name());
		_exit(1);
	}
}

static int test(void)
{
	/* Before the first AIO call, as a program's setup code would. */
	atexit(flush_at_exit);
	sem_init(&called, 0, 0);
	install_handler(SIGUSR1, on_usr1, 0);
	SYSCHECK(pipe(p));
	aiocb_prep(&by_thread, p[0], &buf[0], 1, 0);
	by_thread.aio_sigevent.sigev_notify = SIGEV_THREAD;
	by_thread.aio_sigevent.sigev_notify_function = callback;
	EXPECT_OK(aio_read(&by_thread));
	aiocb_prep(&by_signal, p[0], &buf[1], 1, 0);
	by_signal.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	by_signal.aio_sigevent.sigev_signo = SIGUSR1;
	EXPECT_OK(aio_read(&by_signal));
	return 0; /* exit(): flush_at_exit() completes them and waits */
}

TEST_MAIN(test)
