/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where off_t has 32 bits (i386, armhf without -D_FILE_OFFSET_BITS=64), struct aiocb holds a
 * 32-bit aio_offset and then 4 bytes of padding the program need not set: aio_read(),
 * aio_write() and lio_listio() read the offset alone, whatever the padding holds, and a
 * negative one is EINVAL even when the padding is zero. Built both ways (with
 * -D_FILE_OFFSET_BITS=64 there is no padding and the same must hold); on a 64-bit ABI there
 * is none either.
 */
#include "common.h"

#define LEN 32

/* An aiocb all of whose bytes are junk but those a program sets. */
static void prep(struct aiocb *cb, int junk, int fd, void *buf, off_t off, int opcode)
{
	memset(cb, junk, sizeof(*cb));
	cb->aio_fildes = fd;
	cb->aio_buf = buf;
	cb->aio_nbytes = LEN;
	cb->aio_offset = off;
	cb->aio_reqprio = 0;
	cb->aio_lio_opcode = opcode;
	memset(&cb->aio_sigevent, 0, sizeof(cb->aio_sigevent));
	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
}

static int test(void)
{
	char a[LEN] = "marker A, put at 8 KiB", b[LEN] = "marker B, at 12 KiB";
	char buf[LEN];
	struct aiocb cb;
	struct aiocb *list[1] = {&cb};
	int fd = tmp_file(O_RDWR), ret;

	SYSCHECK(pwrite(fd, a, LEN, 8192));

	memset(buf, 0, LEN);
	prep(&cb, 0xff, fd, buf, 8192, LIO_READ);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, LEN, "aio_read at 8 KiB, padding 0xff");
	EXPECT(memcmp(buf, a, LEN) == 0, "aio_read at 8 KiB got \"%.*s\"", LEN, buf);

	prep(&cb, 0xa5, fd, b, 12288, LIO_WRITE);
	EXPECT_OK(aio_write(&cb));
	expect_done_ok(&cb, LEN, "aio_write at 12 KiB, padding 0xa5");
	memset(buf, 0, LEN);
	SYSCHECK(pread(fd, buf, LEN, 12288));
	EXPECT(memcmp(buf, b, LEN) == 0, "aio_write at 12 KiB did not write there");

	memset(buf, 0, LEN);
	prep(&cb, 0xff, fd, buf, 8192, LIO_READ);
	EXPECT_OK(lio_listio(LIO_WAIT, list, 1, NULL));
	expect_done_ok(&cb, LEN, "lio_listio read at 8 KiB, padding 0xff");
	EXPECT(memcmp(buf, a, LEN) == 0, "lio_listio read at 8 KiB got \"%.*s\"", LEN, buf);

	/* -4096 in 32 bits, followed by zeros: 4294963200 if read as 64 bits. */
	prep(&cb, 0, fd, buf, -4096, LIO_READ);
	errno = 0;
	ret = aio_read(&cb);
	/* POSIX allows the error from the call or from the request. */
	if (ret == 0)
		expect_done_err(&cb, EINVAL, "aio_read at offset -4096, padding 0");
	else
		EXPECT(ret == -1 && errno == EINVAL,
		       "aio_read at offset -4096: got %d/%s, expected EINVAL", ret,
		       errname(errno));
	prep(&cb, 0, fd, b, -4096, LIO_WRITE);
	errno = 0;
	ret = lio_listio(LIO_WAIT, list, 1, NULL);
	EXPECT(ret == -1 && errno == EIO, "lio_listio write at offset -4096: got %d/%s, expected EIO",
	       ret, errname(errno));
	EXPECT(aio_error(&cb) == EINVAL, "the lio_listio member at offset -4096: aio_error %s",
	       errname(aio_error(&cb)));
	close(fd);
	return 0;
}

TEST_MAIN(test)
