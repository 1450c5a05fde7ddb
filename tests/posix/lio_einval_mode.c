/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lio_listio with a mode other than LIO_WAIT or LIO_NOWAIT fails with -1/EINVAL, doing nothing. */
#include "common.h"

static int test(void)
{
	static const int modes[] = {2, 3, -1, 100};
	char buf[16] = "must not land";
	struct aiocb wr;
	struct aiocb *list[1] = {&wr};
	struct stat st;
	int fd = tmp_file(O_RDWR);

	EXPECT(LIO_WAIT != 2 && LIO_NOWAIT != 2 && LIO_WAIT != 3 && LIO_NOWAIT != 3,
	       "setup: unexpected LIO_WAIT/LIO_NOWAIT values");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		int ret;

		aiocb_prep(&wr, fd, buf, sizeof(buf), 0);
		wr.aio_lio_opcode = LIO_WRITE;
		errno = 0;
		ret = lio_listio(modes[i], list, 1, NULL);
		EXPECT(ret == -1 && errno == EINVAL,
		       "lio_listio(mode %d): expected -1/EINVAL, got %d/%s", modes[i], ret,
		       errname(errno));
	}
	SYSCHECK(fstat(fd, &st));
	EXPECT(st.st_size == 0, "a refused list wrote to the file");
	close(fd);
	return 0;
}

TEST_MAIN(test)
