/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fork() while other threads submit and complete requests, many times: each child can use
 * AIO at once (a file read and a pipe round trip) and exits; the parent's threads see every
 * one of their requests complete with the right data. Then processes that leave requests in
 * flight: one calls execve(/bin/true) with a pipe read pending, one calls exit() and one
 * _exit() with pipe reads and file reads in flight: none may hang.
 */
#include "faults.h"

#define WORKERS 2
#define FORKS 60
#define CHUNK 256
#define FILE_SIZE (64 * CHUNK)

static int fd;
static atomic_bool stop;
static atomic_long worker_done;

/* A worker: reads of the file and pipe round trips, each checked, until stop. */
static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	unsigned char buf[CHUNK], msg[CHUNK];
	int p[2];

	if (pipe(p) == -1)
		return (void *)"pipe failed";
	while (!atomic_load(&stop)) {
		struct aiocb r, pr, pw;
		size_t off = (size_t)(rand_r(&seed) % (FILE_SIZE / CHUNK)) * CHUNK;

		aiocb_prep(&r, fd, buf, CHUNK, (off_t)off);
		aiocb_prep(&pr, p[0], msg, 8, 0);
		aiocb_prep(&pw, p[1], "worker!!", 8, 0);
		if (aio_read(&r) || aio_read(&pr) || aio_write(&pw))
			return (void *)"submission failed";
		if (wait_done(&r, "worker file read") || aio_return(&r) != CHUNK)
			return (void *)"file read failed";
		for (size_t k = 0; k < CHUNK; k++)
			if (buf[k] != pattern_byte(off + k))
				return (void *)"file read got other bytes";
		if (wait_done(&pr, "worker pipe read") || aio_return(&pr) != 8 ||
		    memcmp(msg, "worker!!", 8))
			return (void *)"pipe read failed";
		if (wait_done(&pw, "worker pipe write") || aio_return(&pw) != 8)
			return (void *)"pipe write failed";
		atomic_fetch_add(&worker_done, 1);
	}
	close(p[0]);
	close(p[1]);
	return NULL;
}

/* In a child: AIO works at once. */
static int child_uses_aio(void)
{
	unsigned char buf[CHUNK], msg[4];
	struct aiocb r, pr;
	int p[2];

	if (pipe(p) == -1)
		return 2;
	aiocb_prep(&r, fd, buf, CHUNK, CHUNK);
	aiocb_prep(&pr, p[0], msg, 4, 0);
	if (aio_read(&r) || aio_read(&pr))
		return 3;
	if (write(p[1], "kid!", 4) != 4)
		return 4;
	if (wait_done(&r, "child file read") || aio_return(&r) != CHUNK ||
	    buf[5] != pattern_byte(CHUNK + 5))
		return 5;
	if (wait_done(&pr, "child pipe read") || aio_return(&pr) != 4 || memcmp(msg, "kid!", 4))
		return 6;
	return 0;
}

/* A child that leaves requests in flight and then leaves by `how`. */
static void child_leaves(int how)
{
	static unsigned char buf[8][CHUNK];
	static struct aiocb cbs[8];
	int p[2];

	if (pipe(p) == -1)
		_exit(2);
	for (int i = 0; i < 4; i++) {
		aiocb_prep(&cbs[i], p[0], buf[i], CHUNK, 0);
		if (i == 1)
			cbs[i].aio_sigevent.sigev_notify = SIGEV_SIGNAL,
			cbs[i].aio_sigevent.sigev_signo = SIGRTMIN;
		if (aio_read(&cbs[i]))
			_exit(3);
	}
	for (int i = 4; i < 8; i++) {
		aiocb_prep(&cbs[i], fd, buf[i], CHUNK, (off_t)i * CHUNK);
		if (aio_read(&cbs[i]))
			_exit(3);
	}
	if (how == 0) {
		char *argv[] = {"true", NULL};
		char *envp[] = {NULL};

		execve("/bin/true", argv, envp);
		_exit(4);
	}
	if (how == 1)
		exit(0);
	_exit(0);
}

static int test(void)
{
	pthread_t th[WORKERS];
	static const char *const leave[] = {"execve", "exit", "_exit"};

	fd = tmp_file_with(0, FILE_SIZE, pattern_byte);
	signal(SIGRTMIN, SIG_IGN);
	for (int i = 0; i < WORKERS; i++)
		EXPECT(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1)) == 0,
		       "pthread_create failed");
	for (int i = 0; i < FORKS; i++) {
		pid_t pid = fork();
		int status;

		SYSCHECK(pid);
		if (pid == 0)
			_exit(child_uses_aio());
		status = wait_child(pid, 5000, "a child forked while threads submit");
		EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		       "fork %d: the child could not use AIO (status 0x%x)", i, status);
		if (i % 4 == 3)
			sleep_ms(1);
	}
	for (int i = 0; i < 3 * 5; i++) {
		pid_t pid = fork();
		int status;
		char what[64];

		SYSCHECK(pid);
		if (pid == 0)
			child_leaves(i % 3);
		snprintf(what, sizeof(what), "a child that calls %s with requests in flight",
			 leave[i % 3]);
		status = wait_child(pid, 5000, what);
		EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status 0x%x", what,
		       status);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < WORKERS; i++) {
		void *res;

		pthread_join(th[i], &res);
		EXPECT(res == NULL, "worker %d: %s", i, (const char *)res);
	}
	EXPECT(atomic_load(&worker_done) > 0, "the workers completed nothing");
	printf("%d forks, %ld worker round trips\n", FORKS, atomic_load(&worker_done));
	close(fd);
	return 0;
}

TEST_MAIN(test)
