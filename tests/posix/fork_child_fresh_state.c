/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The child of fork starts with fresh AIO state: the parent's pending request on descriptor N
 * is not the child's, so a read the child submits on its own pipe installed at the same
 * number N completes at once when its data is there, and aio_cancel(N, NULL) in the child has
 * nothing to cancel. The parent's read is unaffected.
 */
#include "common.h"

static int child(int n)
{
	char buf[16];
	struct aiocb cb;
	int q[2], ret;

	SYSCHECK(pipe(q));
	SYSCHECK(dup2(q[0], n));
	write_all(q[1], "child", 5);
	aiocb_prep(&cb, n, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, 5, "child: a read on its own pipe at the parent's descriptor number");
	ret = aio_cancel(n, NULL);
	EXPECT(ret == AIO_ALLDONE,
	       "child: aio_cancel(fd, NULL) where only the parent had a request: expected "
	       "AIO_ALLDONE (%d), got %d",
	       AIO_ALLDONE, ret);
	return 0;
}

static int test(void)
{
	char buf[16];
	struct aiocb pending;
	int p[2], status;
	pid_t pid;

	/* The parent's pending read runs a library thread, and the child's requests start one. */
	SKIP_UNDER_TSAN("nothing here, but refuses a thread started in the forked child of a "
			"threaded process");
	SYSCHECK(pipe(p));
	aiocb_prep(&pending, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&pending));
	fflush(NULL);
	SYSCHECK(pid = fork_settled());
	if (pid == 0)
		_exit(child(p[0]));
	SYSCHECK(waitpid(pid, &status, 0));
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the child failed (status 0x%x), see its message above", status);
	expect_pending(&pending, "parent: the read pending across the fork");
	write_all(p[1], "parent", 6);
	expect_done_ok(&pending, 6, "parent: the read pending across the fork");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
