/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_read and aio_write on a pipe: a read queued first gets what an aio_write sends. */
#include "common.h"

static int test(void)
{
	static const char msg[] = "through the pipe";
	char buf[64];
	struct aiocb r, w;
	int p[2];

	SYSCHECK(pipe(p));
	memset(buf, 0, sizeof(buf));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	aiocb_prep(&w, p[1], (void *)msg, sizeof(msg), 0);
	EXPECT_OK(aio_write(&w));
	expect_done_ok(&w, sizeof(msg), "aio_write on a pipe");
	expect_done_ok(&r, sizeof(msg), "aio_read on a pipe");
	EXPECT(memcmp(buf, msg, sizeof(msg)) == 0, "aio_read got \"%.*s\", expected \"%s\"",
	       (int)sizeof(msg), buf, msg);

	/* The other order: data already in the pipe, then the read. */
	aiocb_prep(&w, p[1], (void *)msg, 5, 0);
	EXPECT_OK(aio_write(&w));
	expect_done_ok(&w, 5, "aio_write on a pipe");
	memset(buf, 0, sizeof(buf));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	expect_done_ok(&r, 5, "aio_read of data already in the pipe");
	EXPECT(memcmp(buf, msg, 5) == 0, "aio_read got other bytes than were written");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
