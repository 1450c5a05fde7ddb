/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * close_queued_writes_number_reused with O_DIRECT: 300 writes that each extend the file, more
 * than the library's native AIO context takes at once, so that some wait for a slot holding a
 * duplicate of their descriptor, and the kernel answers each RWF_NOWAIT attempt -EAGAIN (an
 * extending direct write must allocate), so that the io_uring engine takes them back from
 * native AIO, duplicate and all. The program closes the descriptor while they wait and puts
 * another file at its number: each write lands in the first file or is cancelled, and the
 * second file holds only what was written to it after the close.
 *
 * glibc fails it, as the buffered test: its thread for the number goes on by number.
 */
#include "common.h"

#define NW 300
#define BLK 4096
#define MARK_AT ((off_t)2 * NW * BLK)

static unsigned char bufs[NW][BLK] __attribute__((aligned(BLK)));
static unsigned char mark[BLK] __attribute__((aligned(BLK)));
static unsigned char back[BLK] __attribute__((aligned(BLK)));
static struct aiocb cbs[NW], mcb, *list[NW];

static int direct_file(void)
{
	int fd = tmp_file_in(tmp_dir(), O_RDWR | O_DIRECT);

	if (fd < 0)
		skip("%s does not accept O_DIRECT: %s", tmp_dir(), strerror(errno));
	return fd;
}

static int test(void)
{
	int a = direct_file(), b = direct_file(), keep_a, num, err, done;
	struct stat st;
	ssize_t ret;

	memset(back, 0, BLK);
	if (pwrite(a, back, BLK, 0) != BLK)
		skip("%s accepts O_DIRECT opens but not writes: %s", tmp_dir(), strerror(errno));
	SYSCHECK(ftruncate(a, 0));
	SYSCHECK(keep_a = dup(a));
	num = writes_queued_number_reused(a, b, cbs, list, &bufs[0][0], NW, BLK);
	memset(mark, 0xee, BLK);
	aiocb_prep(&mcb, num, mark, BLK, MARK_AT);
	EXPECT_OK(aio_write(&mcb));

	err = wait_done(&mcb, "the write to the second file");
	ret = aio_return(&mcb);
	EXPECT(err == 0 && ret == BLK,
	       "the write to the second file: aio_error %s, aio_return %zd, not %d bytes written",
	       errname(err), ret, BLK);
	done = expect_queued_writes_landed(keep_a, cbs, NW, BLK, back);
	SYSCHECK(fstat(num, &st));
	EXPECT(st.st_size == MARK_AT + BLK,
	       "the second file holds %lld bytes, not %lld (%d of the %d earlier writes done)",
	       (long long)st.st_size, (long long)(MARK_AT + BLK), done, NW);
	SYSCHECK(pread(num, back, BLK, MARK_AT));
	EXPECT(!memcmp(back, mark, BLK), "the second file does not hold what was written to it");
	close(num);
	close(keep_a);
	return 0;
}

TEST_MAIN(test)
