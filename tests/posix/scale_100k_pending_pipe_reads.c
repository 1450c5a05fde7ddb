/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 100,000 reads can be pending at once on pipes: they are spread over many pipes (up to 1,000,
 * as the descriptor limit allows), all submitted before any data exists; none is refused with
 * EAGAIN; then each pipe is fed and every read gets its own byte, in order.
 */
#include "common.h"

#include <sys/resource.h>

#define NREQ 100000

static int test(void)
{
	struct aiocb *cbs = calloc(NREQ, sizeof(*cbs));
	unsigned char *bytes = calloc(NREQ, 1), *msg;
	struct rlimit rl;
	int npipes, per, (*pipes)[2];

	EXPECT(cbs && bytes, "malloc failed");
	SYSCHECK(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 2200) {
		rl.rlim_cur = rl.rlim_max < 2200 ? rl.rlim_max : 2200;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	npipes = (int)((rl.rlim_cur - 100) / 2);
	npipes = npipes > 1000 ? 1000 : npipes;
	if (npipes < 10)
		skip("only %lu descriptors allowed", (unsigned long)rl.rlim_cur);
	per = (NREQ + npipes - 1) / npipes;
	pipes = calloc((size_t)npipes, sizeof(*pipes));
	msg = malloc((size_t)per);
	EXPECT(pipes && msg, "malloc failed");
	for (int k = 0; k < npipes; k++)
		SYSCHECK(pipe(pipes[k]));

	for (int i = 0; i < NREQ; i++) {
		int ret;

		aiocb_prep(&cbs[i], pipes[i % npipes][0], &bytes[i], 1, 0);
		errno = 0;
		ret = aio_read(&cbs[i]);
		EXPECT(ret == 0, "aio_read number %d of %d: expected 0, got %d/%s", i + 1, NREQ,
		       ret, errname(errno));
	}
	EXPECT(aio_error(&cbs[0]) == EINPROGRESS && aio_error(&cbs[NREQ - 1]) == EINPROGRESS,
	       "reads on empty pipes are not pending");

	/* Pipe k serves reads k, k + npipes, ...: the j-th of them must get byte j of its feed. */
	for (int k = 0; k < npipes; k++) {
		int n = 0;

		for (int i = k; i < NREQ; i += npipes)
			msg[n++] = (unsigned char)(i * 7 + 3);
		write_all(pipes[k][1], msg, (size_t)n);
	}
	for (int i = 0; i < NREQ; i++) {
		int err = wait_done(&cbs[i], "one of 100,000 pipe reads");
		ssize_t ret = aio_return(&cbs[i]);

		EXPECT(err == 0 && ret == 1, "read %d: aio_error %s, aio_return %zd", i,
		       errname(err), ret);
		EXPECT(bytes[i] == (unsigned char)(i * 7 + 3),
		       "read %d (pipe %d) got byte 0x%02x, expected 0x%02x: reads out of order", i,
		       i % npipes, bytes[i], (unsigned char)(i * 7 + 3));
	}
	for (int k = 0; k < npipes; k++) {
		close(pipes[k][0]);
		close(pipes[k][1]);
	}
	free(pipes);
	free(msg);
	free(cbs);
	free(bytes);
	return 0;
}

TEST_MAIN(test)
