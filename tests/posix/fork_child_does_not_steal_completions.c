/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A forked child busy with AIO of its own does not take the parent's completions: while the
 * child runs file reads and waits for them, the parent's 32 pipe reads (pending across the
 * fork) are fed one by one and each completes in the parent with its data.
 */
#include "common.h"

#define NPIPE 32

static int child(int fd, int stop_fd)
{
	char buf[64], c;
	struct aiocb cb;
	int rounds = 0;

	/* Until the parent says stop (closes its end), keep submitting and reaping. */
	for (;;) {
		aiocb_prep(&cb, fd, buf, sizeof(buf), (rounds * 64) % 4000);
		EXPECT_OK(aio_read(&cb));
		expect_done_ok(&cb, sizeof(buf), "child: aio_read of a file");
		rounds++;
		if (read(stop_fd, &c, 1) == 0)
			break;
	}
	return rounds > 0 ? 0 : 1;
}

static int test(void)
{
	static struct aiocb r[NPIPE];
	static char bufs[NPIPE][16];
	int pipes[NPIPE][2], stop[2], status, fd = tmp_file_with(0, 4096, pattern_byte);
	pid_t pid;

	for (int i = 0; i < NPIPE; i++) {
		SYSCHECK(pipe(pipes[i]));
		aiocb_prep(&r[i], pipes[i][0], bufs[i], sizeof(bufs[i]), 0);
		EXPECT_OK(aio_read(&r[i]));
	}
	SYSCHECK(pipe(stop));
	SYSCHECK(fcntl(stop[0], F_SETFL, O_NONBLOCK));
	fflush(NULL);
	SYSCHECK(pid = fork_settled());
	if (pid == 0) {
		close(stop[1]);
		_exit(child(fd, stop[0]));
	}
	close(stop[0]);
	for (int i = 0; i < NPIPE; i++) {
		char msg[16];
		int len = snprintf(msg, sizeof(msg), "to parent %d", i);

		write_all(pipes[i][1], msg, (size_t)len);
		expect_done_ok(&r[i], len, "a parent read completed while the child uses AIO");
		EXPECT(memcmp(bufs[i], msg, (size_t)len) == 0, "parent read %d got other data", i);
	}
	close(stop[1]);
	SYSCHECK(waitpid(pid, &status, 0));
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the child failed (status 0x%x), see its message above", status);
	for (int i = 0; i < NPIPE; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
