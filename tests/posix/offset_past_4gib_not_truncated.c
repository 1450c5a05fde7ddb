/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A read and a write at 5 GiB reach 5 GiB, not 5 GiB cut to 32 bits (1 GiB): through the
 * POSIX names where off_t has 64 bits (a 64-bit ABI, or -D_FILE_OFFSET_BITS=64, with which
 * <aio.h> maps them to aio_read64 and the others on a 32-bit ABI), and through the *64 names
 * themselves where it has 32 (built with -U_FILE_OFFSET_BITS). Single requests and a
 * lio_listio() member, in a sparse file.
 */
#include "common.h"

#if defined(_FILE_OFFSET_BITS) && _FILE_OFFSET_BITS == 64
typedef struct aiocb cb_t;
#define READ aio_read
#define WRITE aio_write
#define ERROR aio_error
#define RETURN aio_return
#define SUSPEND aio_suspend
#define LISTIO lio_listio
#else
typedef struct aiocb64 cb_t;
#define READ aio_read64
#define WRITE aio_write64
#define ERROR aio_error64
#define RETURN aio_return64
#define SUSPEND aio_suspend64
#define LISTIO lio_listio64
#endif

#define BIG_OFF ((off64_t)5 << 30)
#define LEN 32

static void prep(cb_t *cb, int fd, void *buf, off64_t off)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = fd;
	cb->aio_buf = buf;
	cb->aio_nbytes = LEN;
	cb->aio_offset = off;
	cb->aio_lio_opcode = LIO_READ;
	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
}

static void finish(cb_t *cb, const char *what)
{
	const cb_t *list[1] = {cb};
	int64_t deadline = now_ms() + WAIT_DONE_MS;
	ssize_t ret;
	int err;

	while ((err = ERROR(cb)) == EINPROGRESS) {
		struct timespec ts = {0, 100 * 1000000L};

		EXPECT(now_ms() < deadline, "%s: still in progress after %d ms", what, WAIT_DONE_MS);
		SUSPEND(list, 1, &ts);
	}
	EXPECT(err == 0, "%s: aio_error %s", what, errname(err));
	ret = RETURN(cb);
	EXPECT(ret == LEN, "%s: returned %zd, expected %d", what, ret, LEN);
}

static int test(void)
{
	char a[LEN] = "marker A, put at 5 GiB", b[LEN] = "marker B, 5 GiB + 4 KiB";
	char buf[LEN], zeros[LEN] = {0};
	cb_t cb;
	cb_t *list[1] = {&cb};
	int fd = tmp_file(O_RDWR | O_LARGEFILE);

	/* Marker A by pwrite64: what the read below finds tells where it read. */
	if (pwrite64(fd, a, LEN, BIG_OFF) != LEN)
		skip("the temporary file system (%s) cannot hold a sparse file of 5 GiB: %s",
		     tmp_dir(), strerror(errno));

	memset(buf, 0, LEN);
	prep(&cb, fd, buf, BIG_OFF);
	EXPECT_OK(READ(&cb));
	finish(&cb, "read at 5 GiB");
	EXPECT(memcmp(buf, a, LEN) == 0, "the read at 5 GiB got \"%.*s\", not marker A",
	       LEN, buf);

	prep(&cb, fd, b, BIG_OFF + 4096);
	EXPECT_OK(WRITE(&cb));
	finish(&cb, "write at 5 GiB + 4 KiB");
	EXPECT(pread64(fd, buf, LEN, BIG_OFF + 4096) == LEN && memcmp(buf, b, LEN) == 0,
	       "marker B is not at 5 GiB + 4 KiB");
	EXPECT(pread64(fd, buf, LEN, (1 << 30) + 4096) == LEN && memcmp(buf, zeros, LEN) == 0,
	       "the write at 5 GiB + 4 KiB wrote at 1 GiB + 4 KiB");

	memset(buf, 0, LEN);
	prep(&cb, fd, buf, BIG_OFF + 4096);
	EXPECT_OK(LISTIO(LIO_WAIT, list, 1, NULL));
	finish(&cb, "lio_listio read at 5 GiB + 4 KiB");
	EXPECT(memcmp(buf, b, LEN) == 0, "the lio_listio read at 5 GiB + 4 KiB got \"%.*s\"",
	       LEN, buf);
	close(fd);
	return 0;
}

TEST_MAIN(test)
