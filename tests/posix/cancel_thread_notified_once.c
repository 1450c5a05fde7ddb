/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A cancelled request with SIGEV_THREAD still notifies: its function runs exactly once, after
 * aio_error reports ECANCELED.
 */
#include "common.h"

static struct aiocb r;
static atomic_int calls, err_seen;

static void on_done(union sigval v)
{
	(void)v;
	atomic_store(&err_seen, aio_error(&r));
	atomic_fetch_add(&calls, 1);
}

static int test(void)
{
	char buf[16];
	int p[2], ret;

	SYSCHECK(pipe(p));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	r.aio_sigevent.sigev_notify = SIGEV_THREAD;
	r.aio_sigevent.sigev_notify_function = on_done;
	EXPECT_OK(aio_read(&r));
	expect_pending(&r, "aio_read on an empty pipe");
	ret = aio_cancel(p[0], &r);
	EXPECT(ret == AIO_CANCELED, "aio_cancel: expected AIO_CANCELED (%d), got %d", AIO_CANCELED,
	       ret);
	EXPECT(wait_counter(&calls, 1, 2000), "the function did not run within 2 s of the cancel");
	sleep_ms(100);
	EXPECT(atomic_load(&calls) == 1, "the function ran %d times, expected once",
	       atomic_load(&calls));
	EXPECT(atomic_load(&err_seen) == ECANCELED,
	       "aio_error inside the function: expected ECANCELED, got %s",
	       errname(atomic_load(&err_seen)));
	EXPECT(aio_return(&r) == -1, "aio_return of the cancelled read is not -1");
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
