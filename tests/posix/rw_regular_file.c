/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_write then aio_read on a buffered regular file, at several offsets: the data round-trips. */
#include "common.h"

#define NREQ 6
#define LEN 300

static const off_t offsets[NREQ] = {0, 1000, 4095, 8192, 65536 + 13, 1 << 20};

static int test(void)
{
	static char wbuf[NREQ][LEN], rbuf[NREQ][LEN], check[LEN];
	struct aiocb w[NREQ], r[NREQ];
	struct stat st;
	int fd = tmp_file(O_RDWR);

	for (int i = 0; i < NREQ; i++) {
		for (int j = 0; j < LEN; j++)
			wbuf[i][j] = (char)(i * 37 + j);
		aiocb_prep(&w[i], fd, wbuf[i], LEN, offsets[i]);
		EXPECT_OK(aio_write(&w[i]));
	}
	for (int i = 0; i < NREQ; i++) {
		expect_done_ok(&w[i], LEN, "aio_write");
		/* The bytes must be in the file at that offset, seen by plain pread. */
		EXPECT(pread(fd, check, LEN, offsets[i]) == LEN, "pread after aio_write failed");
		EXPECT(memcmp(check, wbuf[i], LEN) == 0,
		       "pread at offset %lld does not return what aio_write wrote there",
		       (long long)offsets[i]);
	}
	SYSCHECK(fstat(fd, &st));
	EXPECT(st.st_size == offsets[NREQ - 1] + LEN, "expected file size %lld, got %lld",
	       (long long)(offsets[NREQ - 1] + LEN), (long long)st.st_size);

	for (int i = 0; i < NREQ; i++) {
		memset(rbuf[i], 0x5a, LEN);
		aiocb_prep(&r[i], fd, rbuf[i], LEN, offsets[i]);
		EXPECT_OK(aio_read(&r[i]));
	}
	for (int i = 0; i < NREQ; i++) {
		expect_done_ok(&r[i], LEN, "aio_read");
		EXPECT(memcmp(rbuf[i], wbuf[i], LEN) == 0,
		       "aio_read at offset %lld returned other bytes than were written",
		       (long long)offsets[i]);
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
