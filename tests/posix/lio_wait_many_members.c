/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio takes long lists: 10,000 one-byte reads in one LIO_WAIT call return 0 with every
 * member done and right; then 10,000 more with LIO_NOWAIT and a SIGEV_THREAD list function
 * that runs once when all are done.
 */
#include "common.h"

#define NREQ 10000

static atomic_int calls;

static void on_done(union sigval v)
{
	(void)v;
	atomic_fetch_add(&calls, 1);
}

static void check_all(struct aiocb *cbs, unsigned char *bytes, const char *what)
{
	for (int i = 0; i < NREQ; i++) {
		int err = wait_done(&cbs[i], what);

		EXPECT(err == 0 && aio_return(&cbs[i]) == 1, "%s: member %d failed (%s)", what, i,
		       errname(err));
		EXPECT(bytes[i] == pattern_byte((size_t)i), "%s: member %d got another byte", what,
		       i);
	}
}

static int test(void)
{
	struct aiocb *cbs = calloc(NREQ, sizeof(*cbs)), **list = calloc(NREQ, sizeof(*list));
	unsigned char *bytes = calloc(NREQ, 1);
	struct sigevent sev;
	int fd = tmp_file_with(0, NREQ, pattern_byte), ret;

	EXPECT(cbs && list && bytes, "malloc failed");
	for (int i = 0; i < NREQ; i++) {
		aiocb_prep(&cbs[i], fd, &bytes[i], 1, i);
		cbs[i].aio_lio_opcode = LIO_READ;
		list[i] = &cbs[i];
	}
	errno = 0;
	ret = lio_listio(LIO_WAIT, list, NREQ, NULL);
	EXPECT(ret == 0, "lio_listio(LIO_WAIT) of %d members: expected 0, got %d/%s", NREQ, ret,
	       errname(errno));
	for (int i = 0; i < NREQ; i++)
		EXPECT(aio_error(&cbs[i]) != EINPROGRESS, "member %d in progress after LIO_WAIT",
		       i);
	check_all(cbs, bytes, "LIO_WAIT");

	memset(bytes, 0, NREQ);
	for (int i = 0; i < NREQ; i++) {
		aiocb_prep(&cbs[i], fd, &bytes[i], 1, i);
		cbs[i].aio_lio_opcode = LIO_READ;
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = on_done;
	errno = 0;
	ret = lio_listio(LIO_NOWAIT, list, NREQ, &sev);
	EXPECT(ret == 0, "lio_listio(LIO_NOWAIT) of %d members: expected 0, got %d/%s", NREQ, ret,
	       errname(errno));
	check_all(cbs, bytes, "LIO_NOWAIT");
	EXPECT(wait_counter(&calls, 1, 2000), "the list function did not run");
	sleep_ms(50);
	EXPECT(atomic_load(&calls) == 1, "the list function ran %d times", atomic_load(&calls));
	free(cbs);
	free(list);
	free(bytes);
	close(fd);
	return 0;
}

TEST_MAIN(test)
