/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A call that succeeds leaves errno as it found it, whatever the library tried on the way: reads
 * and writes on a cached regular file, an O_DIRECT file (where one is to be had), a pipe and a
 * socket (reads there also submitted before their bytes are written), and the aio_error,
 * aio_suspend and aio_return that finish them. A program that reads
 * errno after a successful call it made in between (or keeps errno from an earlier failure)
 * sees what it saw with glibc.
 *
 * Then the number of a descriptor the library learnt something about (an O_DIRECT file) comes
 * to name another file, through dup2 and through close and open: reads there return the new
 * file's bytes.
 */
#include "common.h"

#define BLK 4096
#define MARK 4242

static void check_errno(const char *call, const char *what)
{
	EXPECT(errno == MARK, "%s on %s succeeded but changed errno from %d to %d (%s)", call, what,
	       MARK, errno, errname(errno));
}

/* Wait without touching errno on the way, then take the result; errno checked after each. */
static void finish(struct aiocb *cb, ssize_t want, const char *what)
{
	const struct aiocb *list[1] = {cb};
	int64_t deadline = now_ms() + WAIT_DONE_MS;
	ssize_t ret;
	int err;

	for (;;) {
		errno = MARK;
		err = aio_error(cb);
		check_errno("aio_error", what);
		if (err != EINPROGRESS)
			break;
		EXPECT(now_ms() < deadline, "%s: still in progress after %d ms", what, WAIT_DONE_MS);
		errno = MARK;
		if (aio_suspend(list, 1, NULL) == 0)
			check_errno("aio_suspend", what);
		else
			EXPECT(errno == EINTR, "%s: aio_suspend failed: %s", what, errname(errno));
	}
	EXPECT(err == 0, "%s: aio_error %d (%s)", what, err, errname(err));
	errno = MARK;
	ret = aio_return(cb);
	check_errno("aio_return", what);
	EXPECT(ret == want, "%s: aio_return %zd, expected %zd", what, ret, want);
}

/* Submit with call (aio_read or aio_write, named name), then finish: errno checked throughout. */
static void submit_ok(int (*call)(struct aiocb *), const char *name, int fd, void *buf,
		      size_t len, const char *what)
{
	struct aiocb cb;

	aiocb_prep(&cb, fd, buf, len, 0);
	errno = MARK;
	EXPECT(call(&cb) == 0, "%s on %s failed: %s", name, what, errname(errno));
	check_errno(name, what);
	finish(&cb, (ssize_t)len, what);
}

#define read_ok(fd, buf, len, what) submit_ok(aio_read, "aio_read", fd, buf, len, what)
#define write_ok(fd, buf, len, what) submit_ok(aio_write, "aio_write", fd, buf, len, what)

/* An O_DIRECT temporary file holding blk (BLK bytes of 'D'), or -1 when none is to be had. */
static int odirect_file(void *blk)
{
	const char *dirs[] = {tmp_dir(), "/tmp", "/var/tmp"};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int fd = tmp_file_in(dirs[i], O_RDWR | O_DIRECT);

		if (fd >= 0 && pwrite(fd, blk, BLK, 0) == BLK)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

/*
 * A read submitted before its bytes exist: it waits in the library, whose first try answered
 * EAGAIN inside aio_read(), and whose engine sleeps and wakes meanwhile.
 */
static void read_before_data(int rfd, int wfd, const char *what)
{
	static const char msg[32] = "bytes that came after the read";
	char got[sizeof(msg)];
	struct aiocb cb;

	aiocb_prep(&cb, rfd, got, sizeof(got), 0);
	errno = MARK;
	EXPECT(aio_read(&cb) == 0, "aio_read on %s failed: %s", what, errname(errno));
	check_errno("aio_read", what);
	errno = MARK;
	EXPECT(aio_error(&cb) == EINPROGRESS, "%s: the read finished with no bytes to read", what);
	check_errno("aio_error", what);
	EXPECT(write(wfd, msg, sizeof(msg)) == (ssize_t)sizeof(msg), "write to %s failed", what);
	finish(&cb, (ssize_t)sizeof(got), what);
	EXPECT(memcmp(got, msg, sizeof(msg)) == 0, "%s returned other bytes", what);
}

static void expect_bytes(const char *buf, size_t len, char c, const char *what)
{
	for (size_t i = 0; i < len; i++)
		EXPECT(buf[i] == c, "%s: byte %zu is '%c', expected '%c'", what, i, buf[i], c);
}

static int test(void)
{
	char small[64] = "a message through a pipe and a socket";
	char got[64];
	char *blk, *buf;
	int file, dfd, p[2], sv[2], num;

	EXPECT(posix_memalign((void **)&blk, BLK, BLK) == 0, "posix_memalign failed");
	EXPECT(posix_memalign((void **)&buf, BLK, BLK) == 0, "posix_memalign failed");

	/* A regular file, read back while it is in the page cache. */
	file = tmp_file(O_RDWR);
	SYSCHECK(file);
	memset(blk, 'F', BLK);
	write_ok(file, blk, BLK, "a regular file");
	read_ok(file, buf, BLK, "a regular file (cached)");
	expect_bytes(buf, BLK, 'F', "a regular file");

	SYSCHECK(pipe(p));
	write_ok(p[1], small, sizeof(small), "a pipe");
	read_ok(p[0], got, sizeof(got), "a pipe");
	EXPECT(memcmp(got, small, sizeof(small)) == 0, "the pipe returned other bytes");

	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	write_ok(sv[0], small, sizeof(small), "a socket");
	read_ok(sv[1], got, sizeof(got), "a socket");
	EXPECT(memcmp(got, small, sizeof(small)) == 0, "the socket returned other bytes");
	read_before_data(p[0], p[1], "a pipe read before its bytes");
	read_before_data(sv[1], sv[0], "a socket read before its bytes");

	memset(blk, 'D', BLK);
	dfd = odirect_file(blk);
	if (dfd < 0) {
		fprintf(stderr, "%s: NOTE: no temporary directory accepts O_DIRECT here; the O_DIRECT "
				"part did not run\n",
			test_name());
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		read_ok(dfd, buf, BLK, "an O_DIRECT file");
		expect_bytes(buf, BLK, 'D', "an O_DIRECT file");
	}

	/* The O_DIRECT file's number names the regular file now: dup2 over it. */
	num = dfd;
	SYSCHECK(dup2(file, num));
	read_ok(num, buf, 16, "a regular file dup2()ed over an O_DIRECT file's number");
	expect_bytes(buf, 16, 'F', "after dup2");
	/* ... and through close and open. */
	SYSCHECK(close(num));
	dfd = odirect_file(blk);
	EXPECT(dfd >= 0, "could not make the O_DIRECT file again");
	read_ok(dfd, buf, BLK, "an O_DIRECT file again");
	expect_bytes(buf, BLK, 'D', "an O_DIRECT file again");
	SYSCHECK(close(dfd));
	num = tmp_file(O_RDWR);
	SYSCHECK(num);
	memset(blk, 'G', BLK);
	SYSCHECK(pwrite(num, blk, BLK, 0));
	read_ok(num, buf, 16, "a regular file at a closed O_DIRECT file's number");
	expect_bytes(buf, 16, 'G', "a regular file at a closed O_DIRECT file's number");

	close(num);
	close(file);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	free(blk);
	free(buf);
	return 0;
}

TEST_MAIN(test)
