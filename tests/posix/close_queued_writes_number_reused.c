/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes queued on a descriptor of a buffered file, which the program closes while they wait;
 * another file takes the number, and the program writes to it. Each write lands in the file
 * its descriptor named when it was submitted: the queued ones in the first file (or they are
 * cancelled, which close() allows), the new one in the second, never the other way round.
 * (The library keeps one duplicate of a descriptor for all the writes waiting on it: one made
 * before the close must not serve a write submitted after it.) The new write goes past the
 * bytes of the queued ones: one that overlaps them waits for them on the number, and is
 * cancelled when its turn comes and the number names another file than theirs.
 *
 * glibc fails it: its thread for the number goes on with the queued writes by number, and
 * they land in the second file.
 */
#include "common.h"

#define NW 64
#define BLOCK (256 * 1024)
#define MARK 4096
#define MARK_AT ((off_t)2 * NW * BLOCK)

static unsigned char bufs[NW][BLOCK], mark[MARK], back[BLOCK];
static struct aiocb cbs[NW], mcb, *list[NW];

static int test(void)
{
	int a = tmp_file(O_RDWR), b = tmp_file(O_RDWR), keep_a, num, err;
	struct stat st;
	ssize_t ret;

	SYSCHECK(keep_a = dup(a));
	num = writes_queued_number_reused(a, b, cbs, list, &bufs[0][0], NW, BLOCK);
	memset(mark, 0xee, MARK);
	aiocb_prep(&mcb, num, mark, MARK, MARK_AT);
	EXPECT_OK(aio_write(&mcb));

	err = wait_done(&mcb, "the write to the second file");
	ret = aio_return(&mcb);
	EXPECT(err == 0 && ret == MARK,
	       "the write to the second file: aio_error %s, aio_return %zd, not %d bytes written",
	       errname(err), ret, MARK);
	expect_queued_writes_landed(keep_a, cbs, NW, BLOCK, back);
	SYSCHECK(fstat(num, &st));
	EXPECT(st.st_size == MARK_AT + MARK, "the second file holds %lld bytes, not %lld",
	       (long long)st.st_size, (long long)(MARK_AT + MARK));
	SYSCHECK(pread(num, back, MARK, MARK_AT));
	EXPECT(!memcmp(back, mark, MARK), "the second file does not hold what was written to it");
	close(num);
	close(keep_a);
	return 0;
}

TEST_MAIN(test)
