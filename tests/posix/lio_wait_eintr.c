/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A signal caught by a handler interrupts lio_listio(LIO_WAIT) waiting on pending pipe reads:
 * -1/EINTR. The members are not cancelled: they stay in progress and complete when their data
 * comes.
 */
#include "common.h"

#define NREQ 4
#define MAX_SIGNALS 100

static pthread_t main_thread;
static atomic_int stop, caught, rescued;
static int pipes[NREQ][2];

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&caught, 1);
}

static void *signaller(void *arg)
{
	(void)arg;
	for (int sent = 0; !atomic_load(&stop); sent++) {
		if (sent == MAX_SIGNALS) {
			atomic_store(&rescued, 1);
			for (int i = 0; i < NREQ; i++)
				write_all(pipes[i][1], "x", 1);
		}
		pthread_kill(main_thread, SIGUSR1);
		sleep_ms(10);
	}
	return NULL;
}

static int test(void)
{
	struct aiocb cbs[NREQ], *list[NREQ];
	char bufs[NREQ][8];
	pthread_t th;
	int ret, err;

	main_thread = pthread_self();
	install_handler(SIGUSR1, on_signal, 0);
	for (int i = 0; i < NREQ; i++) {
		SYSCHECK(pipe(pipes[i]));
		aiocb_prep(&cbs[i], pipes[i][0], bufs[i], sizeof(bufs[i]), 0);
		cbs[i].aio_lio_opcode = LIO_READ;
		list[i] = &cbs[i];
	}
	EXPECT(pthread_create(&th, NULL, signaller, NULL) == 0, "pthread_create failed");
	errno = 0;
	ret = lio_listio(LIO_WAIT, list, NREQ, NULL);
	err = errno;
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	EXPECT(!atomic_load(&rescued),
	       "lio_listio(LIO_WAIT) went on waiting through %d caught signals; it returned %d/%s "
	       "only when the members completed, expected -1/EINTR",
	       atomic_load(&caught), ret, errname(err));
	EXPECT(ret == -1 && err == EINTR,
	       "lio_listio(LIO_WAIT) interrupted by a signal: expected -1/EINTR, got %d/%s", ret,
	       errname(err));
	for (int i = 0; i < NREQ; i++)
		expect_pending(&cbs[i], "a member after the interrupted LIO_WAIT");
	for (int i = 0; i < NREQ; i++) {
		write_all(pipes[i][1], "y", 1);
		expect_done_ok(&cbs[i], 1, "a member after the interrupted LIO_WAIT");
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	return 0;
}

TEST_MAIN(test)
