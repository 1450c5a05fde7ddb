/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio(LIO_WAIT) with an invalid member (negative aio_reqprio) returns -1/EIO; that
 * member reports EINVAL through aio_error, the other member completes normally.
 */
#include "common.h"

static int test(void)
{
	char b0[64], b1[64];
	struct aiocb good, invalid;
	struct aiocb *list[2] = {&invalid, &good};
	int fd = tmp_file_with(0, 4096, pattern_byte), ret, err;

	aiocb_prep(&good, fd, b0, sizeof(b0), 0);
	good.aio_lio_opcode = LIO_READ;
	aiocb_prep(&invalid, fd, b1, sizeof(b1), 0);
	invalid.aio_lio_opcode = LIO_READ;
	invalid.aio_reqprio = -1;

	errno = 0;
	ret = lio_listio(LIO_WAIT, list, 2, NULL);
	err = errno;
	EXPECT(ret == -1 && err == EIO,
	       "lio_listio(LIO_WAIT) with an invalid member: expected -1/EIO, got %d/%s", ret,
	       errname(err));
	err = aio_error(&invalid);
	EXPECT(err == EINVAL, "the member with aio_reqprio -1: expected aio_error EINVAL, got %s",
	       errname(err));
	EXPECT(aio_return(&invalid) == -1, "the invalid member: aio_return is not -1");
	err = aio_error(&good);
	EXPECT(err == 0, "the good member: expected aio_error 0, got %s", errname(err));
	EXPECT(aio_return(&good) == sizeof(b0), "the good member is short");
	close(fd);
	return 0;
}

TEST_MAIN(test)
