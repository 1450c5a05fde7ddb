/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio(LIO_NOWAIT) of reads that alternate between two files, both descriptors closed
 * and their numbers taken by a third file as soon as the call returns: each read gets the
 * bytes of the file its own descriptor named at submission (POSIX: as if the close had not
 * yet occurred). Several rounds, so that the library's per-request slots come back in other
 * orders; reads larger than what a submitting call copies itself, so that they are handed
 * over.
 */
#include "common.h"

#define N 12
#define LEN (128 * 1024)
#define ROUNDS 4

static unsigned char other_byte(size_t i)
{
	return (unsigned char)~pattern_byte(i);
}

static unsigned char third_byte(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

static int test(void)
{
	static char bufs[N][LEN];
	struct aiocb cbs[N];
	struct aiocb *list[N];

	for (int round = 0; round < ROUNDS; round++) {
		int a = tmp_file_with(0, N * LEN, pattern_byte);
		int b = tmp_file_with(0, N * LEN, other_byte);
		int reuse[2];

		for (int i = 0; i < N; i++) {
			memset(bufs[i], 0x5a, LEN);
			aiocb_prep(&cbs[i], i % 2 ? b : a, bufs[i], LEN, (off_t)i * LEN);
			cbs[i].aio_lio_opcode = LIO_READ;
			list[i] = &cbs[i];
		}
		EXPECT_OK(lio_listio(LIO_NOWAIT, list, N, NULL));
		close(a);
		close(b);
		reuse[0] = tmp_file_with(0, N * LEN, third_byte);
		reuse[1] = tmp_file_with(0, N * LEN, third_byte);
		for (int i = 0; i < N; i++) {
			unsigned char (*want)(size_t) = i % 2 ? other_byte : pattern_byte;

			expect_done_ok(&cbs[i], LEN, "read");
			for (size_t j = 0; j < LEN; j++)
				EXPECT((unsigned char)bufs[i][j] == want((size_t)i * LEN + j),
				       "round %d, read %d (of file %c): byte %zu is not that file's", round,
				       i, i % 2 ? 'b' : 'a', j);
		}
		close(reuse[0]);
		close(reuse[1]);
	}
	return 0;
}

TEST_MAIN(test)
