/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_writes queued at once on an O_APPEND descriptor land in submission order: 256 records of
 * various sizes, each whole, one after the other in the file.
 */
#include "common.h"

#define NREC 256

static size_t rec_len(int i)
{
	return 64 + (size_t)(i * 997) % 9000;
}

static int test(void)
{
	static struct aiocb w[NREC];
	static char *rec[NREC];
	size_t total = 0, pos = 0;
	char *file;
	int fd = tmp_file(O_RDWR | O_APPEND);

	/* A few bytes already there: appends go after them. */
	write_all(fd, "head", 4);
	for (int i = 0; i < NREC; i++) {
		size_t len = rec_len(i);

		rec[i] = malloc(len);
		EXPECT(rec[i], "malloc failed");
		memset(rec[i], 'a' + i % 26, len);
		snprintf(rec[i], 16, "<%05d>", i);
		/* aio_offset is ignored under O_APPEND: set it to something misleading. */
		aiocb_prep(&w[i], fd, rec[i], len, 0);
		EXPECT_OK(aio_write(&w[i]));
		total += len;
	}
	for (int i = 0; i < NREC; i++)
		expect_done_ok(&w[i], (ssize_t)rec_len(i), "aio_write on an O_APPEND descriptor");

	file = malloc(total + 4);
	EXPECT(file, "malloc failed");
	EXPECT(pread(fd, file, total + 4, 0) == (ssize_t)(total + 4),
	       "the file is not %zu bytes long", total + 4);
	EXPECT(memcmp(file, "head", 4) == 0, "the first bytes were overwritten");
	pos = 4;
	for (int i = 0; i < NREC; i++) {
		if (memcmp(file + pos, rec[i], rec_len(i)) != 0)
			FAIL("record %d (submitted %d-th) is not at file offset %zu: found "
			     "\"%.7s\" "
			     "there",
			     i, i, pos, file + pos);
		pos += rec_len(i);
	}
	for (int i = 0; i < NREC; i++)
		free(rec[i]);
	free(file);
	close(fd);
	return 0;
}

TEST_MAIN(test)
