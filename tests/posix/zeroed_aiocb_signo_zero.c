/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A zeroed aiocb asks for SIGEV_SIGNAL with signal 0: that is valid and sends nothing. Requests
 * from memset(0) aiocbs (as most programs build them) work on a file and on a pipe.
 */
#include "common.h"

static atomic_int stray_signals;

static void count_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&stray_signals, 1);
}

static int test(void)
{
	char buf[64], msg[] = "hello";
	struct aiocb cb;
	int fd = tmp_file_with(0, 4096, pattern_byte), p[2];

	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		install_handler(sig, count_signal, 0);
	install_handler(SIGUSR1, count_signal, 0);
	install_handler(SIGUSR2, count_signal, 0);

	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = fd;
	cb.aio_buf = buf;
	cb.aio_nbytes = sizeof(buf);
	EXPECT(cb.aio_sigevent.sigev_notify == SIGEV_SIGNAL, "SIGEV_SIGNAL is not 0 here");
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(buf), "aio_read with a zeroed sigevent");
	EXPECT((unsigned char)buf[10] == pattern_byte(10), "aio_read got other bytes");

	SYSCHECK(pipe(p));
	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = p[0];
	cb.aio_buf = buf;
	cb.aio_nbytes = sizeof(buf);
	EXPECT_OK(aio_read(&cb));
	write_all(p[1], msg, sizeof(msg));
	expect_done_ok(&cb, sizeof(msg), "pipe aio_read with a zeroed sigevent");

	sleep_ms(50);
	EXPECT(atomic_load(&stray_signals) == 0, "%d signals arrived, expected none",
	       atomic_load(&stray_signals));
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
