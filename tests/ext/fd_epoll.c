/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * posixaio_fd() in an epoll set, as an event loop uses it. Level-triggered: reported while
 * anything is unclaimed, through several epoll_wait calls, and no longer once all is
 * claimed. Edge-triggered: reported after each new completion (the library may add an
 * edge of its own as it collects it), and not again while nothing new happens, however
 * long the completion stays unclaimed.
 */
#include "ext.h"

static int events(int ep, int timeout_ms)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, timeout_ms);

	if (n < 0)
		FAIL("epoll_wait: %s", strerror(errno));
	return n;
}

static void complete_pipe_read(struct aiocb *r, int *p, char *buf)
{
	aiocb_prep(r, p[0], buf, 4, 0);
	EXPECT_OK(aio_read(r));
	write_all(p[1], "data", 4);
}

static int test(void)
{
	int fd = posixaio_fd(), lt = epoll_create1(EPOLL_CLOEXEC), et = epoll_create1(0), p[2];
	struct epoll_event ev = { .events = EPOLLIN };
	struct aiocb r1, r2, r3, *cb;
	char b1[4], b2[4], b3[4];
	ssize_t ret;
	int err;

	EXPECT(fd >= 0, "posixaio_fd: %s", errname(errno));
	SYSCHECK(lt);
	SYSCHECK(et);
	SYSCHECK(epoll_ctl(lt, EPOLL_CTL_ADD, fd, &ev));
	ev.events = EPOLLIN | EPOLLET;
	SYSCHECK(epoll_ctl(et, EPOLL_CTL_ADD, fd, &ev));
	SYSCHECK(pipe(p));
	EXPECT(events(lt, 0) == 0 && events(et, 0) == 0, "an event with nothing submitted");

	complete_pipe_read(&r1, p, b1);
	EXPECT(events(lt, WAIT_DONE_MS) == 1, "level-triggered: no event after a completion");
	EXPECT(events(et, WAIT_DONE_MS) == 1, "edge-triggered: no event after a completion");
	/* Collect it without claiming: the library now holds it, unclaimed. */
	while (aio_error(&r1) == EINPROGRESS)
		sleep_ms(1);
	/*
	 * The result shows before the completion is listed for claiming, and the thread that
	 * lists it (the library's own, when it reaped) may not have yet: its edges come until
	 * it has, so drain them until a quiet moment.
	 */
	EXPECT(events(lt, WAIT_DONE_MS) == 1, "level-triggered: not reported again while unclaimed");
	while (events(et, 200 * time_scale()))
		; /* the library's own edges, from collecting it */
	EXPECT(events(et, 50) == 0, "edge-triggered: reported again with nothing new");
	EXPECT(events(lt, 0) == 1, "level-triggered: not reported again while unclaimed");

	complete_pipe_read(&r2, p, b2);
	EXPECT(events(et, WAIT_DONE_MS) == 1, "edge-triggered: no event for a second completion");
	cb = claim_one(&ret, &err, "first claim");
	EXPECT(events(lt, 0) == 1, "level-triggered: not reported with one left unclaimed");
	cb = claim_one(&ret, &err, "second claim");
	(void)cb;
	EXPECT(events(lt, 0) == 0, "level-triggered: reported with nothing left to claim");
	expect_nothing("after two claims");

	/* Again after it went quiet: a new edge. */
	complete_pipe_read(&r3, p, b3);
	EXPECT(events(et, WAIT_DONE_MS) == 1, "edge-triggered: no event after going quiet");
	cb = claim_one(&ret, &err, "third claim");
	EXPECT(cb == &r3 && ret == 4, "third claim: %p %zd", (void *)cb, ret);
	EXPECT(events(lt, 0) == 0, "level-triggered: reported at the end");
	close(lt);
	close(et);
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
