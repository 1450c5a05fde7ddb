/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A pending aio_read must not change the file status flags the caller sees: a pipe or socket
 * the caller left blocking stays without O_NONBLOCK before, during and after the request (the
 * open file description is shared with the caller's own read(2) calls).
 */
#include "common.h"

static void check_flags(int fd, int want, const char *when, const char *what)
{
	int fl = fcntl(fd, F_GETFL);

	EXPECT(fl == want, "%s, %s: F_GETFL gives 0x%x, expected 0x%x (O_NONBLOCK %s)", what, when,
	       fl, want, (fl & O_NONBLOCK) ? "set" : "clear");
}

static void run(int rfd, int wfd, const char *what)
{
	static const char msg[] = "data";
	int before = fcntl(rfd, F_GETFL);
	char buf[16];
	struct aiocb r;

	EXPECT(!(before & O_NONBLOCK), "setup: %s starts with O_NONBLOCK", what);
	aiocb_prep(&r, rfd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	check_flags(rfd, before, "right after aio_read", what);
	expect_pending(&r, what);
	check_flags(rfd, before, "while the read is pending", what);
	write_all(wfd, msg, sizeof(msg));
	expect_done_ok(&r, sizeof(msg), what);
	check_flags(rfd, before, "after the read completed", what);
	close(rfd);
	close(wfd);
}

static int test(void)
{
	int p[2], sv[2];

	SYSCHECK(pipe(p));
	run(p[0], p[1], "aio_read on a blocking pipe");
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	run(sv[0], sv[1], "aio_read on a blocking stream socket");
	return 0;
}

TEST_MAIN(test)
