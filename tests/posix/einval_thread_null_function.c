/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGEV_THREAD with a NULL sigev_notify_function is refused at the call: -1 with errno EINVAL
 * (accepting it would call NULL when the request completes).
 */
#include "common.h"

static int test(void)
{
	char buf[16];
	struct aiocb cb;
	int p[2], ret;

	/* A pipe read stays pending, so an accepted request cannot crash the test. */
	SYSCHECK(pipe(p));
	aiocb_prep(&cb, p[0], buf, sizeof(buf), 0);
	cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
	cb.aio_sigevent.sigev_notify_function = NULL;
	cb.aio_sigevent.sigev_notify_attributes = NULL;
	errno = 0;
	ret = aio_read(&cb);
	EXPECT(ret == -1 && errno == EINVAL,
	       "aio_read with SIGEV_THREAD and a NULL function: expected -1/EINVAL, got %d/%s", ret,
	       errname(errno));
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
