/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_waitcomplete() hands every completed request to the caller exactly once, with what
 * aio_return() would give, including one that completed before the first call (a
 * page-cached read finishes inside aio_read()); then a zero timeout polls: EAGAIN, *cbp
 * NULL.
 */
#include "ext.h"

#define N 64

static int test(void)
{
	static struct aiocb cbs[N];
	static char bufs[N][512];
	int seen[N] = { 0 };
	int fd = tmp_file_with(0, N * 512, pattern_byte);
	struct aiocb *cb;
	ssize_t ret;
	int err;

	/* The first request finishes before anyone waits for it. */
	aiocb_prep(&cbs[0], fd, bufs[0], 512, 0);
	EXPECT_OK(aio_read(&cbs[0]));
	while (aio_error(&cbs[0]) == EINPROGRESS)
		sleep_ms(1);
	cb = claim_one(&ret, &err, "the read that completed before the first call");
	EXPECT(cb == &cbs[0] && ret == 512, "first claim: got %p ret %zd, expected %p ret 512",
	       (void *)cb, ret, (void *)&cbs[0]);
	seen[0]++;
	expect_nothing("after the only request was claimed");

	for (int i = 1; i < N; i++) {
		aiocb_prep(&cbs[i], fd, bufs[i], 512, (off_t)i * 512);
		EXPECT_OK(aio_read(&cbs[i]));
	}
	for (int i = 1; i < N; i++) {
		cb = claim_one(&ret, &err, "reads of a file");
		EXPECT(cb >= cbs && cb < cbs + N, "aio_waitcomplete returned a foreign aiocb %p",
		       (void *)cb);
		EXPECT(ret == 512 && err == 0, "read %td: returned %zd (%s), expected 512",
		       cb - cbs, ret, errname(err));
		for (int k = 0; k < 512; k++)
			EXPECT((unsigned char)bufs[cb - cbs][k] == pattern_byte((size_t)(cb - cbs) *
									   512 + k),
			       "read %td: byte %d wrong", cb - cbs, k);
		seen[cb - cbs]++;
	}
	for (int i = 0; i < N; i++)
		EXPECT(seen[i] == 1, "request %d was handed out %d times, expected once", i,
		       seen[i]);
	expect_nothing("after every request was claimed");
	close(fd);
	return 0;
}

TEST_MAIN(test)
