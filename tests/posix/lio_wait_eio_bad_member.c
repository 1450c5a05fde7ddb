/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio(LIO_WAIT) with a member on a bad descriptor returns -1/EIO; the good members are
 * done with their results, and the bad one reports EBADF through aio_error (aio_return -1).
 */
#include "common.h"

static int test(void)
{
	char b0[64], b1[64], b2[64] = "write";
	struct aiocb good_read, bad, good_write;
	struct aiocb *list[3] = {&good_read, &bad, &good_write};
	int fd = tmp_file_with(0, 4096, pattern_byte), ret, err;

	aiocb_prep(&good_read, fd, b0, sizeof(b0), 0);
	good_read.aio_lio_opcode = LIO_READ;
	aiocb_prep(&bad, -1, b1, sizeof(b1), 0);
	bad.aio_lio_opcode = LIO_READ;
	aiocb_prep(&good_write, fd, b2, sizeof(b2), 100);
	good_write.aio_lio_opcode = LIO_WRITE;

	errno = 0;
	ret = lio_listio(LIO_WAIT, list, 3, NULL);
	err = errno;
	EXPECT(ret == -1 && err == EIO,
	       "lio_listio(LIO_WAIT) with a member on fd -1: expected -1/EIO, got %d/%s", ret,
	       errname(err));
	err = aio_error(&bad);
	EXPECT(err == EBADF, "the member on fd -1: expected aio_error EBADF, got %s", errname(err));
	EXPECT(aio_return(&bad) == -1, "the member on fd -1: aio_return is not -1");
	err = aio_error(&good_read);
	EXPECT(err == 0, "the good read: expected aio_error 0, got %s", errname(err));
	EXPECT(aio_return(&good_read) == sizeof(b0), "the good read is short");
	err = aio_error(&good_write);
	EXPECT(err == 0, "the good write: expected aio_error 0, got %s", errname(err));
	EXPECT(aio_return(&good_write) == sizeof(b2), "the good write is short");
	close(fd);
	return 0;
}

TEST_MAIN(test)
