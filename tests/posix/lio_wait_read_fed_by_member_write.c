/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio(LIO_WAIT) starts every member before waiting: a list holding a read of an empty
 * pipe followed by the write that feeds it returns 0, the read having the written data.
 */
#include "common.h"

static int test(void)
{
	static const char msg[] = "from the same list";
	char buf[64];
	struct aiocb rd, wr;
	struct aiocb *list[2] = {&rd, &wr};
	int p[2];

	SYSCHECK(pipe(p));
	memset(buf, 0, sizeof(buf));
	aiocb_prep(&rd, p[0], buf, sizeof(buf), 0);
	rd.aio_lio_opcode = LIO_READ;
	aiocb_prep(&wr, p[1], (void *)msg, sizeof(msg), 0);
	wr.aio_lio_opcode = LIO_WRITE;
	EXPECT_OK(lio_listio(LIO_WAIT, list, 2, NULL));
	EXPECT(aio_error(&rd) == 0 && aio_return(&rd) == sizeof(msg), "the read member failed");
	EXPECT(aio_error(&wr) == 0 && aio_return(&wr) == sizeof(msg), "the write member failed");
	EXPECT(memcmp(buf, msg, sizeof(msg)) == 0, "the read got \"%s\"", buf);
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
