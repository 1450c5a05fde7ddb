/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Once a request's notification is out, its aiocb belongs to the program again: a
 * SIGEV_THREAD callback may unmap it. aio_cancel of a pending pipe read whose callback
 * unmaps the aiocb answers AIO_CANCELED and never reads the aiocb after the callback ran.
 */
#include <semaphore.h>
#include <sys/mman.h>

#include "common.h"

#define ROUNDS 200

static sem_t ran;
static long page;

static void unmap_it(union sigval v)
{
	struct aiocb *cb = v.sival_ptr;

	if (aio_error(cb) != ECANCELED)
		abort();
	munmap(cb, (size_t)page);
	sem_post(&ran);
}

static int test(void)
{
	static char buf[16];
	int p[2];

	page = sysconf(_SC_PAGESIZE);
	SYSCHECK(pipe(p));
	sem_init(&ran, 0, 0);
	for (int i = 0; i < ROUNDS; i++) {
		struct aiocb *cb = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct timespec ts;
		int ret;

		EXPECT(cb != MAP_FAILED, "mmap failed: %s", strerror(errno));
		aiocb_prep(cb, p[0], buf, sizeof(buf), 0);
		cb->aio_sigevent.sigev_notify = SIGEV_THREAD;
		cb->aio_sigevent.sigev_notify_function = unmap_it;
		cb->aio_sigevent.sigev_value.sival_ptr = cb;
		EXPECT_OK(aio_read(cb));
		ret = aio_cancel(p[0], cb);
		EXPECT(ret == AIO_CANCELED,
		       "round %d: aio_cancel returned %d, expected AIO_CANCELED", i, ret);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5 * time_scale();
		EXPECT(sem_timedwait(&ran, &ts) == 0, "round %d: the callback never ran", i);
	}
	return 0;
}

TEST_MAIN(test)
