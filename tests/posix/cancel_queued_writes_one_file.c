/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many writes queued on one descriptor of a buffered file, some cancelled (the first right
 * after it was submitted, then every other one from the last) while the first are being
 * written: each ends exactly once, and what aio_cancel answered agrees with its result and
 * with the file. AIO_CANCELED: ECANCELED and its bytes never written; AIO_NOTCANCELED,
 * AIO_ALLDONE or not cancelled: all its bytes written. (On native AIO, a filesystem without
 * RWF_NOWAIT writes, ext4 for one, has one helper do a descriptor's writes in turn, the
 * others waiting for it: the cancellations reach both.)
 *
 * Not judged on glibc, which loses the rest of a descriptor's queue when the request at its
 * head is cancelled before it started: in about half the runs here a write stays
 * EINPROGRESS for good. It says so and skips.
 */
#include "common.h"

#include <dlfcn.h>

#define NW 64
#define BLOCK 4096
#define ROUNDS 20

static unsigned char byte_of(int round, int i)
{
	return (unsigned char)(1 + (round * NW + i) % 251);
}

static int test(void)
{
	static struct aiocb cbs[NW];
	static unsigned char bufs[NW][BLOCK], back[BLOCK];
	int canceled_total = 0;

	if (!dlsym(RTLD_DEFAULT, "posixaio_engine"))
		skip("glibc loses the writes queued behind one cancelled before it started");

	for (int round = 0; round < ROUNDS; round++) {
		int fd = tmp_file(O_RDWR), said[NW];

		SYSCHECK(ftruncate(fd, (off_t)NW * BLOCK));
		for (int i = 0; i < NW; i++) {
			memset(bufs[i], byte_of(round, i), BLOCK);
			aiocb_prep(&cbs[i], fd, bufs[i], BLOCK, (off_t)i * BLOCK);
			EXPECT_OK(aio_write(&cbs[i]));
			said[i] = -1;
			if (i == 0)
				said[i] = aio_cancel(fd, &cbs[i]); /* perhaps before it started */
		}
		/* Every other one of the rest, from the last: the others must still be written. */
		for (int i = NW - 2; i > 0; i -= 2)
			said[i] = aio_cancel(fd, &cbs[i]);
		for (int i = 0; i < NW; i++)
			EXPECT(said[i] == -1 || said[i] == AIO_CANCELED ||
				       said[i] == AIO_NOTCANCELED || said[i] == AIO_ALLDONE,
			       "round %d: aio_cancel of write %d: %d (errno %s)", round, i, said[i],
			       errname(errno));
		for (int i = 0; i < NW; i++) {
			int err = wait_done(&cbs[i], "a queued write");
			ssize_t ret = aio_return(&cbs[i]);
			bool written;

			SYSCHECK(pread(fd, back, BLOCK, (off_t)i * BLOCK));
			written = back[0] == byte_of(round, i);
			for (int b = 1; b < BLOCK; b++)
				EXPECT(back[b] == back[0], "round %d: write %d: block %d torn at byte %d",
				       round, i, i, b);
			if (said[i] == AIO_CANCELED) {
				canceled_total++;
				EXPECT(err == ECANCELED && ret == -1,
				       "round %d: write %d cancelled, but aio_error %s, aio_return %zd",
				       round, i, errname(err), ret);
				EXPECT(!written && back[0] == 0,
				       "round %d: write %d cancelled, but its bytes are in the file", round,
				       i);
			} else {
				EXPECT(err == 0 && ret == BLOCK,
				       "round %d: write %d not cancelled (%d), but aio_error %s, "
				       "aio_return %zd",
				       round, i, said[i], errname(err), ret);
				EXPECT(written, "round %d: write %d done, but its bytes are not in the file",
				       round, i);
			}
		}
		close(fd);
	}
	/* Not asserted: whether any could be cancelled is the implementation's timing. */
	printf("%d of %d writes cancelled\n", canceled_total, ROUNDS * NW);
	return 0;
}

TEST_MAIN(test)
