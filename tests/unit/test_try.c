/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The read a submitting call tries itself (req_try_now()): done there only for a buffered
 * file, whose cached bytes it copies without waiting, and never for an O_DIRECT one, whose
 * read would wait for the device inside aio_read(). The block that ends an O_DIRECT file is
 * the case a probe by length misses: the kernel cuts a read at the end of the file before it
 * checks the length's alignment.
 *
 * It uses the conformance tests' harness (../posix/common.h): the body runs in a supervised
 * child, so a crash in the try is a failure that says so; it skips (77, the reason on
 * stderr) where no directory here accepts O_DIRECT, after the buffered part has passed.
 */
#include "../posix/common.h"

#include <sys/mman.h>

#include "internal.h"

#define BLK 4096

/* An O_DIRECT file of two blocks, written around the page cache; -1 if none can be made. */
static int direct_file(unsigned char *blocks)
{
	const char *dirs[] = { tmp_dir(), "/var/tmp", "/tmp", "." };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int fd = tmp_file_in(dirs[i], O_RDWR | O_DIRECT);

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

/*
 * Each try first, while nothing marks the descriptor (a refusal marks it: try_forget()). The
 * block that ends the file, from an aligned and from an odd buffer; an inner block; a short
 * read at the file's end.
 */
static void direct_never_tried(int fd)
{
	static const struct {
		off_t off;
		size_t len;
		size_t shift; /* from an aligned buffer */
		const char *what;
	} cases[] = {
		{ BLK, BLK, 0, "the file's last block" },
		{ BLK, BLK, 1, "the file's last block, into an odd buffer" },
		{ 0, BLK, 0, "the file's first block" },
		{ 2 * BLK - 100, 100, 0, "the file's last 100 bytes" },
		{ BLK, 2 * BLK, 0, "two blocks from the last, cut by the end of the file" },
	};
	unsigned char *buf;
	int64_t res;

	if (posix_memalign((void **)&buf, BLK, 3 * BLK))
		abort();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		try_forget((unsigned)fd, (unsigned)fd);
		res = 0;
		EXPECT(!try(fd, buf + cases[i].shift, cases[i].len, cases[i].off, &res),
		      "an O_DIRECT read of %s was done inside the call (%lld)", cases[i].what,
		      (long long)res);
	}
	free(buf);
}

/*
 * A buffer whose first bytes the program may not write: the try must leave the answer to the
 * engine (EFAULT there), never write there itself.
 */
static void unwritable_buffer_not_written(int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int64_t res;

	EXPECT(map != MAP_FAILED, "mmap failed");
	SYSCHECK(mprotect(map, (size_t)page, PROT_READ));
	for (int back = 1; back <= 2; back++) {
		char *buf = map + page - back; /* an odd and an even start, both read-only */

		res = 0;
		EXPECT(!try(fd, buf, BLK, 0, &res),
		      "a read into a buffer starting %d read-only bytes before a page was done (%lld)",
		      back, (long long)res);
		EXPECT(map[page - back] == 0, "the try wrote the read-only byte");
	}
	munmap(map, (size_t)page * 2);
}

static void buffered_done(const unsigned char *blocks)
{
	unsigned char buf[BLK] __attribute__((aligned(16))), odd_area[BLK + 2], *ob;
	int fd = tmp_file_in("/tmp", O_RDWR);
	int64_t res;

	SYSCHECK(fd);
	EXPECT(pwrite(fd, blocks, 2 * BLK, 0) == 2 * BLK, "pwrite of the buffered file");
	struct {
		off_t off;
		size_t len;
		int64_t want;
	} cases[] = {
		{ BLK, BLK, BLK }, /* the last block */
		{ 0, BLK, BLK },   /* an inner one */
		{ 10, 100, 100 },  /* no multiple of 512 */
		{ 2 * BLK - 1, 1, 1 },
		{ BLK, BLK - 1, BLK - 1 }, /* ends one byte short of the file */
		{ 2 * BLK, BLK, 0 },    /* at the end */
	};
	/* An odd buffer, read as it is: the bytes, and nothing before them. */
	ob = odd_area + 1 + !((uintptr_t)(odd_area + 1) & 1);
	memset(odd_area, 0xee, sizeof(odd_area));
	res = -1;
	EXPECT(try(fd, ob, BLK, BLK, &res) && res == BLK && !memcmp(ob, blocks + BLK, BLK) &&
		      ob[-1] == 0xee,
	      "a buffered read into an odd buffer: not done, or other bytes (%lld)", (long long)res);
	unwritable_buffer_not_written(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 0xee, sizeof(buf));
		res = -1;
		EXPECT(try(fd, buf, cases[i].len, cases[i].off, &res),
		      "a buffered read of %zu bytes at %lld was not done inside the call",
		      cases[i].len, (long long)cases[i].off);
		EXPECT(res == cases[i].want, "read of %zu at %lld: %lld bytes, not %lld", cases[i].len,
		      (long long)cases[i].off, (long long)res, (long long)cases[i].want);
		if (res > 0)
			EXPECT(!memcmp(buf, blocks + cases[i].off, (size_t)res),
			      "read of %zu at %lld: other bytes than the file's", cases[i].len,
			      (long long)cases[i].off);
		EXPECT(res < 0 || (size_t)res >= sizeof(buf) || buf[res] == 0xee,
		      "read of %zu at %lld wrote past its bytes", cases[i].len,
		      (long long)cases[i].off);
	}
	close(fd);
}

static int test(void)
{
	unsigned char *blocks;
	int fd;

	EXPECT(posix_memalign((void **)&blocks, BLK, 2 * BLK) == 0, "posix_memalign failed");
	for (int i = 0; i < 2 * BLK; i++)
		blocks[i] = (unsigned char)(i * 7 + 3);
	buffered_done(blocks);
	fd = direct_file(blocks);
	if (fd < 0)
		skip("the O_DIRECT half: no temporary directory here (TMPDIR, /var/tmp, /tmp, .) "
		     "accepts O_DIRECT writes");
	direct_never_tried(fd);
	close(fd);
	free(blocks);
	return 0;
}

TEST_MAIN(test)
