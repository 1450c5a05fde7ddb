/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A SIGEV_THREAD function runs with no signal blocked, as on glibc's notification threads
 * (whatever the submitting thread blocks), with or without sigev_notify_attributes.
 */
#include "common.h"

static const int sigs[] = { SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCHLD, SIGPIPE };
static atomic_int ran, blocked; /* blocked: 1 + the index of a blocked signal, or 0 */

static void look(union sigval v)
{
	sigset_t cur;

	(void)v;
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigismember(&cur, sigs[i]))
			atomic_store(&blocked, (int)i + 1);
	if (sigismember(&cur, SIGRTMIN) || sigismember(&cur, SIGRTMAX))
		atomic_store(&blocked, 100);
	atomic_fetch_add(&ran, 1);
}

static int test(void)
{
	static struct aiocb cb;
	static char buf[16];
	pthread_attr_t attr;
	sigset_t mask;
	int fd = tmp_file_with(0, 4096, pattern_byte);

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	pthread_attr_init(&attr);
	for (int round = 0; round < 2; round++) {
		aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
		cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
		cb.aio_sigevent.sigev_notify_function = look;
		cb.aio_sigevent.sigev_notify_attributes = round ? &attr : NULL;
		EXPECT_OK(aio_read(&cb));
		expect_done_ok(&cb, sizeof(buf), "the read");
		EXPECT(wait_counter(&ran, round + 1, 5000), "the callback never ran");
		EXPECT(atomic_load(&blocked) == 0, "%s: the callback ran with signal %s blocked",
		       round ? "own attributes" : "no attributes",
		       atomic_load(&blocked) == 100 ? "SIGRTMIN/SIGRTMAX"
						    : strsignal(sigs[atomic_load(&blocked) - 1]));
	}
	return 0;
}

TEST_MAIN(test)
