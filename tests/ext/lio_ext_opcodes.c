/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio() with libposixaio's opcodes: LIO_WRITEV and LIO_READV members, and LIO_FSYNC
 * and LIO_FDSYNC members that complete only after the members before them on the same
 * descriptor. A sync member on a
 * read-only descriptor fails with EBADF and an unknown opcode with EINVAL, each in its own
 * aio_error, and the list with EIO.
 */
#include "ext.h"

#define W 16

static int test(void)
{
	static char data[W][4096];
	static struct aiocb w[W], sync1, sync2, rv, bad_sync, bad_op;
	struct aiocb *list[W + 2], *cb;
	char r0[10], r1[4096 - 10];
	struct iovec wv[2] = { { data[0], 100 }, { data[0] + 100, 4096 - 100 } };
	struct iovec rvv[2] = { { r0, sizeof(r0) }, { r1, sizeof(r1) } };
	int fd = tmp_file(O_RDWR), ro, done_writes = 0;
	char path[64];
	ssize_t ret;
	int err;

	for (int i = 0; i < W; i++) {
		memset(data[i], 'a' + i, sizeof(data[i]));
		if (i == 0) {
			aiocb_prep(&w[i], fd, wv, 2, 0);
			w[i].aio_lio_opcode = LIO_WRITEV;
		} else {
			aiocb_prep(&w[i], fd, data[i], sizeof(data[i]), (off_t)i * 4096);
			w[i].aio_lio_opcode = LIO_WRITE;
		}
		list[i] = &w[i];
	}
	aiocb_prep(&sync1, fd, NULL, 0, 0);
	sync1.aio_lio_opcode = LIO_FSYNC;
	aiocb_prep(&sync2, fd, NULL, 0, 0);
	sync2.aio_lio_opcode = LIO_FDSYNC;
	list[W] = &sync1;
	list[W + 1] = &sync2;
	EXPECT_OK(lio_listio(LIO_NOWAIT, list, W + 2, NULL));
	/*
	 * A sync member starts only once the writes before it are complete, so when either
	 * sync is seen complete every write is (results are published in completion order;
	 * claims come in notification order, which threads may interleave).
	 */
	for (int64_t end = now_ms() + WAIT_DONE_MS; now_ms() < end;) {
		bool s1 = aio_error(&sync1) != EINPROGRESS, s2 = aio_error(&sync2) != EINPROGRESS;

		if (s1 || s2)
			for (int i = 0; i < W; i++)
				EXPECT(aio_error(&w[i]) != EINPROGRESS,
				       "a sync member completed before write %d", i);
		if (s1 && s2)
			break;
	}
	for (int n = 0; n < W + 2; n++) {
		cb = claim_one(&ret, &err, "lio_listio members");
		EXPECT(err == 0, "member %p failed: %s", (void *)cb, errname(err));
		if (cb != &sync1 && cb != &sync2)
			done_writes++;
	}
	EXPECT(done_writes == W, "%d writes claimed, expected %d", done_writes, W);
	expect_nothing("after the list");

	aiocb_prep(&rv, fd, rvv, 2, 0);
	rv.aio_lio_opcode = LIO_READV;
	list[0] = &rv;
	EXPECT_OK(lio_listio(LIO_WAIT, list, 1, NULL));
	EXPECT(aio_return(&rv) == 4096, "LIO_READV member read %zd bytes", aio_return(&rv));
	EXPECT(r0[0] == 'a' && r1[sizeof(r1) - 1] == 'a', "LIO_READV member read wrong bytes");

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	SYSCHECK(ro);
	aiocb_prep(&bad_sync, ro, NULL, 0, 0);
	bad_sync.aio_lio_opcode = LIO_FSYNC;
	aiocb_prep(&bad_op, fd, r0, sizeof(r0), 0);
	bad_op.aio_lio_opcode = LIO_FDSYNC + 1;
	list[0] = &bad_sync;
	list[1] = &bad_op;
	errno = 0;
	EXPECT(lio_listio(LIO_WAIT, list, 2, NULL) == -1 && errno == EIO,
	       "lio_listio with bad members: expected EIO, got %s", errname(errno));
	EXPECT(aio_error(&bad_sync) == EBADF, "LIO_FSYNC on a read-only descriptor: %s",
	       errname(aio_error(&bad_sync)));
	EXPECT(aio_error(&bad_op) == EINVAL, "unknown opcode: %s", errname(aio_error(&bad_op)));
	close(ro);
	close(fd);
	return 0;
}

TEST_MAIN(test)
