/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A request whose aio_sigevent.sigev_notify is none of SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD
 * (or SIGEV_THREAD_ID) is refused at the call: -1 with errno EINVAL, for aio_read, aio_write
 * and aio_fsync. (The notification could never be delivered as asked.)
 */
#include "common.h"

static void expect_refused(int (*submit)(struct aiocb *), int fd, int notify, const char *what)
{
	char buf[16] = "data";
	struct aiocb cb;
	int ret;

	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	cb.aio_sigevent.sigev_notify = notify;
	cb.aio_sigevent.sigev_signo = SIGUSR1;
	errno = 0;
	ret = submit(&cb);
	if (ret == 0) {
		wait_done(&cb, what);
		FAIL("%s with sigev_notify %d: expected -1/EINVAL, the request was accepted", what,
		     notify);
	}
	EXPECT(ret == -1 && errno == EINVAL,
	       "%s with sigev_notify %d: expected -1/EINVAL, got %d/%s", what, notify, ret,
	       errname(errno));
}

static int fsync_sync(struct aiocb *cb)
{
	return aio_fsync(O_SYNC, cb);
}

static int test(void)
{
	int fd = tmp_file_with(0, 4096, pattern_byte);

	/* A delivered SIGUSR1 would end the process: an accepted request shows. */
	expect_refused(aio_read, fd, 3, "aio_read");
	expect_refused(aio_read, fd, 12345, "aio_read");
	expect_refused(aio_read, fd, -1, "aio_read");
	expect_refused(aio_write, fd, 77, "aio_write");
	expect_refused(fsync_sync, fd, 77, "aio_fsync");
	close(fd);
	return 0;
}

TEST_MAIN(test)
