/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_read on a descriptor not open for reading and aio_write on one not open for writing fail
 * with EBADF (at the call or through aio_error), on a regular file and on a pipe.
 */
#include "common.h"

static void expect_ebadf(int (*submit)(struct aiocb *), int fd, const char *what)
{
	char buf[16] = "data";
	struct aiocb cb;
	int ret;

	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	errno = 0;
	ret = submit(&cb);
	if (ret == -1) {
		EXPECT(errno == EBADF, "%s: expected errno EBADF, got %s", what, errname(errno));
		return;
	}
	EXPECT(ret == 0, "%s returned %d", what, ret);
	expect_done_err(&cb, EBADF, what);
}

static int test(void)
{
	char path[4096];
	struct stat st;
	int tfd, rdonly, wronly, p[2];

	snprintf(path, sizeof(path), "%s/posixaio-test-XXXXXX", tmp_dir());
	SYSCHECK(tfd = mkstemp(path));
	write_all(tfd, "0123456789abcdef", 16);
	rdonly = open(path, O_RDONLY);
	wronly = open(path, O_WRONLY);
	unlink(path);
	close(tfd);
	EXPECT(rdonly >= 0 && wronly >= 0, "cannot reopen the temporary file: %s", strerror(errno));

	expect_ebadf(aio_read, wronly, "aio_read on an O_WRONLY file");
	expect_ebadf(aio_write, rdonly, "aio_write on an O_RDONLY file");
	SYSCHECK(fstat(rdonly, &st));
	EXPECT(st.st_size == 16, "the file size changed to %lld", (long long)st.st_size);

	SYSCHECK(pipe(p));
	expect_ebadf(aio_read, p[1], "aio_read on the write end of a pipe");
	expect_ebadf(aio_write, p[0], "aio_write on the read end of a pipe");
	close(p[0]);
	close(p[1]);
	close(rdonly);
	close(wronly);
	return 0;
}

TEST_MAIN(test)
