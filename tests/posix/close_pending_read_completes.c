/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A read pending on a pipe and on a socket whose descriptor the program closes goes on as if
 * the close had not happened (the kernel keeps a file open while a read is blocked in it):
 * data written afterwards completes it. It must not be stranded with the file gone, nor read
 * from a file that reuses the number.
 */
#include "common.h"

static void check(int *ends, const char *what)
{
	char buf[16] = { 0 }, other[16];
	struct aiocb r;
	int spare[2];

	aiocb_prep(&r, ends[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	expect_pending(&r, what);
	SYSCHECK(close(ends[0]));
	/* The number goes to another pipe at once, with data of its own. */
	SYSCHECK(pipe(spare));
	write_all(spare[1], "wrong", 5);
	write_all(ends[1], "right", 5);
	expect_done_ok(&r, 5, what);
	EXPECT(!memcmp(buf, "right", 5), "%s: read \"%.5s\", expected \"right\"", what, buf);
	EXPECT(read(spare[0], other, 5) == 5 && !memcmp(other, "wrong", 5),
	       "%s: the pipe that took the number lost its bytes", what);
	close(spare[0]);
	close(spare[1]);
	close(ends[1]);
}

static int test(void)
{
	int p[2], s[2];

	SYSCHECK(pipe(p));
	check(p, "pipe read pending across close()");
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	check(s, "socket read pending across close()");
	return 0;
}

TEST_MAIN(test)
