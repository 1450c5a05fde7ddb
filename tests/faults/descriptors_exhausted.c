/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * With every descriptor the process may have in use (RLIMIT_NOFILE reached), the library
 * refuses what it could not finish, and never fails what it accepted:
 *  - a request with SIGEV_THREAD is refused with EAGAIN, or its callback runs;
 *  - aio_suspend() with no timeout, in a thread that never waited before (it has no wake-up
 *    descriptor yet and can get none), waits for the request instead of failing at once;
 *  - lio_listio(LIO_WAIT) in such a thread returns only once every member is complete.
 * Pipes fed by another thread a moment later make the requests pending first.
 */
#include <sys/resource.h>

#include "faults.h"

#define MAX_FILLER 4096

static int filler[MAX_FILLER], nfiller;
static int pipes[3][2];
static atomic_int called;

static void fill(void)
{
	int fd;

	while (nfiller < MAX_FILLER && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		filler[nfiller++] = fd;
	EXPECT(errno == EMFILE, "opening /dev/null until the limit: %s", errname(errno));
}

static void on_done(union sigval v)
{
	(void)v;
	atomic_fetch_add(&called, 1);
}

static void *feed_later(void *arg)
{
	int fd = *(int *)arg;

	sleep_ms(200);
	write_all(fd, "x", 1);
	return NULL;
}

static void *suspend_waiter(void *arg)
{
	const struct aiocb *list[1] = { arg };
	int ret = aio_suspend(list, 1, NULL);

	EXPECT(ret == 0, "aio_suspend with no timeout and no descriptor to spare: %d (%s); it "
			 "must wait for the request", ret, errname(errno));
	EXPECT(aio_error(arg) != EINPROGRESS, "aio_suspend returned 0 with the request pending");
	return NULL;
}

static void *lio_waiter(void *arg)
{
	struct aiocb *list[1] = { arg };
	int ret = lio_listio(LIO_WAIT, list, 1, NULL);

	EXPECT(aio_error(arg) != EINPROGRESS, "lio_listio(LIO_WAIT) returned %d (%s) with its "
					      "member still in flight", ret, errname(errno));
	EXPECT(ret == 0 || errno == EIO, "lio_listio(LIO_WAIT): %d (%s)", ret, errname(errno));
	return NULL;
}

/* Run fn(cb) in a new thread while another feeds pipe i a moment later. */
static void in_new_thread(void *(*fn)(void *), struct aiocb *cb, int i)
{
	pthread_t waiter, feeder;

	EXPECT(pthread_create(&feeder, NULL, feed_later, &pipes[i][1]) == 0, "pthread_create");
	EXPECT(pthread_create(&waiter, NULL, fn, cb) == 0, "pthread_create");
	pthread_join(waiter, NULL);
	pthread_join(feeder, NULL);
}

static int test(void)
{
	struct aiocb first, a, b, c;
	char buf[4], ca, cb_, cc;
	int fd = tmp_file_with(0, 4, pattern_byte);
	struct rlimit rl;

	/* The engine starts at the first call, with descriptors to spare. */
	aiocb_prep(&first, fd, buf, 4, 0);
	EXPECT_OK(aio_read(&first));
	expect_done_ok(&first, 4, "the first read");
	for (int i = 0; i < 3; i++)
		SYSCHECK(pipe(pipes[i]));
	SYSCHECK(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur > 512) {
		rl.rlim_cur = 512;
		SYSCHECK(setrlimit(RLIMIT_NOFILE, &rl));
	}
	fill();

	aiocb_prep(&a, pipes[0][0], &ca, 1, 0);
	a.aio_sigevent.sigev_notify = SIGEV_THREAD;
	a.aio_sigevent.sigev_notify_function = on_done;
	if (aio_read(&a) == 0) {
		write_all(pipes[0][1], "x", 1);
		expect_done_ok(&a, 1, "a SIGEV_THREAD read accepted with no descriptor to spare");
		EXPECT(wait_counter(&called, 1, WAIT_DONE_MS),
		       "the callback of a request accepted with no descriptor to spare never ran");
	} else {
		EXPECT(errno == EAGAIN, "a SIGEV_THREAD read refused with %s, expected EAGAIN",
		       errname(errno));
		printf("SIGEV_THREAD request refused with EAGAIN\n");
	}

	/* One descriptor back for the library's own use, then none again. */
	close(filler[--nfiller]);
	aiocb_prep(&b, pipes[1][0], &cb_, 1, 0);
	EXPECT_OK(aio_read(&b));
	aiocb_prep(&c, pipes[2][0], &cc, 1, 0);
	c.aio_lio_opcode = LIO_READ;
	fill();
	expect_pending(&b, "a read of an empty pipe");
	in_new_thread(suspend_waiter, &b, 1);
	expect_done_ok(&b, 1, "the read aio_suspend waited for");
	in_new_thread(lio_waiter, &c, 2);
	expect_done_ok(&c, 1, "the lio_listio(LIO_WAIT) member");

	while (nfiller)
		close(filler[--nfiller]);
	return 0;
}

TEST_MAIN(test)
