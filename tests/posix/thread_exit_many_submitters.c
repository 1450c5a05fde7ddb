/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many short-lived threads each submit requests and exit at once, without waiting: 16 threads
 * each leave a read pending on their own pipe and a file read behind; after they are gone,
 * every request completes with its data (none ECANCELED).
 */
#include "common.h"

#define NTHREADS 16

struct job {
	int p[2];
	struct aiocb pr, fr;
	char pbuf[16], fbuf[16];
};

static struct job jobs[NTHREADS];
static int fd;

static void *submit_and_exit(void *arg)
{
	struct job *j = arg;
	long i = j - jobs;

	aiocb_prep(&j->pr, j->p[0], j->pbuf, sizeof(j->pbuf), 0);
	aiocb_prep(&j->fr, fd, j->fbuf, sizeof(j->fbuf), i * 16);
	if (aio_read(&j->pr) != 0 || aio_read(&j->fr) != 0)
		return (void *)1;
	return NULL;
}

static int test(void)
{
	pthread_t th[NTHREADS];

	fd = tmp_file_with(0, NTHREADS * 16, pattern_byte);
	for (int i = 0; i < NTHREADS; i++) {
		SYSCHECK(pipe(jobs[i].p));
		EXPECT(pthread_create(&th[i], NULL, submit_and_exit, &jobs[i]) == 0,
		       "pthread_create failed");
	}
	for (int i = 0; i < NTHREADS; i++) {
		void *res;

		pthread_join(th[i], &res);
		EXPECT(res == NULL, "thread %d could not submit", i);
	}
	sleep_ms(20);
	for (int i = 0; i < NTHREADS; i++) {
		char msg[16];
		int len = snprintf(msg, sizeof(msg), "job %d", i);

		expect_done_ok(&jobs[i].fr, 16, "a file read whose thread exited");
		EXPECT((unsigned char)jobs[i].fbuf[3] == pattern_byte((size_t)i * 16 + 3),
		       "file read %d got other bytes", i);
		EXPECT(aio_error(&jobs[i].pr) == EINPROGRESS,
		       "pipe read %d is not pending after its thread exited: %s", i,
		       errname(aio_error(&jobs[i].pr)));
		write_all(jobs[i].p[1], msg, (size_t)len);
		expect_done_ok(&jobs[i].pr, len, "a pipe read whose thread exited");
		EXPECT(memcmp(jobs[i].pbuf, msg, (size_t)len) == 0, "pipe read %d got other data",
		       i);
		close(jobs[i].p[0]);
		close(jobs[i].p[1]);
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
