/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A signal caught by a handler installed without SA_RESTART interrupts aio_suspend, which
 * returns -1/EINTR; with no timeout and with a long one. The signal comes from another thread.
 */
#include "common.h"

#ifndef HANDLER_FLAGS
#define HANDLER_FLAGS 0
#define HANDLER_KIND "without SA_RESTART"
#endif

/* Signals sent before the test gives up and completes the request to end the wait. */
#define MAX_SIGNALS 100

static pthread_t main_thread;
static atomic_int stop, caught, rescued;
static int p[2];

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&caught, 1);
}

/* Keep signalling the main thread until it is out of aio_suspend. */
static void *signaller(void *arg)
{
	(void)arg;
	for (int sent = 0; !atomic_load(&stop); sent++) {
		if (sent == MAX_SIGNALS) {
			atomic_store(&rescued, 1);
			write_all(p[1], "x", 1);
		}
		pthread_kill(main_thread, SIGUSR1);
		sleep_ms(10);
	}
	return NULL;
}

static void interrupted(const struct timespec *ts)
{
	char buf[16];
	struct aiocb r;
	const struct aiocb *list[1] = {&r};
	pthread_t th;
	int ret, err;

	SYSCHECK(pipe(p));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	atomic_store(&stop, 0);
	atomic_store(&caught, 0);
	EXPECT(pthread_create(&th, NULL, signaller, NULL) == 0, "pthread_create failed");
	errno = 0;
	ret = aio_suspend(list, 1, ts);
	err = errno;
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	EXPECT(!atomic_load(&rescued),
	       "aio_suspend (%s timeout) went on waiting through %d signals caught by a "
	       "handler " HANDLER_KIND
	       "; it returned %d/%s only when the request completed, expected "
	       "-1/EINTR",
	       ts ? "10 s" : "no", atomic_load(&caught), ret, errname(err));
	EXPECT(ret == -1 && err == EINTR,
	       "aio_suspend (%s timeout) interrupted by a handler " HANDLER_KIND ": expected "
	       "-1/EINTR, got %d/%s",
	       ts ? "10 s" : "no", ret, errname(err));
	EXPECT(atomic_load(&caught) > 0, "the handler did not run");
	EXPECT(aio_error(&r) == EINPROGRESS, "the interrupted wait changed the request");
	write_all(p[1], "x", 1);
	expect_done_ok(&r, 1, "the pipe read after the interrupted wait");
	close(p[0]);
	close(p[1]);
}

static int test(void)
{
	struct timespec ts = {10, 0};

	main_thread = pthread_self();
	install_handler(SIGUSR1, on_signal, HANDLER_FLAGS);
	interrupted(NULL);
	interrupted(&ts);
	return 0;
}

TEST_MAIN(test)
