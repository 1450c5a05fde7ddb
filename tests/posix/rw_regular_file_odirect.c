/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_write then aio_read on an O_DIRECT regular file with aligned buffers: data round-trips. */
#include "common.h"

#define BLK 4096
#define NREQ 4

static const off_t offsets[NREQ] = {0, 2 * BLK, 64 * BLK, 256 * BLK};

/* An O_DIRECT temporary file where aligned direct I/O really works, or skip. */
static int odirect_file(void *probe)
{
	const char *dirs[] = {tmp_dir(), "/tmp", "/var/tmp"};
	char tried[512] = "";

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int fd = tmp_file_in(dirs[i], O_RDWR | O_DIRECT);
		size_t used = strlen(tried);

		if (fd >= 0 && pwrite(fd, probe, BLK, 0) == BLK)
			return fd;
		snprintf(tried + used, sizeof(tried) - used, "%s%s (%s)", used ? ", " : "", dirs[i],
			 strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	skip("no temporary directory accepts O_DIRECT I/O: %s", tried);
}

static int test(void)
{
	struct aiocb w[NREQ], r[NREQ];
	char *wbuf[NREQ], *rbuf[NREQ];
	void *probe;
	int fd;

	EXPECT(posix_memalign(&probe, BLK, BLK) == 0, "posix_memalign failed");
	memset(probe, 0, BLK);
	fd = odirect_file(probe);

	for (int i = 0; i < NREQ; i++) {
		EXPECT(posix_memalign((void **)&wbuf[i], BLK, BLK) == 0, "posix_memalign failed");
		EXPECT(posix_memalign((void **)&rbuf[i], BLK, BLK) == 0, "posix_memalign failed");
		for (int j = 0; j < BLK; j++)
			wbuf[i][j] = (char)(i * 101 + j * 3);
		memset(rbuf[i], 0x5a, BLK);
		aiocb_prep(&w[i], fd, wbuf[i], BLK, offsets[i]);
		EXPECT_OK(aio_write(&w[i]));
	}
	for (int i = 0; i < NREQ; i++)
		expect_done_ok(&w[i], BLK, "O_DIRECT aio_write");

	for (int i = 0; i < NREQ; i++) {
		aiocb_prep(&r[i], fd, rbuf[i], BLK, offsets[i]);
		EXPECT_OK(aio_read(&r[i]));
	}
	for (int i = 0; i < NREQ; i++) {
		expect_done_ok(&r[i], BLK, "O_DIRECT aio_read");
		EXPECT(memcmp(rbuf[i], wbuf[i], BLK) == 0,
		       "O_DIRECT aio_read at offset %lld returned other bytes than were written",
		       (long long)offsets[i]);
	}

	/* A hole between written blocks reads back as zeros. */
	aiocb_prep(&r[0], fd, rbuf[0], BLK, 8 * BLK);
	EXPECT_OK(aio_read(&r[0]));
	expect_done_ok(&r[0], BLK, "O_DIRECT aio_read of a hole");
	for (int j = 0; j < BLK; j++)
		EXPECT(rbuf[0][j] == 0, "hole byte %d is %d, expected 0", j, rbuf[0][j]);

	for (int i = 0; i < NREQ; i++) {
		free(wbuf[i]);
		free(rbuf[i]);
	}
	free(probe);
	close(fd);
	return 0;
}

TEST_MAIN(test)
