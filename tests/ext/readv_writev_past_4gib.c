/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_writev(), aio_readv() and a LIO_READV member at 5 GiB reach 5 GiB, not 5 GiB cut to 32
 * bits: built with -D_FILE_OFFSET_BITS=64 (as meson builds it), so on a 32-bit ABI
 * <posixaio.h> maps them to aio_writev64() and aio_readv64(), which are also called by name.
 */
#include "ext.h"

#define BIG_OFF ((off_t)5 << 30)

static void expect_at(int fd, off_t off, const char *want, const char *what)
{
	char buf[16] = {0};

	EXPECT(pread(fd, buf, 10, off) == 10 && memcmp(buf, want, 10) == 0,
	       "%s: \"%s\" is not at %lld", what, want, (long long)off);
}

static int test(void)
{
	char a[] = "hello", b[] = "world", x[6] = {0}, y[6] = {0};
	struct iovec w[2] = { { a, 5 }, { b, 5 } }, r[2] = { { x, 5 }, { y, 5 } };
	struct aiocb cb;
	struct aiocb64 cb64;
	struct aiocb *list[1] = { &cb };
	int fd = tmp_file(O_RDWR);

	_Static_assert(sizeof(off_t) == 8, "built without -D_FILE_OFFSET_BITS=64");
	if (pwrite(fd, "x", 1, BIG_OFF + 8192) != 1)
		skip("the temporary file system (%s) cannot hold a sparse file of 5 GiB: %s",
		     tmp_dir(), strerror(errno));

	aiocb_prep(&cb, fd, w, 2, BIG_OFF);
	EXPECT_OK(aio_writev(&cb));
	expect_done_ok(&cb, 10, "aio_writev at 5 GiB");
	expect_at(fd, BIG_OFF, "helloworld", "aio_writev at 5 GiB");

	aiocb_prep(&cb, fd, r, 2, BIG_OFF);
	EXPECT_OK(aio_readv(&cb));
	expect_done_ok(&cb, 10, "aio_readv at 5 GiB");
	EXPECT(!strcmp(x, "hello") && !strcmp(y, "world"), "aio_readv at 5 GiB got \"%s%s\"", x, y);

	memset(x, 0, sizeof(x));
	memset(y, 0, sizeof(y));
	aiocb_prep(&cb, fd, r, 2, BIG_OFF);
	cb.aio_lio_opcode = LIO_READV;
	EXPECT_OK(lio_listio(LIO_WAIT, list, 1, NULL));
	expect_done_ok(&cb, 10, "LIO_READV at 5 GiB");
	EXPECT(!strcmp(x, "hello") && !strcmp(y, "world"), "LIO_READV at 5 GiB got \"%s%s\"", x, y);

	/* The *64 names themselves: a write at 5 GiB + 4 KiB, read back at 5 GiB + 4 KiB. */
	memset(&cb64, 0, sizeof(cb64));
	cb64.aio_fildes = fd;
	cb64.aio_iov = w;
	cb64.aio_iovcnt = 2;
	cb64.aio_offset = BIG_OFF + 4096;
	cb64.aio_sigevent.sigev_notify = SIGEV_NONE;
	EXPECT_OK(aio_writev64(&cb64));
	expect_done_ok((struct aiocb *)&cb64, 10, "aio_writev64 at 5 GiB + 4 KiB");
	expect_at(fd, BIG_OFF + 4096, "helloworld", "aio_writev64 at 5 GiB + 4 KiB");
	memset(x, 0, sizeof(x));
	memset(y, 0, sizeof(y));
	cb64.aio_iov = r;
	EXPECT_OK(aio_readv64(&cb64));
	expect_done_ok((struct aiocb *)&cb64, 10, "aio_readv64 at 5 GiB + 4 KiB");
	EXPECT(!strcmp(x, "hello") && !strcmp(y, "world"), "aio_readv64 got \"%s%s\"", x, y);
	close(fd);
	return 0;
}

TEST_MAIN(test)
