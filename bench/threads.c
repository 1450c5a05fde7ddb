// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * threads: N threads submitting at once, the way multithreaded programs use AIO.
 *
 * usage: threads FILE NTHREADS suspend|poll DEPTH SECONDS
 *
 * Each thread opens FILE (page-cached) on its own descriptor and keeps DEPTH 4 KiB aio_reads
 * at random aligned offsets in flight for SECONDS: whenever one completes it is collected
 * with aio_return, its first word checked, and the next read submitted in its place.  A
 * thread waits for its next completion either with aio_suspend on its whole list ("suspend")
 * or by calling aio_error on its requests in turn, yielding between rounds that found
 * nothing ("poll", the loop of programs that never block in the AIO library).  Prints one
 * JSON line: completions per second over all threads, and each thread's share, so a design
 * that starves one thread shows.
 */
#include <aio.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define BLOCK 4096
#define MAX_THREADS 64
#define MAX_DEPTH 256

struct worker {
	pthread_t tid;
	int fd;
	unsigned seed;
	long done;
	struct aiocb cbs[MAX_DEPTH];
	const struct aiocb *list[MAX_DEPTH];
	char *bufs;
};

static long nblocks, depth;
static bool poll_mode;
static double seconds;
static pthread_barrier_t start;

static void submit(struct worker *w, int i)
{
	struct aiocb *cb = &w->cbs[i];

	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = w->fd;
	cb->aio_buf = w->bufs + (size_t)i * BLOCK;
	cb->aio_nbytes = BLOCK;
	cb->aio_offset = (off_t)(rand_r(&w->seed) % nblocks) * BLOCK;
	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
	if (aio_read(cb))
		die("aio_read: %s", strerror(errno));
	w->list[i] = cb;
}

/* Collect request i if it is done; true when it was. */
static bool collect(struct worker *w, int i)
{
	struct aiocb *cb = &w->cbs[i];
	int err = aio_error(cb);
	ssize_t ret;

	if (err == EINPROGRESS)
		return false;
	if (err)
		die("read failed: %s", strerror(err));
	ret = aio_return(cb);
	if (ret != BLOCK)
		die("aio_return: %zd, want %d", ret, BLOCK);
	check_block((const void *)cb->aio_buf, cb->aio_offset);
	w->done++;
	return true;
}

static void wait_some(struct worker *w)
{
	if (poll_mode) {
		sched_yield();
		return;
	}
	if (aio_suspend(w->list, (int)depth, NULL) && errno != EINTR)
		die("aio_suspend: %s", strerror(errno));
}

static void *work(void *arg)
{
	struct worker *w = arg;
	double end;

	for (int i = 0; i < depth; i++)
		submit(w, i);
	pthread_barrier_wait(&start);
	end = now_sec() + seconds;
	while (now_sec() < end) {
		bool any = false;

		for (int i = 0; i < depth; i++) {
			if (collect(w, i)) {
				submit(w, i);
				any = true;
			}
		}
		if (!any)
			wait_some(w);
	}
	/* Drain: every request collected before the thread (and its descriptor) goes. */
	for (int i = 0; i < depth; i++) {
		while (!collect(w, i)) {
			if (aio_suspend(&w->list[i], 1, NULL) && errno != EINTR)
				die("aio_suspend: %s", strerror(errno));
		}
	}
	return NULL;
}

static void setup(struct worker *w, const char *path, unsigned seed)
{
	w->fd = open(path, O_RDONLY);
	if (w->fd < 0)
		die("open %s: %s", path, strerror(errno));
	w->seed = seed;
	w->bufs = aligned_alloc(BLOCK, (size_t)depth * BLOCK);
	if (!w->bufs)
		die("out of memory");
	memset(w->bufs, 0xa5, (size_t)depth * BLOCK);
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	struct stat st;
	long n, total = 0, least = -1;
	double t0, took;

	if (argc != 6)
		die("usage: threads FILE NTHREADS suspend|poll DEPTH SECONDS");
	n = parse_long(argv[2], "NTHREADS");
	poll_mode = !strcmp(argv[3], "poll");
	if (!poll_mode && strcmp(argv[3], "suspend"))
		die("mode must be suspend or poll, not '%s'", argv[3]);
	depth = parse_long(argv[4], "DEPTH");
	seconds = parse_double(argv[5], "SECONDS");
	if (n < 1 || n > MAX_THREADS || depth < 1 || depth > MAX_DEPTH)
		die("1 to %d threads and a depth of 1 to %d", MAX_THREADS, MAX_DEPTH);
	if (stat(argv[1], &st))
		die("stat %s: %s", argv[1], strerror(errno));
	nblocks = st.st_size / BLOCK;
	if (nblocks < 1)
		die("%s is smaller than one block", argv[1]);
	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	for (long i = 0; i < n; i++) {
		setup(&workers[i], argv[1], (unsigned)(i * 2654435761u + 1));
		if (pthread_create(&workers[i].tid, NULL, work, &workers[i]))
			die("pthread_create failed");
	}
	pthread_barrier_wait(&start);
	t0 = now_sec();
	for (long i = 0; i < n; i++) {
		pthread_join(workers[i].tid, NULL);
		total += workers[i].done;
		if (least < 0 || workers[i].done < least)
			least = workers[i].done;
	}
	took = now_sec() - t0;
	printf("{\"threads\": %ld, \"mode\": \"%s\", \"depth\": %ld, \"completions\": %ld, "
	       "\"per_sec\": %.1f, \"least_thread_share\": %.3f}\n",
	       n, argv[3], depth, total, total / took, (double)least * n / (total ? total : 1));
	return 0;
}
