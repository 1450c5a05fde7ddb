/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exit() with requests still pending returns promptly: a child submits reads on empty pipes
 * (one with SIGEV_THREAD, one with SIGEV_SIGNAL, one with SIGEV_NONE) and calls exit(0); it
 * must be gone with status 0 within 3 s. The same with _exit(0), and with exit(0) called from a
 * second thread.
 */
#include "common.h"

static void on_done(union sigval v)
{
	(void)v;
}

static void submit_pending(int fds[3][2], struct aiocb cbs[3], char bufs[3][8])
{
	for (int i = 0; i < 3; i++) {
		SYSCHECK(pipe(fds[i]));
		aiocb_prep(&cbs[i], fds[i][0], bufs[i], 8, 0);
	}
	cbs[1].aio_sigevent.sigev_notify = SIGEV_THREAD;
	cbs[1].aio_sigevent.sigev_notify_function = on_done;
	cbs[2].aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	cbs[2].aio_sigevent.sigev_signo = SIGUSR1;
	for (int i = 0; i < 3; i++)
		EXPECT_OK(aio_read(&cbs[i]));
}

static void *exit_from_thread(void *arg)
{
	(void)arg;
	exit(0);
}

static void run_child(int how, const char *what)
{
	int64_t deadline;
	int status = 0;
	pid_t pid;

	fflush(NULL);
	SYSCHECK(pid = fork_settled());
	if (pid == 0) {
		static struct aiocb cbs[3];
		static char bufs[3][8];
		int fds[3][2];
		pthread_t th;

		submit_pending(fds, cbs, bufs);
		if (how == 0)
			exit(0);
		if (how == 1)
			_exit(0);
		pthread_create(&th, NULL, exit_from_thread, NULL);
		pthread_join(th, NULL);
		_exit(3);
	}
	deadline = now_ms() + 3000 * time_scale();
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			FAIL("%s with reads pending: the child had not ended after 3 s", what);
		}
		sleep_ms(2);
	}
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "%s with reads pending: child status 0x%x, expected exit 0", what, status);
}

static int test(void)
{
	run_child(0, "exit(0) from main");
	run_child(1, "_exit(0)");
	run_child(2, "exit(0) from a second thread");
	return 0;
}

TEST_MAIN(test)
