/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_suspend, aio_error and aio_return are async-signal-safe. A handler of the requests'
 * own SIGEV_SIGNAL (and of a stream of other signals) calls aio_suspend with a zero timeout
 * on a request that is complete (it returns 0 at once) and on one that is pending (it
 * times out with EAGAIN), while the thread it interrupts is busy in the library.
 */
#include "common.h"

#define ROUNDS 4000

static struct aiocb done_cb, pending_cb;
static atomic_int handled, bad;
static atomic_bool stop;
static pthread_t main_thread;

static void handler(int sig)
{
	static const struct timespec zero = { 0, 0 };
	const struct aiocb *done_list[1] = { &done_cb }, *pending_list[1] = { &pending_cb };
	int saved = errno;

	(void)sig;
	if (aio_suspend(done_list, 1, &zero) != 0 || aio_error(&done_cb) != 0 ||
	    aio_return(&done_cb) != 16)
		atomic_store(&bad, 1);
	if (aio_suspend(pending_list, 1, &zero) != -1 || errno != EAGAIN ||
	    aio_error(&pending_cb) != EINPROGRESS)
		atomic_store(&bad, 2);
	atomic_fetch_add(&handled, 1);
	errno = saved;
}

static void *kicker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		pthread_kill(main_thread, SIGUSR1);
		usleep(50);
	}
	return NULL;
}

static int test(void)
{
	static char buf[16], pbuf[16], dbuf[16];
	int fd = tmp_file_with(0, 4096, pattern_byte), p[2];
	sigset_t usr1;
	pthread_t k;

	SYSCHECK(pipe(p));
	install_handler(SIGUSR1, handler, SA_RESTART);
	aiocb_prep(&done_cb, fd, dbuf, sizeof(dbuf), 0);
	EXPECT_OK(aio_read(&done_cb));
	expect_done_ok(&done_cb, sizeof(dbuf), "the read the handler finds complete");
	aiocb_prep(&pending_cb, p[0], pbuf, sizeof(pbuf), 0);
	EXPECT_OK(aio_read(&pending_cb));

	main_thread = pthread_self();
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* the kicker inherits it blocked */
	EXPECT(pthread_create(&k, NULL, kicker, NULL) == 0, "pthread_create failed");
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);

	for (int i = 0; i < ROUNDS && !atomic_load(&bad); i++) {
		struct aiocb cb;
		const struct aiocb *list[1] = { &cb };

		aiocb_prep(&cb, fd, buf, sizeof(buf), (i % 256) * 16);
		cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
		cb.aio_sigevent.sigev_signo = SIGUSR1;
		EXPECT_OK(aio_read(&cb));
		while (aio_error(&cb) == EINPROGRESS)
			aio_suspend(list, 1, NULL);
		EXPECT(aio_return(&cb) == sizeof(buf), "read %d came back short", i);
	}
	atomic_store(&stop, true);
	pthread_join(k, NULL);
	EXPECT(!atomic_load(&bad),
	       "in the handler: %s", atomic_load(&bad) == 1
	       ? "aio_suspend/aio_error/aio_return on the complete request did not answer 0/0/16"
	       : "aio_suspend on the pending request did not time out (-1 EAGAIN)");
	EXPECT(atomic_load(&handled) > 0, "the handler never ran");
	write_all(p[1], "x", 1);
	expect_done_ok(&pending_cb, 1, "the pending pipe read");
	return 0;
}

TEST_MAIN(test)
