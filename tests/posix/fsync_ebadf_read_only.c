/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_fsync on a valid descriptor that is not open for writing fails with -1/EBADF: POSIX
 * says "[EBADF] The aio_fildes member ... is not a valid file descriptor open for writing"
 * among the errors aio_fsync shall fail with.
 */
#include "common.h"

static int test(void)
{
	char path[4096];
	struct aiocb cb;
	int tfd, rdonly, ret;

	snprintf(path, sizeof(path), "%s/posixaio-test-XXXXXX", tmp_dir());
	SYSCHECK(tfd = mkstemp(path));
	rdonly = open(path, O_RDONLY);
	unlink(path);
	EXPECT(rdonly >= 0, "cannot reopen the temporary file: %s", strerror(errno));

	aiocb_prep(&cb, rdonly, NULL, 0, 0);
	errno = 0;
	ret = aio_fsync(O_SYNC, &cb);
	if (ret == 0) {
		int err = wait_done(&cb, "aio_fsync on O_RDONLY");

		FAIL("aio_fsync on an O_RDONLY descriptor: expected -1/EBADF, the request was "
		     "accepted (aio_error %s)",
		     errname(err));
	}
	EXPECT(ret == -1 && errno == EBADF,
	       "aio_fsync on an O_RDONLY descriptor: expected -1/EBADF, got %d/%s", ret,
	       errname(errno));

	/* The same file through a writable descriptor is fine. */
	aiocb_prep(&cb, tfd, NULL, 0, 0);
	EXPECT_OK(aio_fsync(O_SYNC, &cb));
	expect_done_ok(&cb, 0, "aio_fsync on the O_RDWR descriptor");
	close(tfd);
	close(rdonly);
	return 0;
}

TEST_MAIN(test)
