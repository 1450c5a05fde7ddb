/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_suspend with the largest relative timeout a struct timespec holds waits for the
 * request: the deadline it makes (now plus the timeout) must not overflow into the past and
 * return -1/EAGAIN at once, and must not be refused as invalid.
 */
#include "common.h"

#include <pthread.h>

#define TIME_T_MAX ((time_t)((1ULL << (sizeof(time_t) * 8 - 1)) - 1))

static int writer_fd;

static void *write_later(void *arg)
{
	(void)arg;
	sleep_ms(100);
	write_all(writer_fd, "x", 1);
	return NULL;
}

static int test(void)
{
	struct timespec huge[] = { { TIME_T_MAX, 999999999L }, { TIME_T_MAX - 1, 0 },
				   { TIME_T_MAX / 2, 0 } };
	char buf[16];
	struct aiocb r;
	const struct aiocb *list[1] = { &r };
	pthread_t t;
	int p[2];

	SYSCHECK(pipe(p));
	writer_fd = p[1];
	for (unsigned i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		int64_t start;
		int ret;

		aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
		EXPECT_OK(aio_read(&r));
		EXPECT(pthread_create(&t, NULL, write_later, NULL) == 0, "pthread_create failed");
		start = now_ms();
		errno = 0;
		ret = aio_suspend(list, 1, &huge[i]);
		EXPECT(ret == 0, "aio_suspend with a timeout of %lld s: %d/%s after %lld ms, expected "
		       "0 once the read completes", (long long)huge[i].tv_sec, ret, errname(errno),
		       (long long)(now_ms() - start));
		pthread_join(t, NULL);
		expect_done_ok(&r, 1, "the pipe read");
	}
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
