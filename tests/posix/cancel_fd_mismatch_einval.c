/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_cancel(fd, aiocb) where aiocb->aio_fildes is not fd fails with -1/EINVAL (as glibc does;
 * POSIX leaves it undefined) and leaves the request alone.
 */
#include "common.h"

static int test(void)
{
	char buf[16];
	struct aiocb r;
	int p[2], q[2], ret;

	SYSCHECK(pipe(p));
	SYSCHECK(pipe(q));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	errno = 0;
	ret = aio_cancel(q[0], &r);
	EXPECT(ret == -1 && errno == EINVAL,
	       "aio_cancel with another descriptor than the aiocb's: expected -1/EINVAL, got %d/%s",
	       ret, errname(errno));
	expect_pending(&r, "the read after the refused cancel");
	write_all(p[1], "ok", 2);
	expect_done_ok(&r, 2, "the read after the refused cancel");
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	return 0;
}

TEST_MAIN(test)
