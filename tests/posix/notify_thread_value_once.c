/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGEV_THREAD runs the function exactly once per request, with that request's sigev_value,
 * after its result is visible through aio_error: 300 file reads and 32 pipe reads.
 */
#include "common.h"

#define NFILE 300
#define NPIPE 32
#define NREQ (NFILE + NPIPE)

static struct aiocb cbs[NREQ];
static atomic_int seen[NREQ], total, bad, early;

static void on_done(union sigval v)
{
	struct aiocb *cb = v.sival_ptr;
	long i = cb - cbs;

	if (i < 0 || i >= NREQ) {
		atomic_fetch_add(&bad, 1);
	} else {
		if (aio_error(cb) == EINPROGRESS)
			atomic_fetch_add(&early, 1);
		atomic_fetch_add(&seen[i], 1);
	}
	atomic_fetch_add(&total, 1);
}

static int test(void)
{
	static char bufs[NREQ][8];
	int fd = tmp_file_with(0, 65536, pattern_byte), p[2];

	SYSCHECK(pipe(p));
	for (int i = 0; i < NREQ; i++) {
		if (i < NFILE)
			aiocb_prep(&cbs[i], fd, bufs[i], sizeof(bufs[i]), (off_t)i * 8);
		else
			aiocb_prep(&cbs[i], p[0], bufs[i], 1, 0);
		cbs[i].aio_sigevent.sigev_notify = SIGEV_THREAD;
		cbs[i].aio_sigevent.sigev_notify_function = on_done;
		cbs[i].aio_sigevent.sigev_value.sival_ptr = &cbs[i];
		EXPECT_OK(aio_read(&cbs[i]));
	}
	for (int i = NFILE; i < NREQ; i++)
		write_all(p[1], "z", 1);
	EXPECT(wait_counter(&total, NREQ, 5000), "%d function calls for %d requests",
	       atomic_load(&total), NREQ);
	sleep_ms(100);
	EXPECT(atomic_load(&bad) == 0, "%d calls had a sigev_value that is none of the requests",
	       atomic_load(&bad));
	EXPECT(atomic_load(&early) == 0, "%d calls ran while their request was still in progress",
	       atomic_load(&early));
	for (int i = 0; i < NREQ; i++)
		EXPECT(atomic_load(&seen[i]) == 1, "request %d's function ran %d times, expected 1",
		       i, atomic_load(&seen[i]));
	for (int i = 0; i < NREQ; i++)
		expect_done_ok(&cbs[i], i < NFILE ? 8 : 1, "a request");
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
