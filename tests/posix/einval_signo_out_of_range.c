/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGEV_SIGNAL with a signal number above SIGRTMAX (or negative) is refused at the call: -1
 * with errno EINVAL, for aio_read and aio_write.
 */
#include "common.h"

static void expect_refused(int (*submit)(struct aiocb *), int fd, int signo, const char *what)
{
	char buf[16] = "data";
	struct aiocb cb;
	int ret;

	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	cb.aio_sigevent.sigev_signo = signo;
	errno = 0;
	ret = submit(&cb);
	if (ret == 0) {
		wait_done(&cb, what);
		FAIL("%s with SIGEV_SIGNAL signo %d (SIGRTMAX is %d): expected -1/EINVAL, the "
		     "request was accepted",
		     what, signo, SIGRTMAX);
	}
	EXPECT(ret == -1 && errno == EINVAL, "%s with signo %d: expected -1/EINVAL, got %d/%s",
	       what, signo, ret, errname(errno));
}

static int test(void)
{
	int fd = tmp_file_with(0, 4096, pattern_byte);

	expect_refused(aio_read, fd, SIGRTMAX + 1, "aio_read");
	expect_refused(aio_read, fd, 1000, "aio_read");
	expect_refused(aio_read, fd, -1, "aio_read");
	expect_refused(aio_write, fd, SIGRTMAX + 1, "aio_write");
	close(fd);
	return 0;
}

TEST_MAIN(test)
