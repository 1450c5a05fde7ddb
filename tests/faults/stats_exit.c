/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The processes tests/faults/stats_exit.sh counts POSIXAIO_STATS lines of. This process and
 * four forked children make 1, 4, 2, 3 reads and end with _exit(3), exit(3), _exit(3) and
 * _Exit(3); a forked child that makes none and a vfork child end with _exit(3). With
 * POSIXAIO_STATS=1 exactly four lines must come out, with submitted=1, 2, 3 and 4; without
 * it, none. Any child ending otherwise than with status 3 makes this process exit(1).
 */
/* Its own main: the process must end with _exit(3), not under common.h's supervise(). */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../posix/common.h"

enum end { END_EXIT, END__EXIT, END__Exit };

static int fd;

static void reads(int n)
{
	char buf[512];
	struct aiocb cb;

	for (int i = 0; i < n; i++) {
		aiocb_prep(&cb, fd, buf, sizeof(buf), (off_t)i * (off_t)sizeof(buf));
		EXPECT_OK(aio_read(&cb));
		expect_done_ok(&cb, sizeof(buf), "a read of the file");
	}
}

static void end_with(enum end how)
{
	fflush(NULL);
	switch (how) {
	case END_EXIT:
		exit(3);
	case END__EXIT:
		_exit(3);
	case END__Exit:
		_Exit(3);
	}
}

static void expect_status(pid_t pid, const char *what)
{
	int status;

	SYSCHECK(waitpid(pid, &status, 0));
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 3,
	       "%s: status %#x, expected exit status 3", what, status);
}

static void child(int nreads, enum end how, const char *what)
{
	pid_t pid = fork();

	SYSCHECK(pid);
	if (pid == 0) {
		reads(nreads);
		end_with(how);
	}
	expect_status(pid, what);
}

int main(void)
{
	fd = tmp_file_with(0, 4 * 512, pattern_byte);
	/* The library is started, and its counters not zero, before any child is forked. */
	reads(1);
	child(4, END_EXIT, "a child that read and called exit()");
	child(2, END__EXIT, "a child that read and called _exit()");
	child(3, END__Exit, "a child that read and called _Exit()");
	child(0, END__EXIT, "a child that made no request and called _exit()");

	pid_t pid = vfork();

	SYSCHECK(pid);
	if (pid == 0)
		_exit(3);
	expect_status(pid, "a vfork child that called _exit()");

	end_with(END__EXIT);
}
