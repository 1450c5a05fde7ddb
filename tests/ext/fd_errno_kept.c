/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * With posixaio_fd() in use, calls that succeed leave errno as they found it: posixaio_fd()
 * itself, aio_read of a cached file (finished inside the call), aio_error, aio_return that
 * claims it (posixaio_fd()'s eventfd and the engine's are cleared then, and a clear eventfd
 * answers EAGAIN), and aio_waitcomplete of a second read.
 */
#include "ext.h"

#define MARK 4242
#define ROUNDS 8

static void check_errno(const char *call, int round)
{
	EXPECT(errno == MARK, "round %d: %s succeeded but changed errno from %d to %d (%s)", round,
	       call, MARK, errno, errname(errno));
}

static int test(void)
{
	static char buf[512];
	int fd = tmp_file_with(0, 4096, pattern_byte);
	struct aiocb cb, *got;
	ssize_t ret;

	errno = MARK;
	EXPECT(posixaio_fd() >= 0, "posixaio_fd failed: %s", errname(errno));
	check_errno("posixaio_fd", 0);
	for (int i = 0; i < ROUNDS; i++) {
		aiocb_prep(&cb, fd, buf, sizeof(buf), 512);
		errno = MARK;
		EXPECT(aio_read(&cb) == 0, "round %d: aio_read failed: %s", i, errname(errno));
		check_errno("aio_read", i);
		for (int64_t deadline = now_ms() + WAIT_DONE_MS;;) {
			int err;

			errno = MARK;
			err = aio_error(&cb);
			check_errno("aio_error", i);
			if (err != EINPROGRESS)
				break;
			EXPECT(now_ms() < deadline, "round %d: read still in progress", i);
			sleep_ms(1);
		}
		errno = MARK;
		ret = aio_return(&cb);
		check_errno("aio_return", i);
		EXPECT(ret == (ssize_t)sizeof(buf), "round %d: aio_return %zd", i, ret);

		aiocb_prep(&cb, fd, buf, sizeof(buf), 1024);
		EXPECT_OK(aio_read(&cb));
		errno = MARK;
		ret = waitcomplete_ms(&got, WAIT_DONE_MS);
		check_errno("aio_waitcomplete", i);
		EXPECT(ret == (ssize_t)sizeof(buf) && got == &cb,
		       "round %d: aio_waitcomplete %zd, aiocb %p", i, ret, (void *)got);
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
