/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * posixaio_fd(): the same close-on-exec descriptor every call; not readable with nothing to
 * claim, nor while a request is pending; readable (poll and select) once it completed,
 * without any call into the library; not readable again once everything is claimed, by
 * aio_waitcomplete() or by aio_return().
 */
#include "ext.h"

#define ROUNDS 200

static bool select_readable(int fd, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	fd_set set;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	return select(fd + 1, &set, NULL, NULL, &tv) == 1 && FD_ISSET(fd, &set);
}

/* Claim whatever is there, as a loop would when the descriptor is readable. */
static int drain(void)
{
	struct aiocb *cb;
	int n = 0;

	while (waitcomplete_ms(&cb, 0) >= 0 || errno != EAGAIN)
		n++;
	return n;
}

static int test(void)
{
	struct aiocb r, f;
	char buf[16], fbuf[64];
	int fd = posixaio_fd(), p[2], file = tmp_file_with(0, 4096, pattern_byte);

	EXPECT(fd >= 0, "posixaio_fd failed: %s", errname(errno));
	EXPECT(posixaio_fd() == fd, "posixaio_fd gave another descriptor the second time");
	EXPECT(fcntl(fd, F_GETFD) & FD_CLOEXEC, "posixaio_fd is not close-on-exec");
	EXPECT(!readable_now(fd, 0), "readable with nothing submitted");

	SYSCHECK(pipe(p));
	/*
	 * Several rounds: the background thread takes the pipe's readiness from the engine's
	 * set while the program polls, and the descriptor must stay readable across that.
	 */
	for (int round = 0; round < ROUNDS; round++) {
		aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
		EXPECT_OK(aio_read(&r));
		EXPECT(!readable_now(fd, round ? 0 : 50), "readable while the only request is pending");
		write_all(p[1], "ping", 4);
		/* No library call between the write and the wait: the descriptor alone must wake. */
		EXPECT(readable_now(fd, WAIT_DONE_MS), "not readable after the pipe read completed");
		EXPECT(select_readable(fd, 0), "poll says readable, select does not (round %d)",
		       round);
		EXPECT(drain() == 1, "expected exactly one request to claim");
		EXPECT(!readable_now(fd, 0), "still readable after everything was claimed");
		EXPECT(!select_readable(fd, 0), "select still says readable after the claim");
	}

	/* aio_return() claims too. */
	aiocb_prep(&f, file, fbuf, sizeof(fbuf), 0);
	EXPECT_OK(aio_read(&f));
	EXPECT(readable_now(fd, WAIT_DONE_MS), "not readable after a file read completed");
	expect_done_ok(&f, sizeof(fbuf), "file read");
	EXPECT(!readable_now(fd, 0), "readable after aio_return claimed the only completion");
	expect_nothing("after aio_return");
	close(p[0]);
	close(p[1]);
	close(file);
	return 0;
}

TEST_MAIN(test)
