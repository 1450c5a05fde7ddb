// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * scale: cost of many outstanding aio_reads on one descriptor.
 *
 * usage: scale FILE K MIN_REQUESTS MAX_SECONDS
 *
 * Submits K 4 KiB aio_reads of a page-cached FILE on one descriptor, waits for all of them,
 * collects them with aio_return, and repeats that pass until MIN_REQUESTS were done or
 * MAX_SECONDS went by (at least one pass).  Then does as many synchronous preads of the same
 * blocks into the same buffers.  Prints one JSON line: time per request for both, and the
 * growth of the resident set while the first pass of K requests was in flight, per request.
 *
 * The buffers and aiocbs are touched, and one request made and collected, before the memory
 * baseline, so the growth is what the AIO implementation keeps per request in flight (glibc
 * or the preloaded library), not the caller's own memory or one-time set-up.  Each K runs in
 * a fresh process: an implementation that pools its request memory would otherwise show the
 * growth only once.
 */
#include <aio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define BLOCK 4096

struct scale {
	int fd;
	long k;
	long nblocks;
	char *bufs;
	struct aiocb *cbs;
	const struct aiocb **list;
};

/* Spread the requests over the file; a stride coprime with most sizes visits many blocks. */
static off_t block_offset(const struct scale *s, long i)
{
	return (off_t)((i * 7919L) % s->nblocks) * BLOCK;
}

static void submit_all(struct scale *s)
{
	for (long i = 0; i < s->k; i++) {
		struct aiocb *cb = &s->cbs[i];

		memset(cb, 0, sizeof(*cb));
		cb->aio_fildes = s->fd;
		cb->aio_buf = s->bufs + i * BLOCK;
		cb->aio_nbytes = BLOCK;
		cb->aio_offset = block_offset(s, i);
		cb->aio_sigevent.sigev_notify = SIGEV_NONE;
		if (aio_read(cb))
			die("aio_read %ld of %ld: %s", i, s->k, strerror(errno));
	}
}

static void wait_all(struct scale *s)
{
	for (long i = 0; i < s->k; i++) {
		int err;

		while ((err = aio_error(&s->cbs[i])) == EINPROGRESS) {
			if (aio_suspend(&s->list[i], 1, NULL) && errno != EINTR)
				die("aio_suspend: %s", strerror(errno));
		}
		if (err)
			die("request %ld of %ld failed: %s", i, s->k, strerror(err));
	}
}

static void return_all(struct scale *s)
{
	for (long i = 0; i < s->k; i++) {
		ssize_t ret = aio_return(&s->cbs[i]);

		if (ret != BLOCK)
			die("aio_return %ld of %ld: %zd, want %d", i, s->k, ret, BLOCK);
		check_block(s->bufs + i * BLOCK, block_offset(s, i));
	}
}

static void pread_all(struct scale *s)
{
	for (long i = 0; i < s->k; i++) {
		off_t off = block_offset(s, i);
		ssize_t ret = pread(s->fd, s->bufs + i * BLOCK, BLOCK, off);

		if (ret != BLOCK)
			die("pread %ld: %zd (%s)", i, ret, ret < 0 ? strerror(errno) : "short");
		check_block(s->bufs + i * BLOCK, off);
	}
}

/* One request before the baseline: lazy set-up (threads, rings) is not per-request memory. */
static void warm_up(struct scale *s)
{
	long k = s->k;

	s->k = 1;
	submit_all(s);
	wait_all(s);
	return_all(s);
	s->k = k;
}

static void setup(struct scale *s, const char *path, long k)
{
	struct stat st;

	s->k = k;
	s->fd = open(path, O_RDONLY);
	if (s->fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (fstat(s->fd, &st))
		die("fstat %s: %s", path, strerror(errno));
	s->nblocks = st.st_size / BLOCK;
	if (s->nblocks < 1)
		die("%s is smaller than one block", path);
	s->bufs = aligned_alloc(BLOCK, (size_t)k * BLOCK);
	s->cbs = calloc(k, sizeof(*s->cbs));
	s->list = calloc(k, sizeof(*s->list));
	if (!s->bufs || !s->cbs || !s->list)
		die("out of memory for %ld requests", k);
	memset(s->bufs, 0xa5, (size_t)k * BLOCK);
	/*
	 * calloc()'s pages are not resident until written: without this, the growth measured
	 * was the aiocbs' own 168 bytes each (submit_all() clears each before use).
	 */
	memset(s->cbs, 0xff, (size_t)k * sizeof(*s->cbs));
	for (long i = 0; i < k; i++)
		s->list[i] = &s->cbs[i];
}

int main(int argc, char **argv)
{
	struct scale s;
	long min_reqs, passes, rss0, rss_submitted, rss_done, grown;
	double max_sec, t0, t_aio, t_pread;

	if (argc != 5)
		die("usage: scale FILE K MIN_REQUESTS MAX_SECONDS");
	setup(&s, argv[1], parse_long(argv[2], "K"));
	if (s.k < 1)
		die("K must be at least 1");
	min_reqs = parse_long(argv[3], "MIN_REQUESTS");
	max_sec = parse_double(argv[4], "MAX_SECONDS");

	warm_up(&s);
	rss0 = rss_bytes();
	t0 = now_sec();
	submit_all(&s);
	rss_submitted = rss_bytes();
	wait_all(&s);
	rss_done = rss_bytes();
	return_all(&s);
	/* The RSS reads take a few microseconds each; they are part of the first pass. */
	for (passes = 1; passes * s.k < min_reqs && now_sec() - t0 < max_sec; passes++) {
		submit_all(&s);
		wait_all(&s);
		return_all(&s);
	}
	t_aio = now_sec() - t0;

	t0 = now_sec();
	for (long p = 0; p < passes; p++)
		pread_all(&s);
	t_pread = now_sec() - t0;

	grown = (rss_submitted > rss_done ? rss_submitted : rss_done) - rss0;
	printf("{\"k\": %ld, \"passes\": %ld, \"requests\": %ld, \"aio_ns_per_req\": %.1f, "
	       "\"pread_ns_per_req\": %.1f, \"rss_grown_bytes\": %ld, "
	       "\"rss_bytes_per_req\": %.1f}\n",
	       s.k, passes, passes * s.k, t_aio * 1e9 / (passes * s.k),
	       t_pread * 1e9 / (passes * s.k), grown, (double)grown / s.k);
	return 0;
}
