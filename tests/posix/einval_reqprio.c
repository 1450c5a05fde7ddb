/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_reqprio below 0 or above AIO_PRIO_DELTA_MAX is EINVAL (at the call or through aio_error,
 * as POSIX allows), for aio_read and aio_write; 0 and AIO_PRIO_DELTA_MAX are accepted.
 */
#include "common.h"

#include <limits.h>

static void submit_prio(int (*submit)(struct aiocb *), int fd, int prio, int want_err,
			const char *what)
{
	char buf[64];
	struct aiocb cb;
	int ret;

	memset(buf, 'x', sizeof(buf));
	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	cb.aio_reqprio = prio;
	errno = 0;
	ret = submit(&cb);
	if (want_err == 0) {
		EXPECT(ret == 0, "%s with aio_reqprio %d: expected 0, got %d (errno %s)", what,
		       prio, ret, errname(errno));
		expect_done_ok(&cb, sizeof(buf), what);
		return;
	}
	if (ret == -1) {
		EXPECT(errno == EINVAL, "%s with aio_reqprio %d: expected errno EINVAL, got %s",
		       what, prio, errname(errno));
		return;
	}
	EXPECT(ret == 0, "%s with aio_reqprio %d returned %d", what, prio, ret);
	expect_done_err(&cb, EINVAL, what);
}

static int test(void)
{
	int fd = tmp_file_with(0, 4096, pattern_byte);

	submit_prio(aio_read, fd, -1, EINVAL, "aio_read");
	submit_prio(aio_read, fd, INT_MIN, EINVAL, "aio_read");
	submit_prio(aio_read, fd, AIO_PRIO_DELTA_MAX + 1, EINVAL, "aio_read");
	submit_prio(aio_write, fd, -1, EINVAL, "aio_write");
	submit_prio(aio_write, fd, AIO_PRIO_DELTA_MAX + 1, EINVAL, "aio_write");
	submit_prio(aio_read, fd, 0, 0, "aio_read");
	submit_prio(aio_read, fd, AIO_PRIO_DELTA_MAX, 0, "aio_read");
	submit_prio(aio_write, fd, AIO_PRIO_DELTA_MAX, 0, "aio_write");
	close(fd);
	return 0;
}

TEST_MAIN(test)
