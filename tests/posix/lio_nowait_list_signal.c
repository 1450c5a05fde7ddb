/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio(LIO_NOWAIT) returns at once, and its list sigevent (SIGEV_SIGNAL) fires exactly
 * once, after every member completed: members are reads pending on pipes, fed one by one.
 */
#include "common.h"

#define NREQ 8
#define VALUE 0x1234

static struct aiocb cbs[NREQ];
static atomic_int signals, early, bad_info;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_value.sival_int != VALUE || si->si_code != SI_ASYNCIO)
		atomic_store(&bad_info, 1);
	for (int i = 0; i < NREQ; i++)
		if (aio_error(&cbs[i]) == EINPROGRESS)
			atomic_store(&early, i + 1);
	atomic_fetch_add(&signals, 1);
}

static int test(void)
{
	struct aiocb *list[NREQ];
	struct sigevent sev;
	char bufs[NREQ][8];
	int pipes[NREQ][2], sig = SIGRTMIN + 3;

	install_handler(sig, on_signal, SA_SIGINFO);
	for (int i = 0; i < NREQ; i++) {
		SYSCHECK(pipe(pipes[i]));
		aiocb_prep(&cbs[i], pipes[i][0], bufs[i], sizeof(bufs[i]), 0);
		cbs[i].aio_lio_opcode = LIO_READ;
		list[i] = &cbs[i];
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = sig;
	sev.sigev_value.sival_int = VALUE;
	EXPECT_OK(lio_listio(LIO_NOWAIT, list, NREQ, &sev));
	for (int i = 0; i < NREQ; i++)
		EXPECT(aio_error(&cbs[i]) == EINPROGRESS, "member %d is not pending", i);

	for (int i = 0; i < NREQ; i++) {
		write_all(pipes[i][1], "x", 1);
		expect_done_ok(&cbs[i], 1, "a member read");
		if (i < NREQ - 1) {
			sleep_ms(5);
			EXPECT(atomic_load(&signals) == 0,
			       "the list signal came after %d of %d members completed", i + 1,
			       NREQ);
		}
	}
	EXPECT(wait_counter(&signals, 1, 2000), "no list signal within 2 s of the last member");
	sleep_ms(100);
	EXPECT(atomic_load(&signals) == 1, "expected exactly 1 list signal, got %d",
	       atomic_load(&signals));
	EXPECT(!atomic_load(&early), "in the handler, member %d was still in progress",
	       atomic_load(&early) - 1);
	EXPECT(!atomic_load(&bad_info), "si_code or si_value of the list signal is wrong");
	for (int i = 0; i < NREQ; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	return 0;
}

TEST_MAIN(test)
