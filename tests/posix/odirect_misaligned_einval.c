/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * On an O_DIRECT file, a misaligned buffer, length or offset fails with EINVAL as pread and
 * pwrite do: -1/EINVAL from the call or aio_error EINVAL with aio_return -1.
 */
#include "common.h"

#define BLK 4096

static int odirect_file(void *probe)
{
	const char *dirs[] = {tmp_dir(), "/tmp", "/var/tmp"};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int fd = tmp_file_in(dirs[i], O_RDWR | O_DIRECT);

		if (fd >= 0 && pwrite(fd, probe, BLK, 0) == BLK &&
		    pwrite(fd, probe, BLK, BLK) == BLK)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	skip("no temporary directory accepts O_DIRECT I/O");
}

static void expect_einval(int (*submit)(struct aiocb *), int fd, char *buf, size_t len, off_t off,
			  const char *what)
{
	struct aiocb cb;
	int ret;

	/* Only meaningful where the kernel itself refuses it. */
	if (submit == aio_read ? pread(fd, buf, len, off) != -1 : pwrite(fd, buf, len, off) != -1)
		skip("this file system accepts %s with O_DIRECT", what);
	aiocb_prep(&cb, fd, buf, len, off);
	errno = 0;
	ret = submit(&cb);
	if (ret == -1) {
		EXPECT(errno == EINVAL, "%s: expected errno EINVAL, got %s", what, errname(errno));
		return;
	}
	EXPECT(ret == 0, "%s returned %d", what, ret);
	expect_done_err(&cb, EINVAL, what);
}

static int test(void)
{
	char *buf;
	int fd;

	EXPECT(posix_memalign((void **)&buf, BLK, 4 * BLK) == 0, "posix_memalign failed");
	memset(buf, 'd', 4 * BLK);
	fd = odirect_file(buf);
	expect_einval(aio_read, fd, buf + 1, BLK, 0,
		      "an O_DIRECT aio_read into a misaligned buffer");
	expect_einval(aio_write, fd, buf + 1, BLK, 0,
		      "an O_DIRECT aio_write from a misaligned buffer");
	expect_einval(aio_read, fd, buf, BLK, 1, "an O_DIRECT aio_read at a misaligned offset");
	expect_einval(aio_write, fd, buf, 100, 0, "an O_DIRECT aio_write of a misaligned length");
	free(buf);
	close(fd);
	return 0;
}

TEST_MAIN(test)
