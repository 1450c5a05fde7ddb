/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many threads submitting and collecting at the same time do not disturb each other: 8 threads
 * each run 2,000 file reads (batches of 16, waited with aio_suspend) plus pipe round trips on
 * their own pipe; every result is right.
 */
#include "common.h"

#define NTHREADS 8
#define ROUNDS 125
#define BATCH 16
#define FILESIZE (256 * 1024)

static int fd;
static atomic_int failures;

static void *worker(void *arg)
{
	long id = (long)arg;
	struct aiocb cbs[BATCH], pr, pw;
	const struct aiocb *list[BATCH];
	unsigned char bufs[BATCH][32], pbuf[8], msg[8];
	int p[2];

	if (pipe(p) == -1) {
		atomic_fetch_add(&failures, 1);
		return NULL;
	}
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < BATCH; i++) {
			off_t off = (off_t)((id * 7919 + round * 131 + i * 1031) % (FILESIZE - 32));

			aiocb_prep(&cbs[i], fd, bufs[i], 32, off);
			list[i] = &cbs[i];
			if (aio_read(&cbs[i]) != 0) {
				atomic_fetch_add(&failures, 1);
				list[i] = NULL;
			}
		}
		for (int i = 0; i < BATCH; i++) {
			if (!list[i])
				continue;
			while (aio_error(&cbs[i]) == EINPROGRESS)
				aio_suspend(list, BATCH, NULL);
			if (aio_error(&cbs[i]) != 0 || aio_return(&cbs[i]) != 32 ||
			    bufs[i][5] != pattern_byte((size_t)cbs[i].aio_offset + 5))
				atomic_fetch_add(&failures, 1);
			list[i] = NULL;
		}
		memset(msg, (int)(id + round), sizeof(msg));
		aiocb_prep(&pr, p[0], pbuf, sizeof(pbuf), 0);
		aiocb_prep(&pw, p[1], msg, sizeof(msg), 0);
		if (aio_read(&pr) != 0 || aio_write(&pw) != 0) {
			atomic_fetch_add(&failures, 1);
			continue;
		}
		const struct aiocb *pl[2] = {&pr, &pw};

		while (aio_error(&pr) == EINPROGRESS || aio_error(&pw) == EINPROGRESS)
			aio_suspend(pl, 2, NULL);
		if (aio_return(&pr) != sizeof(msg) || aio_return(&pw) != sizeof(msg) ||
		    memcmp(pbuf, msg, sizeof(msg)) != 0)
			atomic_fetch_add(&failures, 1);
	}
	close(p[0]);
	close(p[1]);
	return NULL;
}

static int test(void)
{
	pthread_t th[NTHREADS];

	fd = tmp_file_with(0, FILESIZE, pattern_byte);
	for (long i = 0; i < NTHREADS; i++)
		EXPECT(pthread_create(&th[i], NULL, worker, (void *)i) == 0,
		       "pthread_create failed");
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	EXPECT(atomic_load(&failures) == 0, "%d requests failed or returned wrong data",
	       atomic_load(&failures));
	close(fd);
	return 0;
}

TEST_MAIN(test)
