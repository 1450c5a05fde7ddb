/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Native AIO contexts count against fs.aio-max-nr (65536 by default), shared by the whole
 * system. The library must not use up that budget for everyone, and must serve file
 * requests when the budget is gone.
 *
 * "processes": 64 children, alive together (a pipe barrier holds them until all have done
 * AIO), each write a file with aio_write and read it back with aio_read; every one must
 * succeed, as with glibc. (Taking 4096 events per process, the 17th got EAGAIN from every
 * call.)
 *
 * "budget": io_setup fails with EAGAIN, as when the budget is used up (this program
 * interposes io_setup: lowering fs.aio-max-nr would fail every other process on the
 * machine too). aio_write, aio_read and aio_fsync of a file must still complete correctly;
 * then io_setup works again, and requests keep completing.
 */
#include "faults.h"

#include <poll.h>

/* libaio's context handle; its header need not be installed for this. */
typedef struct io_context *io_context_t;
int io_setup(int nr, io_context_t *ctx);

#define CHILDREN 64
#define NREQ 4
#define LEN 4096

static atomic_int setup_fail, setup_calls, setup_ok;

/* The library's io_setup comes here: the executable's definition interposes libaio's. */
__attribute__((visibility("default"))) int io_setup(int nr, io_context_t *ctx)
{
	long ret;

	atomic_fetch_add(&setup_calls, 1);
	if (atomic_load(&setup_fail))
		return -EAGAIN;
	ret = syscall(__NR_io_setup, nr, ctx);
	if (ret < 0)
		return -errno;
	atomic_fetch_add(&setup_ok, 1);
	return 0;
}

static unsigned char fill(size_t i)
{
	return (unsigned char)(i * 7 + getpid());
}

/* NREQ writes then NREQ reads of fd, checked; with wait between (the barrier). */
static void write_all_aio(int fd, unsigned char (*bufs)[LEN])
{
	struct aiocb cbs[NREQ];

	for (int i = 0; i < NREQ; i++) {
		for (size_t j = 0; j < LEN; j++)
			bufs[i][j] = fill((size_t)i * LEN + j);
		aiocb_prep(&cbs[i], fd, bufs[i], LEN, (off_t)i * LEN);
		EXPECT_OK(aio_write(&cbs[i]));
	}
	for (int i = 0; i < NREQ; i++)
		expect_done_ok(&cbs[i], LEN, "aio_write");
}

static void read_back_aio(int fd, unsigned char (*bufs)[LEN])
{
	struct aiocb cbs[NREQ];

	for (int i = 0; i < NREQ; i++) {
		memset(bufs[i], 0, LEN);
		aiocb_prep(&cbs[i], fd, bufs[i], LEN, (off_t)i * LEN);
		EXPECT_OK(aio_read(&cbs[i]));
	}
	for (int i = 0; i < NREQ; i++) {
		expect_done_ok(&cbs[i], LEN, "aio_read");
		for (size_t j = 0; j < LEN; j++)
			EXPECT(bufs[i][j] == fill((size_t)i * LEN + j), "aio_read: wrong byte");
	}
}

static void fsync_aio(int fd)
{
	struct aiocb cb;

	aiocb_prep(&cb, fd, NULL, 0, 0);
	EXPECT_OK(aio_fsync(O_SYNC, &cb));
	expect_done_ok(&cb, 0, "aio_fsync");
}

static int child(int ready, int go)
{
	static unsigned char bufs[NREQ][LEN];
	int fd = tmp_file(O_RDWR);
	char c;

	write_all_aio(fd, bufs);
	c = 'R';
	write_all(ready, &c, 1);
	/* Hold on (and hold the library's context) until every child got here. */
	if (read(go, &c, 1) < 0)
		FAIL("barrier read: %s", strerror(errno));
	read_back_aio(fd, bufs);
	close(fd);
	return 0;
}

static int processes(void)
{
	int ready[2], go[2], ok = 0, arrived = 0, ended = 0;
	pid_t pids[CHILDREN];

	SYSCHECK(pipe(ready));
	SYSCHECK(pipe(go));
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		SYSCHECK(pids[i]);
		if (pids[i] == 0) {
			close(ready[0]);
			close(go[1]);
			_exit(child(ready[1], go[0]));
		}
	}
	close(ready[1]);
	close(go[0]);
	/* Until each child reached the barrier or ended (a failing one exits at once). */
	for (int64_t deadline = now_ms() + WAIT_DONE_MS * 2; arrived + ended < CHILDREN;) {
		struct pollfd p = { .fd = ready[0], .events = POLLIN };
		int status;
		char c;

		EXPECT(now_ms() < deadline, "children neither reached the barrier nor ended");
		if (poll(&p, 1, 10) == 1 && read(ready[0], &c, 1) == 1)
			arrived++;
		while (waitpid(-1, &status, WNOHANG) > 0) {
			ended++;
			ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
		}
	}
	close(go[1]);
	for (int i = 0; i < CHILDREN - ended; i++) {
		int status;

		SYSCHECK(wait(&status));
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	printf("%d of %d processes did file AIO at the same time (%d reached the barrier)\n", ok,
	       CHILDREN, arrived);
	EXPECT(ok == CHILDREN && arrived == CHILDREN,
	       "only %d of %d processes doing AIO at the same time succeeded", ok, CHILDREN);
	return 0;
}

static int budget(void)
{
	static unsigned char bufs[NREQ][LEN];
	int fd = tmp_file(O_RDWR);

	atomic_store(&setup_fail, 1);
	write_all_aio(fd, bufs);
	fsync_aio(fd);
	read_back_aio(fd, bufs);
	printf("with io_setup refused: requests completed (io_setup tried %d times)\n",
	       atomic_load(&setup_calls));
	/* The budget comes back: the library may take a context again, and goes on working. */
	atomic_store(&setup_fail, 0);
	sleep_ms(1100);
	write_all_aio(fd, bufs);
	fsync_aio(fd);
	read_back_aio(fd, bufs);
	printf("after: io_setup succeeded %d times\n", atomic_load(&setup_ok));
	close(fd);
	return 0;
}

static int body(void)
{
	processes();
	return budget();
}

TEST_MAIN(body)
