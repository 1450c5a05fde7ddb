/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_read and aio_write on a FIFO made with mkfifo. */
#include "common.h"

static int test(void)
{
	static const char msg[] = "through the fifo";
	char dir[4096], path[4200], buf[64];
	struct aiocb r, w;
	int rfd, wfd, fl;

	snprintf(dir, sizeof(dir), "%s/posixaio-fifo-XXXXXX", tmp_dir());
	if (!mkdtemp(dir))
		FAIL("mkdtemp in %s: %s", tmp_dir(), strerror(errno));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600) == -1) {
		int err = errno;

		rmdir(dir);
		skip("mkfifo in %s: %s", tmp_dir(), strerror(err));
	}
	/* Open the read end without waiting for a writer, then make it blocking again. */
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	wfd = rfd >= 0 ? open(path, O_WRONLY) : -1;
	unlink(path);
	rmdir(dir);
	EXPECT(rfd >= 0 && wfd >= 0, "cannot open both ends of the FIFO: %s", strerror(errno));
	SYSCHECK(fl = fcntl(rfd, F_GETFL));
	SYSCHECK(fcntl(rfd, F_SETFL, fl & ~O_NONBLOCK));

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
