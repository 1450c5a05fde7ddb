/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_read, aio_write and aio_fsync ignore aio_lio_opcode: garbage there, or the opcode of the
 * other direction, changes nothing.
 */
#include "common.h"

static int test(void)
{
	char wbuf[100], rbuf[100], check[100];
	struct aiocb cb;
	int fd = tmp_file(O_RDWR);

	memset(wbuf, 'w', sizeof(wbuf));
	aiocb_prep(&cb, fd, wbuf, sizeof(wbuf), 0);
	cb.aio_lio_opcode = LIO_READ;
	EXPECT_OK(aio_write(&cb));
	expect_done_ok(&cb, sizeof(wbuf), "aio_write with aio_lio_opcode LIO_READ");
	EXPECT(pread(fd, check, sizeof(check), 0) == sizeof(check) &&
		       memcmp(check, wbuf, sizeof(wbuf)) == 0,
	       "aio_write with aio_lio_opcode LIO_READ did not write the data");

	aiocb_prep(&cb, fd, wbuf, sizeof(wbuf), 100);
	cb.aio_lio_opcode = 0x5a5a;
	EXPECT_OK(aio_write(&cb));
	expect_done_ok(&cb, sizeof(wbuf), "aio_write with aio_lio_opcode 0x5a5a");

	memset(rbuf, 0, sizeof(rbuf));
	aiocb_prep(&cb, fd, rbuf, sizeof(rbuf), 100);
	cb.aio_lio_opcode = LIO_WRITE;
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(rbuf), "aio_read with aio_lio_opcode LIO_WRITE");
	EXPECT(memcmp(rbuf, wbuf, sizeof(rbuf)) == 0,
	       "aio_read with aio_lio_opcode LIO_WRITE did not read the data");

	aiocb_prep(&cb, fd, rbuf, sizeof(rbuf), 0);
	cb.aio_lio_opcode = -7;
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(rbuf), "aio_read with aio_lio_opcode -7");

	aiocb_prep(&cb, fd, NULL, 0, 0);
	cb.aio_lio_opcode = LIO_WRITE;
	EXPECT_OK(aio_fsync(O_SYNC, &cb));
	expect_done_ok(&cb, 0, "aio_fsync with aio_lio_opcode LIO_WRITE");
	close(fd);
	return 0;
}

TEST_MAIN(test)
