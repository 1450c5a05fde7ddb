/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The read a submitting call tries itself (req_try_now()): done there only for a buffered
 * file, whose cached bytes it copies without waiting, and never for an O_DIRECT one, whose
 * read would wait for the device inside aio_read(). The block that ends an O_DIRECT file is
 * the case a probe by length misses: the kernel cuts a read at the end of the file before it
 * checks the length's alignment.
 *
 * Exit status: 0 passed, 1 failed, 77 skipped (no directory here accepts O_DIRECT), said on
 * stderr.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define BLK 4096

static int failures;

#define CHECK(cond, ...)                                                                       \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                   \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			failures++;                                                            \
		}                                                                              \
	} while (0)

static int file_in(const char *dir, int flags)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/posixaio-try-XXXXXX", dir);
	fd = mkostemp(path, flags);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* An O_DIRECT file of two blocks, written around the page cache; -1 if none can be made. */
static int direct_file(unsigned char *blocks)
{
	const char *env = getenv("TMPDIR");
	const char *dirs[] = { env ? env : "/tmp", "/var/tmp", "/tmp", "." };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int fd = file_in(dirs[i], O_DIRECT);

		if (fd >= 0 && pwrite(fd, blocks, 2 * BLK, 0) == 2 * BLK)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

static bool try(int fd, void *buf, size_t len, off_t off, int64_t *res)
{
	struct aiocb cb;
	size_t budget = TRY_NOW_MAX;

	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = fd;
	cb.aio_buf = buf;
	cb.aio_nbytes = len;
	cb.aio_offset = off;
	return req_try_now(&cb, OP_READ, &budget, res);
}

static void direct_never_tried(int fd)
{
	unsigned char *buf;
	int64_t res;

	if (posix_memalign((void **)&buf, BLK, BLK))
		abort();
	/* First, while nothing marks the descriptor: the block that ends the file. */
	CHECK(!try(fd, buf, BLK, BLK, &res),
	      "an O_DIRECT read of the file's last block was done inside the call (%lld)",
	      (long long)res);
	try_forget((unsigned)fd, (unsigned)fd);
	CHECK(!try(fd, buf, BLK, 0, &res),
	      "an O_DIRECT read of the file's first block was done inside the call (%lld)",
	      (long long)res);
	free(buf);
}

static void buffered_done(const unsigned char *blocks)
{
	unsigned char buf[BLK];
	int fd = file_in("/tmp", 0);
	int64_t res;

	CHECK(fd >= 0, "no temporary file in /tmp");
	if (fd < 0)
		return;
	CHECK(pwrite(fd, blocks, 2 * BLK, 0) == 2 * BLK, "pwrite of the buffered file");
	struct {
		off_t off;
		size_t len;
		int64_t want;
	} cases[] = {
		{ BLK, BLK, BLK }, /* the last block */
		{ 0, BLK, BLK },   /* an inner one */
		{ 10, 100, 100 },  /* no multiple of 512 */
		{ 2 * BLK - 1, 1, 1 },
		{ 2 * BLK, BLK, 0 },    /* at the end */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 0xee, sizeof(buf));
		res = -1;
		CHECK(try(fd, buf, cases[i].len, cases[i].off, &res),
		      "a buffered read of %zu bytes at %lld was not done inside the call",
		      cases[i].len, (long long)cases[i].off);
		CHECK(res == cases[i].want, "read of %zu at %lld: %lld bytes, not %lld", cases[i].len,
		      (long long)cases[i].off, (long long)res, (long long)cases[i].want);
		if (res > 0)
			CHECK(!memcmp(buf, blocks + cases[i].off, (size_t)res),
			      "read of %zu at %lld: other bytes than the file's", cases[i].len,
			      (long long)cases[i].off);
		CHECK(res < 0 || (size_t)res >= sizeof(buf) || buf[res] == 0xee,
		      "read of %zu at %lld wrote past its bytes", cases[i].len,
		      (long long)cases[i].off);
	}
	close(fd);
}

int main(void)
{
	unsigned char *blocks;
	int fd;

	if (posix_memalign((void **)&blocks, BLK, 2 * BLK))
		abort();
	for (int i = 0; i < 2 * BLK; i++)
		blocks[i] = (unsigned char)(i * 7 + 3);
	buffered_done(blocks);
	fd = direct_file(blocks);
	if (fd < 0) {
		fprintf(stderr, "SKIP the O_DIRECT half: no temporary directory here (TMPDIR, "
				"/var/tmp, /tmp, .) accepts O_DIRECT writes\n");
		return failures ? 1 : 77;
	}
	direct_never_tried(fd);
	close(fd);
	free(blocks);
	if (failures)
		return 1;
	printf("PASS try\n");
	return 0;
}
