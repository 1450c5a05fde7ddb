/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio skips NULL entries and LIO_NOP members: they do no I/O and do not hold up
 * LIO_WAIT; a list of only those returns 0 at once.
 */
#include "common.h"

static int test(void)
{
	char rbuf[64], nopbuf[64], wbuf[64] = "written";
	struct aiocb rd, wr, nop1, nop2;
	struct aiocb *list[7];
	int fd = tmp_file_with(0, 4096, pattern_byte), p[2];

	SYSCHECK(pipe(p));
	aiocb_prep(&rd, fd, rbuf, sizeof(rbuf), 0);
	rd.aio_lio_opcode = LIO_READ;
	aiocb_prep(&wr, fd, wbuf, sizeof(wbuf), 1024);
	wr.aio_lio_opcode = LIO_WRITE;
	/* A NOP on a pipe read that would never complete, and one on a bad descriptor. */
	aiocb_prep(&nop1, p[0], nopbuf, sizeof(nopbuf), 0);
	nop1.aio_lio_opcode = LIO_NOP;
	aiocb_prep(&nop2, -1, nopbuf, sizeof(nopbuf), 0);
	nop2.aio_lio_opcode = LIO_NOP;

	list[0] = NULL;
	list[1] = &nop1;
	list[2] = &rd;
	list[3] = NULL;
	list[4] = &nop2;
	list[5] = &wr;
	list[6] = NULL;
	EXPECT_OK(lio_listio(LIO_WAIT, list, 7, NULL));
	EXPECT(aio_error(&rd) == 0 && aio_return(&rd) == sizeof(rbuf), "the read member failed");
	EXPECT(aio_error(&wr) == 0 && aio_return(&wr) == sizeof(wbuf), "the write member failed");
	EXPECT(bytes_available(p[0]) == 0, "setup: the pipe is not empty");

	/* Only NOPs and NULLs. */
	struct aiocb *empty[4] = {NULL, &nop1, NULL, &nop2};

	EXPECT_OK(lio_listio(LIO_WAIT, empty, 4, NULL));
	EXPECT_OK(lio_listio(LIO_NOWAIT, empty, 4, NULL));
	EXPECT_OK(lio_listio(LIO_WAIT, empty, 0, NULL));

	/* The pipe NOP took nothing: data written now is all still there. */
	write_all(p[1], "abc", 3);
	sleep_ms(10);
	EXPECT(bytes_available(p[0]) == 3, "an LIO_NOP member read from the pipe");
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
