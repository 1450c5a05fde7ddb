/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * posixaio_fd() polls readable when something can be claimed, not while the library works
 * on a request: an event loop waiting on it wakes about once per completion, however long
 * the request takes. Counted with a level-triggered and an edge-triggered epoll set, for a
 * buffered 16 KiB write and for a read of a file not in the page cache (big enough that a
 * thread or the kernel works on it for a while). Each wakeup is answered as an event loop
 * does: claim with a zero timeout until EAGAIN.
 */
#include "ext.h"

#define SMALL (16 * 1024)
#define BIG (32 * 1024 * 1024)
#define SPARE 2 /* wakeups allowed beyond one per completion */

static char *buf;

/* Wakeups of ep until cb is claimed; every wakeup claims what there is. */
static long wakeups_until_claimed(int ep, struct aiocb *cb, long want, const char *what)
{
	long wakeups = 0;

	for (;;) {
		struct epoll_event ev;
		int n = epoll_wait(ep, &ev, 1, WAIT_DONE_MS);
		struct aiocb *got;
		ssize_t ret;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			FAIL("%s: epoll_wait: %s", what, strerror(errno));
		EXPECT(n == 1, "%s: posixaio_fd not readable within %d ms", what, WAIT_DONE_MS);
		wakeups++;
		EXPECT(wakeups < 1000000, "%s: over a million wakeups; giving up", what);
		while ((ret = waitcomplete_ms(&got, 0)) >= 0 || errno != EAGAIN) {
			EXPECT(got == cb, "%s: claimed an aiocb not submitted (%p)", what,
			       (void *)got);
			EXPECT(ret == want, "%s: aio_waitcomplete gave %zd (%s), expected %ld", what,
			       ret, ret < 0 ? errname(errno) : "ok", want);
			return wakeups;
		}
	}
}

static void one(int ep, int fd, bool write, size_t len, const char *what)
{
	struct aiocb cb;
	long wakeups;

	aiocb_prep(&cb, fd, buf, len, 0);
	EXPECT_OK(write ? aio_write(&cb) : aio_read(&cb));
	wakeups = wakeups_until_claimed(ep, &cb, (long)len, what);
	EXPECT(wakeups <= 1 + SPARE, "%s: posixaio_fd woke the loop %ld times for one completion",
	       what, wakeups);
}

static void cold(int fd)
{
	SYSCHECK(fsync(fd));
	errno = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	SYSCHECK(errno ? -1 : 0);
}

static int test(void)
{
	int afd = posixaio_fd(), fd = tmp_file(O_RDWR);
	struct epoll_event ev = { .events = EPOLLIN };
	int eps[2];
	const char *names[2] = { "level-triggered", "edge-triggered" };
	char what[128];

	EXPECT(afd >= 0, "posixaio_fd: %s", errname(errno));
	buf = malloc(BIG);
	EXPECT(buf, "malloc");
	for (size_t i = 0; i < BIG; i++)
		buf[i] = (char)pattern_byte(i);
	write_all(fd, buf, BIG);
	for (int i = 0; i < 2; i++) {
		SYSCHECK(eps[i] = epoll_create1(EPOLL_CLOEXEC));
		ev.events = EPOLLIN | (i ? EPOLLET : 0);
		SYSCHECK(epoll_ctl(eps[i], EPOLL_CTL_ADD, afd, &ev));
	}
	for (int i = 0; i < 2; i++) {
		snprintf(what, sizeof(what), "%s, buffered 16 KiB aio_write", names[i]);
		one(eps[i], fd, true, SMALL, what);
		cold(fd);
		snprintf(what, sizeof(what), "%s, 32 MiB aio_read of a file out of the cache",
			 names[i]);
		one(eps[i], fd, false, BIG, what);
		for (size_t j = 0; j < BIG; j += 4096)
			EXPECT(buf[j] == (char)pattern_byte(j), "%s: wrong byte at %zu", what, j);
	}
	close(eps[0]);
	close(eps[1]);
	close(fd);
	free(buf);
	return 0;
}

TEST_MAIN(test)
