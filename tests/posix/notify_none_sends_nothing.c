/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGEV_NONE means no notification: a signal number and a function left in the sigevent are
 * ignored, for completed and for cancelled requests.
 */
#include "common.h"

static atomic_int signals, calls;

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals, 1);
}

static void on_call(union sigval v)
{
	(void)v;
	atomic_fetch_add(&calls, 1);
}

static void prep_none(struct aiocb *cb, int fd, void *buf, size_t len)
{
	aiocb_prep(cb, fd, buf, len, 0);
	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
	cb->aio_sigevent.sigev_signo = SIGUSR1;
	cb->aio_sigevent.sigev_value.sival_int = 1;
	cb->aio_sigevent.sigev_notify_function = on_call;
}

static int test(void)
{
	char buf[64];
	struct aiocb cb;
	int fd = tmp_file_with(0, 4096, pattern_byte), p[2];

	install_handler(SIGUSR1, on_signal, 0);
	SYSCHECK(pipe(p));
	for (int i = 0; i < 20; i++) {
		prep_none(&cb, fd, buf, sizeof(buf));
		EXPECT_OK(aio_read(&cb));
		expect_done_ok(&cb, sizeof(buf), "SIGEV_NONE aio_read of a file");
	}
	prep_none(&cb, p[0], buf, sizeof(buf));
	EXPECT_OK(aio_read(&cb));
	write_all(p[1], "x", 1);
	expect_done_ok(&cb, 1, "SIGEV_NONE aio_read of a pipe");

	prep_none(&cb, p[0], buf, sizeof(buf));
	EXPECT_OK(aio_read(&cb));
	aio_cancel(p[0], &cb);
	write_all(p[1], "y", 1);
	wait_done(&cb, "SIGEV_NONE aio_read of a pipe, cancelled");
	aio_return(&cb);

	sleep_ms(100);
	EXPECT(atomic_load(&signals) == 0, "SIGEV_NONE requests sent %d signals",
	       atomic_load(&signals));
	EXPECT(atomic_load(&calls) == 0, "SIGEV_NONE requests called the function %d times",
	       atomic_load(&calls));
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
