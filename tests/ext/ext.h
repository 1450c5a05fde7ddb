/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared helpers for the tests of libposixaio's extensions (include/posixaio.h). They use
 * the conformance tests' harness (../posix/common.h) and link with the library only: the
 * extensions do not exist in glibc.
 */
#ifndef EXT_TEST_H
#define EXT_TEST_H

#include "../posix/common.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <posixaio.h>

/* aio_waitcomplete() with a timeout in milliseconds (-1: none); errno kept. */
__attribute__((unused)) static ssize_t waitcomplete_ms(struct aiocb **cbp, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	return aio_waitcomplete(cbp, ms < 0 ? NULL : &ts);
}

/* Claim one completion that must come within WAIT_DONE_MS; returns its aiocb. */
__attribute__((unused)) static struct aiocb *claim_one(ssize_t *ret, int *err, const char *what)
{
	struct aiocb *cb = (struct aiocb *)1;

	errno = 0;
	*ret = waitcomplete_ms(&cb, WAIT_DONE_MS);
	*err = *ret < 0 ? errno : 0;
	if (*ret < 0 && *err == EAGAIN)
		FAIL("%s: aio_waitcomplete found nothing within %d ms", what, WAIT_DONE_MS);
	EXPECT(cb != NULL && cb != (struct aiocb *)1, "%s: aio_waitcomplete returned %zd (%s) "
	       "without an aiocb", what, *ret, errname(*err));
	return cb;
}

/* Nothing may be waiting to be claimed: a zero timeout fails with EAGAIN and *cbp NULL. */
__attribute__((unused)) static void expect_nothing(const char *what)
{
	struct aiocb *cb = (struct aiocb *)1;
	ssize_t ret = waitcomplete_ms(&cb, 0);

	EXPECT(ret == -1 && errno == EAGAIN, "%s: aio_waitcomplete(0) gave %zd (%s), expected "
	       "-1 EAGAIN", what, ret, ret < 0 ? errname(errno) : "no error");
	EXPECT(cb == NULL, "%s: *cbp is %p after EAGAIN, expected NULL", what, (void *)cb);
}

/* Is fd readable right now? */
__attribute__((unused)) static bool readable_now(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);

	if (n < 0)
		FAIL("poll on posixaio_fd failed: %s", strerror(errno));
	return n > 0 && (p.revents & POLLIN);
}

#endif
