/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_fsync with an op other than O_SYNC or O_DSYNC fails at the call with -1/EINVAL. */
#include "common.h"

static int test(void)
{
	static const int ops[] = {0, O_RDWR, O_APPEND, O_NONBLOCK, 12345, -1};
	struct aiocb cb;
	int fd = tmp_file(O_RDWR);

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		int ret;

		aiocb_prep(&cb, fd, NULL, 0, 0);
		errno = 0;
		ret = aio_fsync(ops[i], &cb);
		EXPECT(ret == -1 && errno == EINVAL,
		       "aio_fsync(op 0x%x): expected -1/EINVAL, got %d/%s", (unsigned)ops[i], ret,
		       errname(errno));
	}
	/* The valid ops still work on that aiocb. */
	aiocb_prep(&cb, fd, NULL, 0, 0);
	EXPECT_OK(aio_fsync(O_SYNC, &cb));
	expect_done_ok(&cb, 0, "aio_fsync(O_SYNC)");
	aiocb_prep(&cb, fd, NULL, 0, 0);
	EXPECT_OK(aio_fsync(O_DSYNC, &cb));
	expect_done_ok(&cb, 0, "aio_fsync(O_DSYNC)");
	close(fd);
	return 0;
}

TEST_MAIN(test)
