/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The *64 variants (aio_write64, aio_read64, aio_error64, aio_return64, aio_suspend64,
 * aio_fsync64, aio_cancel64, lio_listio64) work with struct aiocb64, at an offset past 4 GiB
 * in a sparse file.
 */
#include "common.h"

#define BIG_OFF ((off64_t)5 << 30)

static int test(void)
{
	static const char msg[] = "beyond four gigabytes";
	char buf[64];
	struct aiocb64 w, r, f, l;
	const struct aiocb64 *slist[1];
	struct aiocb64 *llist[1];
	struct stat64 st;
	int fd = tmp_file(O_RDWR), ret;

	memset(&w, 0, sizeof(w));
	w.aio_fildes = fd;
	w.aio_buf = (void *)msg;
	w.aio_nbytes = sizeof(msg);
	w.aio_offset = BIG_OFF;
	w.aio_sigevent.sigev_notify = SIGEV_NONE;
	errno = 0;
	ret = aio_write64(&w);
	if (ret == -1 && (errno == EFBIG || errno == EINVAL))
		skip("the temporary file system refuses a 5 GiB offset: %s", strerror(errno));
	EXPECT(ret == 0, "aio_write64 at 5 GiB: expected 0, got %d/%s", ret, errname(errno));
	slist[0] = &w;
	while (aio_error64(&w) == EINPROGRESS)
		aio_suspend64(slist, 1, NULL);
	ret = aio_error64(&w);
	if (ret == EFBIG)
		skip("the temporary file system refuses a 5 GiB offset: %s", strerror(ret));
	EXPECT(ret == 0, "aio_write64 at 5 GiB: aio_error64 %s", errname(ret));
	EXPECT(aio_return64(&w) == sizeof(msg), "aio_write64 is short");
	SYSCHECK(fstat64(fd, &st));
	EXPECT(st.st_size == BIG_OFF + (off64_t)sizeof(msg), "file size %lld, expected %lld",
	       (long long)st.st_size, (long long)(BIG_OFF + (off64_t)sizeof(msg)));

	memset(&f, 0, sizeof(f));
	f.aio_fildes = fd;
	f.aio_sigevent.sigev_notify = SIGEV_NONE;
	EXPECT_OK(aio_fsync64(O_SYNC, &f));
	slist[0] = &f;
	while (aio_error64(&f) == EINPROGRESS)
		aio_suspend64(slist, 1, NULL);
	EXPECT(aio_error64(&f) == 0 && aio_return64(&f) == 0, "aio_fsync64 failed");

	memset(&r, 0, sizeof(r));
	memset(buf, 0, sizeof(buf));
	r.aio_fildes = fd;
	r.aio_buf = buf;
	r.aio_nbytes = sizeof(buf);
	r.aio_offset = BIG_OFF;
	r.aio_sigevent.sigev_notify = SIGEV_NONE;
	EXPECT_OK(aio_read64(&r));
	slist[0] = &r;
	while (aio_error64(&r) == EINPROGRESS)
		aio_suspend64(slist, 1, NULL);
	EXPECT(aio_error64(&r) == 0, "aio_read64 at 5 GiB failed: %s", errname(aio_error64(&r)));
	EXPECT(aio_return64(&r) == sizeof(msg), "aio_read64 at 5 GiB did not stop at EOF");
	EXPECT(memcmp(buf, msg, sizeof(msg)) == 0, "aio_read64 at 5 GiB got \"%s\"", buf);

	/* lio_listio64 reading the same place, just before it (a hole: zeros). */
	memset(&l, 0, sizeof(l));
	memset(buf, 0x5a, sizeof(buf));
	l.aio_fildes = fd;
	l.aio_buf = buf;
	l.aio_nbytes = 16;
	l.aio_offset = BIG_OFF - 16;
	l.aio_lio_opcode = LIO_READ;
	l.aio_sigevent.sigev_notify = SIGEV_NONE;
	llist[0] = &l;
	EXPECT_OK(lio_listio64(LIO_WAIT, llist, 1, NULL));
	EXPECT(aio_error64(&l) == 0 && aio_return64(&l) == 16, "lio_listio64 read failed");
	for (int i = 0; i < 16; i++)
		EXPECT(buf[i] == 0, "the hole before 5 GiB is not zeros");

	ret = aio_cancel64(fd, NULL);
	EXPECT(ret == AIO_ALLDONE,
	       "aio_cancel64 with nothing pending: expected AIO_ALLDONE, got %d", ret);
	close(fd);
	return 0;
}

TEST_MAIN(test)
