/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGEV_THREAD with sigev_notify_attributes runs the function in a thread created with those
 * attributes: a detached thread with a 3 MiB stack here (checked from inside with
 * pthread_getattr_np).
 */
#include "common.h"

#define STACK (3 * 1024 * 1024)

static atomic_int calls, detach_state = -1;
static atomic_long stack_size = -1;

static void on_done(union sigval v)
{
	pthread_attr_t attr;
	size_t size = 0;
	int state = -1;

	(void)v;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstacksize(&attr, &size);
		pthread_attr_getdetachstate(&attr, &state);
		pthread_attr_destroy(&attr);
	}
	atomic_store(&stack_size, (long)size);
	atomic_store(&detach_state, state);
	atomic_fetch_add(&calls, 1);
}

static int test(void)
{
	pthread_attr_t attr;
	struct aiocb cb;
	char buf[64];
	int fd = tmp_file_with(0, 4096, pattern_byte);

	pthread_attr_init(&attr);
	EXPECT(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0, "setdetachstate");
	EXPECT(pthread_attr_setstacksize(&attr, STACK) == 0, "setstacksize");
	for (int round = 0; round < 3; round++) {
		atomic_store(&calls, 0);
		aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
		cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
		cb.aio_sigevent.sigev_notify_function = on_done;
		cb.aio_sigevent.sigev_notify_attributes = &attr;
		EXPECT_OK(aio_read(&cb));
		expect_done_ok(&cb, sizeof(buf), "aio_read with SIGEV_THREAD");
		EXPECT(wait_counter(&calls, 1, 2000), "the function did not run within 2 s");
		long size = atomic_load(&stack_size);

		EXPECT(size >= STACK && size < STACK + 256 * 1024,
		       "the function's thread has a %ld-byte stack, expected the %d bytes asked "
		       "for",
		       size, STACK);
		EXPECT(atomic_load(&detach_state) == PTHREAD_CREATE_DETACHED,
		       "the function's thread is not detached as asked");
	}
	pthread_attr_destroy(&attr);
	close(fd);
	return 0;
}

TEST_MAIN(test)
