/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * After aio_return the caller owns the aiocb again: it can be resubmitted at once, and freed
 * and its memory reused for another aiocb, many times over (file and pipe requests).
 */
#include "common.h"

#define ROUNDS 2000

static int test(void)
{
	int fd = tmp_file_with(0, 65536, pattern_byte), p[2];
	char buf[32];
	struct aiocb same;

	SYSCHECK(pipe(p));
	for (int i = 0; i < ROUNDS; i++) {
		off_t off = (off_t)(i * 97) % (65536 - 32);
		struct aiocb *cb = malloc(sizeof(*cb));

		EXPECT(cb, "malloc failed");
		aiocb_prep(cb, fd, buf, sizeof(buf), off);
		EXPECT_OK(aio_read(cb));
		expect_done_ok(cb, sizeof(buf), "aio_read on a freshly allocated aiocb");
		EXPECT((unsigned char)buf[0] == pattern_byte((size_t)off), "round %d: wrong data",
		       i);
		/* Scribble over it before freeing, as a reused allocation would. */
		memset(cb, 0xa5, sizeof(*cb));
		free(cb);
	}
	for (int i = 0; i < ROUNDS; i++) {
		char msg = (char)i;

		aiocb_prep(&same, p[0], buf, 1, 0);
		EXPECT_OK(aio_read(&same));
		write_all(p[1], &msg, 1);
		expect_done_ok(&same, 1, "aio_read resubmitted on the same aiocb");
		EXPECT(buf[0] == msg, "round %d: wrong byte", i);
	}
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
