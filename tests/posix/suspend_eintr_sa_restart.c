/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A signal caught by a handler installed with SA_RESTART does not end aio_suspend: POSIX's
 * sigaction() says an interruptible function "shall restart and shall not fail with [EINTR]"
 * under SA_RESTART. The wait goes on through many signals and returns 0 when the request
 * completes; with no timeout and with a long one. (glibc fails this with a timeout.)
 */
#include "common.h"

static pthread_t main_thread;
static atomic_int stop, caught;
static int p[2];

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&caught, 1);
}

/* Signal the main thread 20 times, then complete its request. */
static void *signaller(void *arg)
{
	(void)arg;
	for (int sent = 0; sent < 20 && !atomic_load(&stop); sent++) {
		pthread_kill(main_thread, SIGUSR1);
		sleep_ms(5);
	}
	write_all(p[1], "x", 1);
	return NULL;
}

static void restarted(const struct timespec *ts)
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
	EXPECT(ret == 0,
	       "aio_suspend (%s timeout) with a handler installed with SA_RESTART: expected 0 "
	       "once the request completed, got %d/%s after %d signals",
	       ts ? "10 s" : "no", ret, errname(err), atomic_load(&caught));
	EXPECT(atomic_load(&caught) > 0, "the handler did not run");
	expect_done_ok(&r, 1, "the pipe read");
	close(p[0]);
	close(p[1]);
}

static int test(void)
{
	struct timespec ts = {10, 0};

	main_thread = pthread_self();
	install_handler(SIGUSR1, on_signal, SA_RESTART);
	restarted(NULL);
	restarted(&ts);
	return 0;
}

TEST_MAIN(test)
