/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_readv()/aio_writev(): a gather write and a scatter read of a file at an offset, of a
 * pipe, and of a stream socket; a vectored write larger than the pipe's buffer is written
 * whole, in order, across the iovec boundaries (it goes on after short writes); IOV_MAX
 * entries work; a count above IOV_MAX fails with EINVAL from the call (a count of 0: see
 * readv_writev_zero_count); a pty takes a vectored write and read (through the readiness
 * path on native AIO).
 */
#include "ext.h"

#include <limits.h>

static void rw_file(void)
{
	char a[] = "hello ", b[] = "vectored ", c[] = "world";
	char x[7], y[9], z[4];
	struct iovec w[3] = { { a, 6 }, { b, 9 }, { c, 5 } };
	struct iovec r[3] = { { x, 7 }, { y, 9 }, { z, 4 } };
	struct aiocb cb;
	int fd = tmp_file(O_RDWR);

	aiocb_prep(&cb, fd, w, 3, 100);
	EXPECT_OK(aio_writev(&cb));
	expect_done_ok(&cb, 20, "aio_writev of a file");
	aiocb_prep(&cb, fd, r, 3, 100);
	cb.aio_iov = r;
	cb.aio_iovcnt = 3;
	EXPECT_OK(aio_readv(&cb));
	expect_done_ok(&cb, 20, "aio_readv of a file");
	EXPECT(!memcmp(x, "hello v", 7) && !memcmp(y, "ectored w", 9) && !memcmp(z, "orld", 4),
	       "aio_readv scattered the bytes wrongly");
	close(fd);
}

/* A writev of len bytes through fds[1], read back whole through fds[0] with readv. */
static void rw_stream(int *fds, size_t len, const char *what)
{
	unsigned char *src = malloc(len), *dst = malloc(len);
	struct iovec w[5], r[3];
	struct aiocb wcb, rcb;
	size_t got = 0, cut[4] = { 1, len / 3, len / 3 + 1, len - 7 };

	EXPECT(src && dst, "malloc");
	for (size_t i = 0; i < len; i++)
		src[i] = pattern_byte(i);
	/* Five pieces, one of them empty. */
	w[0] = (struct iovec){ src, cut[0] };
	w[1] = (struct iovec){ src + cut[0], cut[1] - cut[0] };
	w[2] = (struct iovec){ src + cut[1], 0 };
	w[3] = (struct iovec){ src + cut[1], cut[3] - cut[1] };
	w[4] = (struct iovec){ src + cut[3], len - cut[3] };
	aiocb_prep(&wcb, fds[1], w, 5, 0);
	EXPECT_OK(aio_writev(&wcb));
	while (got < len) {
		size_t left = len - got, third = left / 3;

		r[0] = (struct iovec){ dst + got, third };
		r[1] = (struct iovec){ dst + got + third, third };
		r[2] = (struct iovec){ dst + got + 2 * third, left - 2 * third };
		aiocb_prep(&rcb, fds[0], r, 3, 0);
		EXPECT_OK(aio_readv(&rcb));
		EXPECT(wait_done(&rcb, what) == 0, "%s: readv failed: %s", what,
		       errname(aio_error(&rcb)));
		ssize_t n = aio_return(&rcb);

		EXPECT(n > 0, "%s: readv returned %zd", what, n);
		got += (size_t)n;
	}
	expect_done_ok(&wcb, (ssize_t)len, what);
	EXPECT(!memcmp(src, dst, len), "%s: the bytes read differ from those written", what);
	free(src);
	free(dst);
}

static void iov_max(void)
{
	static struct iovec v[IOV_MAX + 1];
	static char bytes[IOV_MAX];
	struct aiocb cb;
	int fd = tmp_file(O_RDWR);

	for (int i = 0; i <= IOV_MAX; i++)
		v[i] = (struct iovec){ bytes + (i % IOV_MAX), 1 };
	aiocb_prep(&cb, fd, v, IOV_MAX, 0);
	EXPECT_OK(aio_writev(&cb));
	expect_done_ok(&cb, IOV_MAX, "aio_writev of IOV_MAX entries");
	aiocb_prep(&cb, fd, v, IOV_MAX + 1, 0);
	errno = 0;
	EXPECT(aio_writev(&cb) == -1 && errno == EINVAL, "aio_writev of IOV_MAX + 1 entries: "
	       "expected EINVAL, got %s", errname(errno));
	close(fd);
}

static void pty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), sl;
	char a[] = "ab", b[] = "cd\n", got[8] = { 0 };
	struct iovec w[2] = { { a, 2 }, { b, 3 } }, r[2] = { { got, 1 }, { got + 1, 7 } };
	struct aiocb cb;
	size_t have = 0;

	if (m < 0 || grantpt(m) || unlockpt(m))
		FAIL("no pty: %s", strerror(errno));
	sl = open(ptsname(m), O_RDWR | O_NOCTTY);
	SYSCHECK(sl);
	aiocb_prep(&cb, m, w, 2, 0);
	EXPECT_OK(aio_writev(&cb));
	expect_done_ok(&cb, 5, "aio_writev to a pty master");
	while (have < 5) {
		ssize_t n;

		aiocb_prep(&cb, sl, r, 2, 0);
		r[0] = (struct iovec){ got + have, 1 };
		r[1] = (struct iovec){ got + have + 1, 6 - have };
		EXPECT_OK(aio_readv(&cb));
		EXPECT(wait_done(&cb, "pty readv") == 0, "aio_readv of a pty slave failed");
		n = aio_return(&cb);
		EXPECT(n > 0, "aio_readv of a pty slave returned %zd", n);
		have += (size_t)n;
	}
	EXPECT(!memcmp(got, "abcd\n", 5), "the pty gave back \"%.5s\"", got);
	close(sl);
	close(m);
}

static int test(void)
{
	int p[2], s[2];

	rw_file();
	SYSCHECK(pipe(p));
	rw_stream(p, 3000, "pipe, small");
	rw_stream(p, 300000, "pipe, larger than its buffer");
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	rw_stream(s, 500000, "stream socket");
	iov_max();
	pty();
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
	return 0;
}

TEST_MAIN(test)
