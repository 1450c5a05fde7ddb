/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_fsync on -1 or on a closed descriptor fails with EBADF ("shall fail" in POSIX): -1/EBADF
 * from the call.
 */
#include "common.h"

static void expect_ebadf(int fd, const char *what)
{
	struct aiocb cb;
	int ret;

	aiocb_prep(&cb, fd, NULL, 0, 0);
	errno = 0;
	ret = aio_fsync(O_SYNC, &cb);
	if (ret == 0) {
		int err = wait_done(&cb, what);

		FAIL("aio_fsync on %s: expected -1/EBADF, the request was accepted (aio_error %s)",
		     what, errname(err));
	}
	EXPECT(ret == -1 && errno == EBADF, "aio_fsync on %s: expected -1/EBADF, got %d/%s", what,
	       ret, errname(errno));
}

static int test(void)
{
	struct aiocb cb;
	int tfd = tmp_file(O_RDWR), closed;

	/* Let the implementation open whatever it needs first, so the closed number stays free. */
	aiocb_prep(&cb, tfd, NULL, 0, 0);
	EXPECT_OK(aio_fsync(O_SYNC, &cb));
	expect_done_ok(&cb, 0, "warm-up aio_fsync");
	SYSCHECK(closed = fcntl(tfd, F_DUPFD, 777));
	close(closed);

	expect_ebadf(-1, "fd -1");
	expect_ebadf(closed, "a closed descriptor");
	close(tfd);
	return 0;
}

TEST_MAIN(test)
