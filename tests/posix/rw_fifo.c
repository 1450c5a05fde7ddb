/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_read and aio_write on a FIFO made with mkfifo. */
#include "common.h"

static int test(void)
{
	static const char msg[] = "through the fifo";
	char buf[64];
	struct aiocb r, w;
	int rfd, wfd;

	fifo_open_pair(&rfd, &wfd);

	memset(buf, 0, sizeof(buf));
	aiocb_prep(&r, rfd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	expect_pending(&r, "aio_read on an empty FIFO");
	aiocb_prep(&w, wfd, (void *)msg, sizeof(msg), 0);
	EXPECT_OK(aio_write(&w));
	expect_done_ok(&w, sizeof(msg), "aio_write on a FIFO");
	expect_done_ok(&r, sizeof(msg), "aio_read on a FIFO");
	EXPECT(memcmp(buf, msg, sizeof(msg)) == 0, "aio_read got \"%.*s\", expected \"%s\"",
	       (int)sizeof(msg), buf, msg);
	close(rfd);
	close(wfd);
	return 0;
}

TEST_MAIN(test)
