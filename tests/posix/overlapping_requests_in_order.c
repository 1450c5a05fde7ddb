/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests on one regular file whose bytes overlap take effect in submission order when either
 * writes, as with glibc (one thread per descriptor, one request after the other):
 *  - a read submitted after a write returns the written bytes;
 *  - a read submitted before a write returns the bytes from before it;
 *  - of two overlapping writes, the later one's bytes are what stays;
 *  - the same inside one lio_listio, in list order.
 * Each pattern many times over, with writes of several sizes (a large one takes long enough
 * for a later read to overtake it if nothing holds it back).
 */
#include "common.h"

#define ROUNDS 200
#define BIG (1024 * 1024)

static char *wbuf, *wbuf2, *rbuf, *zero;

static void fill(int fd, char c, size_t len)
{
	memset(zero, c, len);
	EXPECT(pwrite(fd, zero, len, 0) == (ssize_t)len, "setup pwrite failed");
}

static void wait_all(struct aiocb **cbs, int n, const char *what)
{
	for (int i = 0; i < n; i++)
		expect_done_ok(cbs[i], (ssize_t)cbs[i]->aio_nbytes, what);
}

static void expect_all(const char *buf, size_t len, char c, const char *what, int round)
{
	for (size_t i = 0; i < len; i++)
		EXPECT(buf[i] == c, "%s (round %d): byte %zu is '%c', expected '%c'", what, round, i,
		       buf[i], c);
}

static int test(void)
{
	int fd = tmp_file(O_RDWR);

	SYSCHECK(fd);
	wbuf = malloc(BIG);
	wbuf2 = malloc(BIG);
	rbuf = malloc(BIG);
	zero = malloc(BIG);
	EXPECT(wbuf && wbuf2 && rbuf && zero, "malloc failed");

	for (int i = 0; i < ROUNDS; i++) {
		size_t len = i % 2 ? BIG : 4096;
		struct aiocb w, r, *cbs[2] = {&w, &r};

		/* Write, then read the same bytes. */
		fill(fd, '0', len);
		memset(wbuf, 'w', len);
		aiocb_prep(&w, fd, wbuf, len, 0);
		aiocb_prep(&r, fd, rbuf, 4096, 0);
		EXPECT_OK(aio_write(&w));
		EXPECT_OK(aio_read(&r));
		wait_all(cbs, 2, "write, then read");
		expect_all(rbuf, 4096, 'w', "a read after an overlapping write", i);

		/* Read, then write the same bytes. */
		fill(fd, '0', len);
		aiocb_prep(&r, fd, rbuf, len, 0);
		aiocb_prep(&w, fd, wbuf, 4096, 0);
		EXPECT_OK(aio_read(&r));
		EXPECT_OK(aio_write(&w));
		cbs[0] = &r;
		cbs[1] = &w;
		wait_all(cbs, 2, "read, then write");
		expect_all(rbuf, 4096, '0', "a read before an overlapping write", i);
		cbs[0] = &w;
		cbs[1] = &r;
	}

	for (int i = 0; i < ROUNDS / 4; i++) {
		struct aiocb w1, w2, *cbs[2] = {&w1, &w2};

		/* Two writes over the same bytes: the second stays. */
		fill(fd, '0', BIG);
		memset(wbuf, 'a', BIG);
		memset(wbuf2, 'b', 4096);
		aiocb_prep(&w1, fd, wbuf, BIG, 0);
		aiocb_prep(&w2, fd, wbuf2, 4096, 8192);
		EXPECT_OK(aio_write(&w1));
		EXPECT_OK(aio_write(&w2));
		wait_all(cbs, 2, "two overlapping writes");
		EXPECT(pread(fd, rbuf, 3 * 4096, 4096) == 3 * 4096, "pread failed");
		expect_all(rbuf, 4096, 'a', "before the second write's bytes", i);
		expect_all(rbuf + 4096, 4096, 'b', "the second write's bytes", i);
		expect_all(rbuf + 8192, 4096, 'a', "after the second write's bytes", i);
	}

	for (int i = 0; i < ROUNDS / 4; i++) {
		struct aiocb w, r;
		struct aiocb *list[2] = {&w, &r};

		/* One list: a write, then a read of its bytes. */
		fill(fd, '0', BIG);
		memset(wbuf, 'l', BIG);
		aiocb_prep(&w, fd, wbuf, BIG, 0);
		aiocb_prep(&r, fd, rbuf, 4096, BIG - 4096);
		w.aio_lio_opcode = LIO_WRITE;
		r.aio_lio_opcode = LIO_READ;
		EXPECT_OK(lio_listio(LIO_WAIT, list, 2, NULL));
		EXPECT(aio_error(&w) == 0 && aio_error(&r) == 0, "lio_listio: a member failed");
		EXPECT(aio_return(&w) == BIG && aio_return(&r) == 4096,
		       "lio_listio: a member moved less than asked");
		expect_all(rbuf, 4096, 'l', "a list's read after its overlapping write", i);
	}

	free(wbuf);
	free(wbuf2);
	free(rbuf);
	free(zero);
	close(fd);
	return 0;
}

TEST_MAIN(test)
