/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_suspend on a request that does not complete returns -1/EAGAIN when its relative timeout
 * runs out (a zero timeout included), having waited about that long, not less.
 */
#include "common.h"

static void expect_timeout(const struct aiocb *const list[], long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	int64_t start = now_ms();
	int ret;

	errno = 0;
	ret = aio_suspend(list, 1, &ts);
	EXPECT(ret == -1 && errno == EAGAIN,
	       "aio_suspend with a %ld ms timeout on a pending read: expected -1/EAGAIN, got %d/%s",
	       ms, ret, errname(errno));
	/* Relative, not absolute: a timeout read as a time in 1970 would return at once. */
	EXPECT(now_ms() - start >= ms - 1,
	       "aio_suspend with a %ld ms timeout returned after %lld ms", ms,
	       (long long)(now_ms() - start));
}

static int test(void)
{
	char buf[16];
	struct aiocb r;
	const struct aiocb *list[1] = {&r};
	int p[2];

	SYSCHECK(pipe(p));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	expect_timeout(list, 0);
	expect_timeout(list, 1);
	expect_timeout(list, 60);
	expect_timeout(list, 1100);
	EXPECT(aio_error(&r) == EINPROGRESS, "the read is no longer pending");
	write_all(p[1], "x", 1);
	expect_done_ok(&r, 1, "the pipe read after the timeouts");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
