/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_fsync(O_SYNC) completes only after every write queued before it on that descriptor: 64
 * writes are submitted, then the fsync; when the fsync is done, every write is done and its
 * data is in the file.
 */
#include "common.h"

#ifndef FSYNC_OP
#define FSYNC_OP O_SYNC
#define FSYNC_NAME "aio_fsync(O_SYNC)"
#endif

#define NWRITES 64
#define LEN (64 * 1024)

static int test(void)
{
	static struct aiocb w[NWRITES];
	static char buf[NWRITES][LEN], check[LEN];
	const struct aiocb *list[1];
	struct aiocb f;
	int fd = tmp_file(O_RDWR), err;

	for (int i = 0; i < NWRITES; i++) {
		memset(buf[i], 'A' + i % 26, LEN);
		snprintf(buf[i], 32, "block %d", i);
		/* Scattered offsets, so the writes are not one sequential stream. */
		aiocb_prep(&w[i], fd, buf[i], LEN, (off_t)((i * 37) % NWRITES) * LEN);
		EXPECT_OK(aio_write(&w[i]));
	}
	aiocb_prep(&f, fd, NULL, 0, 0);
	EXPECT_OK(aio_fsync(FSYNC_OP, &f));

	/* Wait for the fsync alone. */
	list[0] = &f;
	while ((err = aio_error(&f)) == EINPROGRESS)
		if (aio_suspend(list, 1, NULL) == -1 && errno != EINTR)
			FAIL("aio_suspend: %s", errname(errno));
	EXPECT(err == 0, FSYNC_NAME ": expected aio_error 0, got %s", errname(err));
	for (int i = 0; i < NWRITES; i++) {
		err = aio_error(&w[i]);
		EXPECT(err != EINPROGRESS,
		       FSYNC_NAME " completed while write %d, queued before it, is in progress", i);
		EXPECT(err == 0, "write %d: expected aio_error 0, got %s", i, errname(err));
	}
	EXPECT(aio_return(&f) == 0, FSYNC_NAME ": expected aio_return 0");
	for (int i = 0; i < NWRITES; i++) {
		EXPECT(aio_return(&w[i]) == LEN, "write %d: short", i);
		EXPECT(pread(fd, check, LEN, w[i].aio_offset) == LEN &&
			       memcmp(check, buf[i], LEN) == 0,
		       "the data of write %d is not in the file", i);
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
