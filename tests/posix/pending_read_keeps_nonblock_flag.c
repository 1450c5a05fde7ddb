/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A caller that set O_NONBLOCK on a pipe or socket keeps it: the flag is still set after
 * aio_read, while it is outstanding and after it ends. The request itself either stays pending
 * until data comes (then gets that data) or ends with EAGAIN as read(2) would: both are
 * accepted, which one happened is printed.
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
	char buf[16];
	struct aiocb r;
	int flags, err;

	SYSCHECK(flags = fcntl(rfd, F_GETFL));
	flags |= O_NONBLOCK;
	SYSCHECK(fcntl(rfd, F_SETFL, flags));
	aiocb_prep(&r, rfd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	check_flags(rfd, flags, "right after aio_read", what);
	/* Give a request that ends like read(2) the time to do so. */
	const struct aiocb *list[1] = {&r};
	long ms = 50L * time_scale();
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (aio_suspend(list, 1, &ts) == -1 && errno == EINTR)
		;
	err = aio_error(&r);
	if (err == EINPROGRESS) {
		expect_pending(&r, what);
		check_flags(rfd, flags, "while the read is pending", what);
		write_all(wfd, msg, sizeof(msg));
		expect_done_ok(&r, sizeof(msg), what);
		printf("%s: pending until data came\n", what);
	} else {
		expect_done_err(&r, EAGAIN, what);
		printf("%s: ended with EAGAIN, as read(2)\n", what);
	}
	check_flags(rfd, flags, "after the read ended", what);
	close(rfd);
	close(wfd);
}

static int test(void)
{
	int p[2], sv[2];

	SYSCHECK(pipe(p));
	run(p[0], p[1], "aio_read on an O_NONBLOCK pipe");
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	run(sv[0], sv[1], "aio_read on an O_NONBLOCK stream socket");
	return 0;
}

TEST_MAIN(test)
