/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_readv()/aio_writev() with an iovec array at an address that is not mapped: EFAULT (from
 * the call or the request), never a crash, on a file, a pipe, a socket and a pty master, whose
 * readiness path on native AIO looks at the array before any system call has. (Not under
 * valgrind, which reports the bad address handed to the kernel as an error of its own.)
 */
#include "ext.h"

/* A vectored request whose array is not mapped: EFAULT, whoever looks at it first. */
static void bad_array(int fd, bool write, const char *what)
{
	struct aiocb cb;
	int err;

	aiocb_prep(&cb, fd, (void *)16, 2, 0);
	if ((write ? aio_writev(&cb) : aio_readv(&cb)) < 0) {
		EXPECT(errno == EFAULT, "%s: the call failed with %s", what, errname(errno));
		return;
	}
	err = wait_done(&cb, what);
	EXPECT(err == EFAULT, "%s: expected EFAULT, got %s", what, errname(err));
	EXPECT(aio_return(&cb) == -1, "%s: aio_return not -1", what);
}

static int test(void)
{
	int p[2], s[2], fd = tmp_file(O_RDWR), m = posix_openpt(O_RDWR | O_NOCTTY);

	SYSCHECK(pipe(p));
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	if (m < 0 || grantpt(m) || unlockpt(m))
		FAIL("no pty: %s", strerror(errno));
	bad_array(fd, false, "aio_readv of a bad array on a file");
	bad_array(fd, true, "aio_writev of a bad array on a file");
	/*
	 * Once a buffered write of this file had to block, native AIO sends the next ones
	 * straight to a helper thread, which must not read the array either (the fuzzer).
	 */
	for (int i = 0; i < 4; i++) {
		static char byte = 'x';
		struct aiocb w;

		aiocb_prep(&w, fd, &byte, 1, i);
		EXPECT_OK(aio_write(&w));
		expect_done_ok(&w, 1, "a plain write");
		bad_array(fd, true, "aio_writev of a bad array after plain writes");
	}
	bad_array(p[0], false, "aio_readv of a bad array on a pipe");
	bad_array(p[1], true, "aio_writev of a bad array on a pipe");
	bad_array(s[0], false, "aio_readv of a bad array on a socket");
	bad_array(m, false, "aio_readv of a bad array on a pty master");
	close(fd);
	close(m);
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
	return 0;
}

TEST_MAIN(test)
