/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 100,000 requests can be outstanding at once: 100,000 one-byte aio_reads of a file are all
 * submitted before any is collected, none is refused with EAGAIN, and each gets its own byte.
 */
#include "common.h"

#define NREQ 100000

static int test(void)
{
	struct aiocb *cbs = calloc(NREQ, sizeof(*cbs));
	unsigned char *bytes = malloc(NREQ);
	int fd = tmp_file_with(0, NREQ, pattern_byte);

	EXPECT(cbs && bytes, "malloc failed");
	memset(bytes, 0, NREQ);
	for (int i = 0; i < NREQ; i++) {
		int ret;

		aiocb_prep(&cbs[i], fd, &bytes[i], 1, i);
		errno = 0;
		ret = aio_read(&cbs[i]);
		EXPECT(ret == 0, "aio_read number %d of %d: expected 0, got %d/%s", i + 1, NREQ,
		       ret, errname(errno));
	}
	for (int i = 0; i < NREQ; i++) {
		int err = wait_done(&cbs[i], "one of 100,000 reads");
		ssize_t ret = aio_return(&cbs[i]);

		EXPECT(err == 0 && ret == 1, "read %d: aio_error %s, aio_return %zd", i,
		       errname(err), ret);
		EXPECT(bytes[i] == pattern_byte((size_t)i), "read %d got another byte", i);
	}
	free(cbs);
	free(bytes);
	close(fd);
	return 0;
}

TEST_MAIN(test)
