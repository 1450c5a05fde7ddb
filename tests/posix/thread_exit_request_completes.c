/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests belong to the process, not to the thread that submitted them: a pipe read and a
 * pipe write submitted by a thread that then exits (and is joined) still complete with their
 * data when the other end acts, not with ECANCELED.
 */
#include "common.h"

#define BIG (1024 * 1024)

static struct aiocb r, w;
static char rbuf[64];
static char *wbuf;
static int p[2], q[2];

static void *submitter(void *arg)
{
	(void)arg;
	aiocb_prep(&r, p[0], rbuf, sizeof(rbuf), 0);
	if (aio_read(&r) != 0)
		return (void *)1;
	/* More than a pipe holds: the write is still in progress when the thread is gone. */
	aiocb_prep(&w, q[1], wbuf, BIG, 0);
	if (aio_write(&w) != 0)
		return (void *)2;
	return NULL;
}

static int test(void)
{
	static const char msg[] = "after the thread exited";
	static char got[BIG];
	pthread_t th;
	void *res;

	SYSCHECK(pipe(p));
	SYSCHECK(pipe(q));
	wbuf = malloc(BIG);
	EXPECT(wbuf, "malloc failed");
	for (size_t i = 0; i < BIG; i++)
		wbuf[i] = (char)pattern_byte(i);
	EXPECT(pthread_create(&th, NULL, submitter, NULL) == 0, "pthread_create failed");
	EXPECT(pthread_join(th, &res) == 0 && res == NULL, "the thread could not submit (%ld)",
	       (long)res);
	/* Let the thread's exit be fully processed before the data comes. */
	sleep_ms(20);
	expect_pending(&r, "a read whose submitting thread exited");

	write_all(p[1], msg, sizeof(msg));
	expect_done_ok(&r, sizeof(msg), "a read whose submitting thread exited");
	EXPECT(memcmp(rbuf, msg, sizeof(msg)) == 0, "the read got \"%s\", expected \"%s\"", rbuf,
	       msg);

	read_all(q[0], got, BIG);
	expect_done_ok(&w, BIG, "a 1 MiB pipe write whose submitting thread exited");
	EXPECT(memcmp(got, wbuf, BIG) == 0, "the write's data arrived altered");
	free(wbuf);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	return 0;
}

TEST_MAIN(test)
