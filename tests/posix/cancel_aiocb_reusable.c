/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * After a pending pipe read is cancelled and its result collected, the same aiocb can be
 * submitted again at once, and the new read gets the data: nothing of the cancelled request
 * is left to interfere.
 */
#include "common.h"

static int test(void)
{
	char buf[16];
	struct aiocb r;
	int p[2], ret;

	SYSCHECK(pipe(p));
	for (int round = 0; round < 50; round++) {
		char msg[16];
		int len = snprintf(msg, sizeof(msg), "round %d", round);

		aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
		EXPECT_OK(aio_read(&r));
		ret = aio_cancel(p[0], &r);
		EXPECT(ret == AIO_CANCELED,
		       "round %d: aio_cancel returned %d, expected AIO_CANCELED", round, ret);
		EXPECT(aio_error(&r) == ECANCELED, "round %d: not ECANCELED", round);
		EXPECT(aio_return(&r) == -1, "round %d: aio_return is not -1", round);

		memset(buf, 0, sizeof(buf));
		aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
		EXPECT_OK(aio_read(&r));
		write_all(p[1], msg, (size_t)len);
		expect_done_ok(&r, len, "the read submitted again on the cancelled aiocb");
		EXPECT(memcmp(buf, msg, (size_t)len) == 0, "round %d: got \"%s\", expected \"%s\"",
		       round, buf, msg);
	}
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
