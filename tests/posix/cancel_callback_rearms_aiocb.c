/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Once a request's notification is out, its aiocb belongs to the program again: a
 * SIGEV_THREAD callback may submit it anew. aio_cancel of a pending pipe read whose callback
 * re-arms the aiocb with another pending read answers AIO_CANCELED for the first request
 * and does not wait for the second; a second aio_cancel then cancels the second.
 */
#include <semaphore.h>

#include "common.h"

#define ROUNDS 200

static sem_t ran;
static int rearm_failed;

static void rearm(union sigval v)
{
	struct aiocb *cb = v.sival_ptr;

	if (aio_error(cb) != ECANCELED || aio_return(cb) != -1)
		rearm_failed = 1;
	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
	if (aio_read(cb) != 0)
		rearm_failed = 1;
	sem_post(&ran);
}

static int test(void)
{
	static char buf[16];
	static struct aiocb cb;
	struct timespec ts;
	int p[2], ret;

	SYSCHECK(pipe(p));
	sem_init(&ran, 0, 0);
	for (int i = 0; i < ROUNDS; i++) {
		aiocb_prep(&cb, p[0], buf, sizeof(buf), 0);
		cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
		cb.aio_sigevent.sigev_notify_function = rearm;
		cb.aio_sigevent.sigev_value.sival_ptr = &cb;
		EXPECT_OK(aio_read(&cb));
		ret = aio_cancel(p[0], &cb);
		EXPECT(ret == AIO_CANCELED,
		       "round %d: aio_cancel returned %d, expected AIO_CANCELED", i, ret);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5 * time_scale();
		EXPECT(sem_timedwait(&ran, &ts) == 0, "round %d: the callback never ran", i);
		EXPECT(!rearm_failed, "round %d: the callback could not re-arm the aiocb", i);
		ret = aio_cancel(p[0], &cb);
		EXPECT(ret == AIO_CANCELED,
		       "round %d: aio_cancel of the re-armed read returned %d, expected "
		       "AIO_CANCELED",
		       i, ret);
		EXPECT(aio_error(&cb) == ECANCELED, "round %d: the re-armed read was not cancelled",
		       i);
		aio_return(&cb);
	}
	return 0;
}

TEST_MAIN(test)
