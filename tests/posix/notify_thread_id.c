/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGEV_THREAD_ID (Linux) delivers the completion signal to the thread named in
 * sigev_notify_thread_id, not to the process: the handler runs in that thread (gettid()).
 */
#include "common.h"

#define ROUNDS 10

static atomic_int signals, handler_tid, target_tid, stop;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	atomic_store(&handler_tid, test_gettid());
	atomic_fetch_add(&signals, 1);
}

static void *target(void *arg)
{
	(void)arg;
	atomic_store(&target_tid, test_gettid());
	while (!atomic_load(&stop))
		sleep_ms(1);
	return NULL;
}

static int test(void)
{
	int sig = SIGRTMIN + 6, fd = tmp_file_with(0, 4096, pattern_byte), ret;
	struct aiocb cb;
	char buf[64];
	pthread_t th;

	install_handler(sig, on_signal, SA_SIGINFO);
	EXPECT(pthread_create(&th, NULL, target, NULL) == 0, "pthread_create failed");
	while (!atomic_load(&target_tid))
		sleep_ms(1);
	for (int round = 0; round < ROUNDS; round++) {
		atomic_store(&signals, 0);
		atomic_store(&handler_tid, 0);
		aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
		cb.aio_sigevent.sigev_notify = SIGEV_THREAD_ID;
		cb.aio_sigevent.sigev_signo = sig;
		cb.aio_sigevent.sigev_notify_thread_id = atomic_load(&target_tid);
		errno = 0;
		ret = aio_read(&cb);
		EXPECT(ret == 0, "aio_read with SIGEV_THREAD_ID: expected 0, got %d/%s", ret,
		       errname(errno));
		expect_done_ok(&cb, sizeof(buf), "aio_read with SIGEV_THREAD_ID");
		/* The main thread waits with the signal unblocked: a process signal lands here. */
		EXPECT(wait_counter(&signals, 1, 2000),
		       "no signal within 2 s of completing a SIGEV_THREAD_ID request");
		EXPECT(atomic_load(&handler_tid) == atomic_load(&target_tid),
		       "round %d: the handler ran in thread %d, expected the target thread %d "
		       "(main is %d)",
		       round, atomic_load(&handler_tid), atomic_load(&target_tid),
		       (int)test_gettid());
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	close(fd);
	return 0;
}

TEST_MAIN(test)
