/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio(LIO_WAIT) with reads and writes on a file returns 0 once every member is done:
 * on return, each member reports 0 and its full length, the writes are in the file and the
 * reads got the file's bytes.
 */
#include "common.h"

#define NW 8
#define NR 8
#define LEN 4096

static int test(void)
{
	static char wbuf[NW][LEN], rbuf[NR][LEN], check[LEN];
	struct aiocb cbs[NW + NR];
	struct aiocb *list[NW + NR];
	int fd = tmp_file_with(0, NR * LEN, pattern_byte);

	/* Reads of the first NR blocks, writes after them, interleaved in the list. */
	for (int i = 0; i < NW + NR; i++) {
		if (i % 2) {
			int k = i / 2;

			memset(wbuf[k], 'a' + k, LEN);
			aiocb_prep(&cbs[i], fd, wbuf[k], LEN, (off_t)(NR + k) * LEN);
			cbs[i].aio_lio_opcode = LIO_WRITE;
		} else {
			aiocb_prep(&cbs[i], fd, rbuf[i / 2], LEN, (off_t)(i / 2) * LEN);
			cbs[i].aio_lio_opcode = LIO_READ;
		}
		list[i] = &cbs[i];
	}
	EXPECT_OK(lio_listio(LIO_WAIT, list, NW + NR, NULL));
	for (int i = 0; i < NW + NR; i++) {
		int err = aio_error(&cbs[i]);

		EXPECT(err == 0,
		       "member %d: aio_error right after LIO_WAIT returned: expected 0, got "
		       "%s",
		       i, errname(err));
		EXPECT(aio_return(&cbs[i]) == LEN, "member %d: aio_return is not %d", i, LEN);
	}
	for (int k = 0; k < NR; k++)
		for (int j = 0; j < LEN; j++)
			EXPECT((unsigned char)rbuf[k][j] ==
				       pattern_byte((size_t)k * LEN + (size_t)j),
			       "read of block %d got other bytes than the file's", k);
	for (int k = 0; k < NW; k++) {
		EXPECT(pread(fd, check, LEN, (off_t)(NR + k) * LEN) == LEN, "pread failed");
		EXPECT(memcmp(check, wbuf[k], LEN) == 0, "write of block %d is not in the file", k);
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
