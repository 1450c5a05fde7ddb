/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Each lio_listio member's own aio_sigevent is honoured (as glibc does): members asking for
 * SIGEV_SIGNAL each send one signal with their own value, a SIGEV_THREAD member runs its
 * function once, with LIO_WAIT and with LIO_NOWAIT next to the list's own notification.
 */
#include "common.h"

#define NSIG_MEMBERS 6

static atomic_int seen[NSIG_MEMBERS + 1], total, thread_calls, list_signals;

static void on_member(int sig, siginfo_t *si, void *uc)
{
	int v = si->si_value.sival_int;

	(void)sig;
	(void)uc;
	if (v >= 1 && v <= NSIG_MEMBERS)
		atomic_fetch_add(&seen[v], 1);
	atomic_fetch_add(&total, 1);
}

static void on_list(int sig)
{
	(void)sig;
	atomic_fetch_add(&list_signals, 1);
}

static void on_thread(union sigval v)
{
	(void)v;
	atomic_fetch_add(&thread_calls, 1);
}

static void run(int mode, int fd, int sig, int list_sig)
{
	struct aiocb cbs[NSIG_MEMBERS + 2], *list[NSIG_MEMBERS + 2];
	char bufs[NSIG_MEMBERS + 2][32];
	struct sigevent lsev;
	sigset_t block, old;
	const char *name = mode == LIO_WAIT ? "LIO_WAIT" : "LIO_NOWAIT";

	for (int i = 0; i <= NSIG_MEMBERS; i++)
		atomic_store(&seen[i], 0);
	atomic_store(&total, 0);
	atomic_store(&thread_calls, 0);
	atomic_store(&list_signals, 0);
	for (int i = 0; i < NSIG_MEMBERS + 2; i++) {
		aiocb_prep(&cbs[i], fd, bufs[i], sizeof(bufs[i]), i * 32);
		cbs[i].aio_lio_opcode = LIO_READ;
		list[i] = &cbs[i];
		if (i < NSIG_MEMBERS) {
			cbs[i].aio_sigevent.sigev_notify = SIGEV_SIGNAL;
			cbs[i].aio_sigevent.sigev_signo = sig;
			cbs[i].aio_sigevent.sigev_value.sival_int = i + 1;
		} else if (i == NSIG_MEMBERS) {
			cbs[i].aio_sigevent.sigev_notify = SIGEV_THREAD;
			cbs[i].aio_sigevent.sigev_notify_function = on_thread;
		}
	}
	memset(&lsev, 0, sizeof(lsev));
	lsev.sigev_notify = SIGEV_SIGNAL;
	lsev.sigev_signo = list_sig;
	/*
	 * A member's signal may interrupt LIO_WAIT (POSIX says so): hold them until it returned,
	 * this test is about their delivery.
	 */
	sigemptyset(&block);
	sigaddset(&block, sig);
	sigaddset(&block, list_sig);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	EXPECT_OK(lio_listio(mode, list, NSIG_MEMBERS + 2, mode == LIO_NOWAIT ? &lsev : NULL));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (int i = 0; i < NSIG_MEMBERS + 2; i++)
		expect_done_ok(&cbs[i], 32, "a member read");

	EXPECT(wait_counter(&total, NSIG_MEMBERS, 2000),
	       "%s: %d member signals arrived within 2 s, expected %d", name, atomic_load(&total),
	       NSIG_MEMBERS);
	EXPECT(wait_counter(&thread_calls, 1, 2000),
	       "%s: the SIGEV_THREAD member's function did not run", name);
	if (mode == LIO_NOWAIT)
		EXPECT(wait_counter(&list_signals, 1, 2000), "%s: the list signal did not come",
		       name);
	sleep_ms(50);
	for (int i = 1; i <= NSIG_MEMBERS; i++)
		EXPECT(atomic_load(&seen[i]) == 1,
		       "%s: member %d's signal came %d times, expected 1", name, i,
		       atomic_load(&seen[i]));
	EXPECT(atomic_load(&total) == NSIG_MEMBERS, "%s: %d member signals, expected %d", name,
	       atomic_load(&total), NSIG_MEMBERS);
	EXPECT(atomic_load(&thread_calls) == 1, "%s: the member function ran %d times", name,
	       atomic_load(&thread_calls));
	EXPECT(atomic_load(&list_signals) == (mode == LIO_NOWAIT),
	       "%s: %d list signals, expected %d", name, atomic_load(&list_signals),
	       mode == LIO_NOWAIT);
}

static int test(void)
{
	SKIP_UNDER_TSAN("the delivery of queued realtime signals");
	int fd = tmp_file_with(0, 4096, pattern_byte);
	int sig = SIGRTMIN + 4, list_sig = SIGRTMIN + 5;

	install_handler(sig, on_member, SA_SIGINFO);
	install_handler(list_sig, on_list, 0);
	run(LIO_WAIT, fd, sig, list_sig);
	run(LIO_NOWAIT, fd, sig, list_sig);
	close(fd);
	return 0;
}

TEST_MAIN(test)
