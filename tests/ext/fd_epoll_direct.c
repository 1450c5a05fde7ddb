/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * posixaio_fd() in an epoll set, made before the program's first O_DIRECT request: the
 * io_uring engine gives O_DIRECT to native AIO, whose descriptor comes into being then, and
 * posixaio_fd() must report those completions too. The loop calls nothing of the library's
 * between submitting and epoll_wait, so nothing else collects the completion for it: each
 * of a few O_DIRECT reads must make the set readable, then be claimed with its data.
 */
#include "ext.h"

#define BLK 4096
#define NREAD 4

static unsigned char data[NREAD][BLK] __attribute__((aligned(BLK)));
static unsigned char got[BLK] __attribute__((aligned(BLK)));

static int test(void)
{
	int cfd = posixaio_fd(), ep = epoll_create1(EPOLL_CLOEXEC), fd, err;
	struct epoll_event ev = {.events = EPOLLIN};
	struct aiocb r, *cb;
	ssize_t ret;

	EXPECT(cfd >= 0, "posixaio_fd: %s", errname(errno));
	SYSCHECK(ep);
	SYSCHECK(epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev));
	fd = tmp_file_in(tmp_dir(), O_RDWR | O_DIRECT);
	if (fd < 0)
		skip("%s does not accept O_DIRECT: %s", tmp_dir(), strerror(errno));
	for (int i = 0; i < NREAD; i++)
		memset(data[i], 'a' + i, BLK);
	if (pwrite(fd, data, sizeof(data), 0) != (ssize_t)sizeof(data))
		skip("%s accepts O_DIRECT opens but not writes: %s", tmp_dir(), strerror(errno));

	for (int i = 0; i < NREAD; i++) {
		memset(got, 0, BLK);
		aiocb_prep(&r, fd, got, BLK, (off_t)i * BLK);
		EXPECT_OK(aio_read(&r));
		EXPECT(epoll_wait(ep, &ev, 1, WAIT_DONE_MS) == 1,
		       "O_DIRECT read %d: posixaio_fd() not readable within %d ms", i,
		       WAIT_DONE_MS);
		cb = claim_one(&ret, &err, "an O_DIRECT read");
		EXPECT(cb == &r && ret == BLK && err == 0, "O_DIRECT read %d: claimed %p, %zd (%s)",
		       i, (void *)cb, ret, errname(err));
		EXPECT(!memcmp(got, data[i], BLK), "O_DIRECT read %d: other bytes than written", i);
	}
	expect_nothing("after the reads");
	close(fd);
	close(ep);
	return 0;
}

TEST_MAIN(test)
