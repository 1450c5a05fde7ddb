/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGEV_SIGNAL delivers the signal with si_signo, si_code SI_ASYNCIO, the sigev_value given,
 * si_pid of this process and si_uid of this user; when the handler runs, the result is already
 * visible through aio_error.
 */
#include "common.h"

struct seen {
	int signo, code, err;
	void *value;
	pid_t pid;
	uid_t uid;
};

static struct aiocb cb;
static struct seen seen;
static atomic_int signals;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	seen.signo = si->si_signo;
	seen.code = si->si_code;
	seen.value = si->si_value.sival_ptr;
	seen.pid = si->si_pid;
	seen.uid = si->si_uid;
	seen.err = aio_error(&cb);
	atomic_fetch_add(&signals, 1);
}

static void check(int sig, const char *what)
{
	EXPECT(wait_counter(&signals, 1, 2000), "%s: no signal within 2 s of completion", what);
	EXPECT(seen.signo == sig, "%s: si_signo %d, expected %d", what, seen.signo, sig);
	EXPECT(seen.code == SI_ASYNCIO, "%s: si_code %d, expected SI_ASYNCIO (%d)", what, seen.code,
	       SI_ASYNCIO);
	EXPECT(seen.value == &cb, "%s: si_value %p, expected %p", what, seen.value, (void *)&cb);
	EXPECT(seen.pid == getpid(), "%s: si_pid %d, expected getpid() %d", what, (int)seen.pid,
	       (int)getpid());
	EXPECT(seen.uid == getuid(), "%s: si_uid %d, expected getuid() %d", what, (int)seen.uid,
	       (int)getuid());
	EXPECT(seen.err == 0, "%s: aio_error inside the handler: expected 0, got %s", what,
	       errname(seen.err));
}

static int test(void)
{
	SKIP_UNDER_TSAN("when a queued signal reaches its handler (it defers them)");
	int sig = SIGRTMIN + 1, fd = tmp_file_with(0, 4096, pattern_byte), p[2];
	char buf[64];

	install_handler(sig, on_signal, SA_SIGINFO);
	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	cb.aio_sigevent.sigev_signo = sig;
	cb.aio_sigevent.sigev_value.sival_ptr = &cb;
	EXPECT_OK(aio_read(&cb));
	wait_done(&cb, "aio_read of a file");
	check(sig, "aio_read of a file");
	EXPECT(aio_return(&cb) == sizeof(buf), "the file read is short");

	/* A pipe read completed later, with SIGUSR2 this time. */
	atomic_store(&signals, 0);
	memset(&seen, 0, sizeof(seen));
	install_handler(SIGUSR2, on_signal, SA_SIGINFO);
	SYSCHECK(pipe(p));
	aiocb_prep(&cb, p[0], buf, sizeof(buf), 0);
	cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	cb.aio_sigevent.sigev_signo = SIGUSR2;
	cb.aio_sigevent.sigev_value.sival_ptr = &cb;
	EXPECT_OK(aio_read(&cb));
	sleep_ms(10);
	EXPECT(atomic_load(&signals) == 0, "a signal came before the pipe read completed");
	write_all(p[1], "data", 4);
	check(SIGUSR2, "aio_read of a pipe");
	EXPECT(aio_return(&cb) == 4, "the pipe read did not get 4 bytes");
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
