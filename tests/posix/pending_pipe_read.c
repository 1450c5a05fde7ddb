/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_read on an empty pipe returns at once and stays EINPROGRESS; it completes with the data
 * when the data is written.
 */
#include "common.h"

static int test(void)
{
	static const char msg[] = "late data";
	char buf[64];
	struct aiocb r;
	int p[2];

	SYSCHECK(pipe(p));
	memset(buf, 0, sizeof(buf));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	expect_pending(&r, "aio_read on an empty pipe");
	expect_pending(&r, "aio_read on an empty pipe, checked again");
	write_all(p[1], msg, sizeof(msg));
	expect_done_ok(&r, sizeof(msg), "aio_read after the data was written");
	EXPECT(memcmp(buf, msg, sizeof(msg)) == 0, "aio_read got \"%s\", expected \"%s\"", buf,
	       msg);
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
