/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Once posixaio_fd() is readable, a zero-timeout aio_waitcomplete() returns the completion
 * that made it so, every time. The descriptor turns readable as soon as the kernel holds the
 * completion, which can be while the library's own thread is still collecting it: the claim
 * must wait that moment out, not answer EAGAIN (an event loop would go back to sleep on a
 * descriptor that stays readable, and spin). Many rounds, to meet that window.
 */
#include "ext.h"

#define ROUNDS 5000

static int test(void)
{
	int fd = posixaio_fd(), p[2];
	char buf[4];

	EXPECT(fd >= 0, "posixaio_fd failed: %s", errname(errno));
	SYSCHECK(pipe(p));
	for (int i = 0; i < ROUNDS; i++) {
		struct aiocb r, *cb = NULL;
		ssize_t ret;

		aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
		EXPECT_OK(aio_read(&r));
		write_all(p[1], "ping", 4);
		EXPECT(readable_now(fd, WAIT_DONE_MS), "round %d: not readable after the read "
		       "completed", i);
		ret = waitcomplete_ms(&cb, 0);
		EXPECT(ret == 4 && cb == &r, "round %d: posixaio_fd() was readable, but "
		       "aio_waitcomplete(0) gave %zd (%s)", i, ret,
		       ret < 0 ? errname(errno) : "no error");
	}
	expect_nothing("after every round");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
