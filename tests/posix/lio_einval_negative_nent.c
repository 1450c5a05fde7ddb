/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lio_listio with nent < 0 fails with -1/EINVAL, for LIO_WAIT and LIO_NOWAIT. */
#include "common.h"

#include <limits.h>

static int test(void)
{
	static const int bad[] = {-1, -100, INT_MIN};
	char buf[16];
	struct aiocb rd;
	struct aiocb *list[1] = {&rd};
	int fd = tmp_file_with(0, 4096, pattern_byte);

	aiocb_prep(&rd, fd, buf, sizeof(buf), 0);
	rd.aio_lio_opcode = LIO_READ;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret;

		errno = 0;
		ret = lio_listio(LIO_WAIT, list, bad[i], NULL);
		EXPECT(ret == -1 && errno == EINVAL,
		       "lio_listio(LIO_WAIT, nent %d): expected -1/EINVAL, got %d/%s", bad[i], ret,
		       errname(errno));
		errno = 0;
		ret = lio_listio(LIO_NOWAIT, list, bad[i], NULL);
		EXPECT(ret == -1 && errno == EINVAL,
		       "lio_listio(LIO_NOWAIT, nent %d): expected -1/EINVAL, got %d/%s", bad[i],
		       ret, errname(errno));
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
