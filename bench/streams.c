// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * streams: throughput of aio_read/aio_write on a pipe or a stream socketpair.
 *
 * usage: streams pipe|socket aio|threads DEPTH TOTAL_BYTES
 *
 * aio: one thread keeps DEPTH 64 KiB aio_writes in flight on the write end and DEPTH 64 KiB
 * aio_reads on the read end, waiting with aio_suspend, until TOTAL_BYTES went through.
 * threads (the baseline; DEPTH is ignored): a writer thread does blocking 64 KiB writes while
 * the main thread does blocking 64 KiB reads.
 *
 * Every byte read is checked.  The stream carries a pseudo-random pattern with a period that
 * is not a multiple of 64 KiB, so data that arrives out of order, twice or not at all does
 * not match.  The checks need requests on one stream descriptor to be served in submission
 * order, which is what glibc does and what the library promises; reads are collected oldest
 * first, each starting where the one before it ended (a read may be short).  Writes must be
 * whole: a short write on a blocking descriptor would leave a gap in the stream.
 *
 * Prints one JSON line with MB/s (10^6 bytes per second) and the process CPU time.
 */
#include <aio.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define CHUNK (64 * 1024)
#define MAX_DEPTH 64
/* The pattern's period: not a multiple of CHUNK, larger than DEPTH * CHUNK reordering. */
#define PERIOD ((1 << 22) + 4093)
#define WAIT_LIMIT_SEC 60

static unsigned char *pattern; /* PERIOD + CHUNK bytes: any chunk is contiguous */

struct stream {
	int rfd;
	int wfd;
	long long total;
};

static void make_pattern(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	pattern = malloc(PERIOD + CHUNK);
	if (!pattern)
		die("out of memory");
	for (long i = 0; i < PERIOD; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pattern[i] = (unsigned char)(x >> 32);
	}
	memcpy(pattern + PERIOD, pattern, CHUNK);
}

static const unsigned char *expected_at(long long pos)
{
	return pattern + pos % PERIOD;
}

static void verify(const void *buf, long long pos, size_t n)
{
	if (memcmp(buf, expected_at(pos), n))
		die("data verification failed: %zu bytes read at stream offset %lld do not match",
		    n, pos);
}

static void open_stream(struct stream *st, const char *kind)
{
	int fds[2];

	if (!strcmp(kind, "pipe")) {
		if (pipe(fds))
			die("pipe: %s", strerror(errno));
		if (fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) < 0)
			die("F_SETPIPE_SZ 1 MiB: %s", strerror(errno));
		st->rfd = fds[0];
		st->wfd = fds[1];
		return;
	}
	if (strcmp(kind, "socket"))
		die("unknown stream kind '%s'", kind);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
		die("socketpair: %s", strerror(errno));
	st->rfd = fds[1];
	st->wfd = fds[0];
}

/* ---- baseline: two threads, blocking read and write ---- */

static void *writer_thread(void *arg)
{
	struct stream *st = arg;

	for (long long pos = 0; pos < st->total;) {
		ssize_t n = write(st->wfd, expected_at(pos), CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %s", n < 0 ? strerror(errno) : "returned 0");
		pos += n;
	}
	close(st->wfd);
	return NULL;
}

static void run_threads(struct stream *st)
{
	pthread_t writer;
	unsigned char *buf = malloc(CHUNK);
	long long pos = 0;
	int err;

	if (!buf)
		die("out of memory");
	err = pthread_create(&writer, NULL, writer_thread, st);
	if (err)
		die("pthread_create: %s", strerror(err));
	for (;;) {
		ssize_t n = read(st->rfd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read: %s", strerror(errno));
		if (n == 0)
			break;
		verify(buf, pos, n);
		pos += n;
	}
	pthread_join(writer, NULL);
	if (pos != st->total)
		die("read %lld bytes, want %lld", pos, st->total);
}

/* ---- aio: one thread, DEPTH requests in flight each way ---- */

struct aio_side {
	struct aiocb cbs[MAX_DEPTH];
	long long submitted;
	long long done;
};

static void wait_some(struct aio_side *w, struct aio_side *r, int depth)
{
	const struct aiocb *list[2];
	struct timespec limit = { .tv_sec = WAIT_LIMIT_SEC };
	int n = 0;

	if (w->done < w->submitted)
		list[n++] = &w->cbs[w->done % depth];
	if (r->done < r->submitted)
		list[n++] = &r->cbs[r->done % depth];
	if (!n)
		die("internal: nothing in flight to wait for");
	if (!aio_suspend(list, n, &limit))
		return;
	if (errno == EAGAIN)
		die("no completion in %d s (%lld/%lld writes, %lld/%lld reads done): hang",
		    WAIT_LIMIT_SEC, w->done, w->submitted, r->done, r->submitted);
	if (errno != EINTR)
		die("aio_suspend: %s", strerror(errno));
}

static void run_aio(struct stream *st, int depth)
{
	struct aio_side *w = calloc(1, sizeof(*w)), *r = calloc(1, sizeof(*r));
	unsigned char *bufs = malloc((size_t)depth * CHUNK);
	long long chunks = st->total / CHUNK, rpos = 0;
	int eof = 0, wfd_open = 1;

	if (!w || !r || !bufs)
		die("out of memory");
	while (!eof || r->done < r->submitted) {
		while (w->submitted - w->done < depth && w->submitted < chunks) {
			struct aiocb *cb = &w->cbs[w->submitted % depth];

			memset(cb, 0, sizeof(*cb));
			cb->aio_fildes = st->wfd;
			cb->aio_buf = (void *)expected_at(w->submitted * CHUNK);
			cb->aio_nbytes = CHUNK;
			if (aio_write(cb))
				die("aio_write: %s", strerror(errno));
			w->submitted++;
		}
		while (r->submitted - r->done < depth && !eof) {
			struct aiocb *cb = &r->cbs[r->submitted % depth];

			memset(cb, 0, sizeof(*cb));
			cb->aio_fildes = st->rfd;
			cb->aio_buf = bufs + (r->submitted % depth) * CHUNK;
			cb->aio_nbytes = CHUNK;
			if (aio_read(cb))
				die("aio_read: %s", strerror(errno));
			r->submitted++;
		}
		wait_some(w, r, depth);

		while (w->done < w->submitted) {
			struct aiocb *cb = &w->cbs[w->done % depth];
			int err = aio_error(cb);
			ssize_t n;

			if (err == EINPROGRESS)
				break;
			if (err)
				die("aio_write %lld: %s", w->done, strerror(err));
			n = aio_return(cb);
			if (n != CHUNK)
				die("aio_write %lld on a blocking descriptor wrote %zd of %d bytes",
				    w->done, n, CHUNK);
			w->done++;
		}
		/* The last write is collected: end of stream for the outstanding reads. */
		if (wfd_open && w->done == chunks) {
			close(st->wfd);
			wfd_open = 0;
		}

		while (r->done < r->submitted) {
			struct aiocb *cb = &r->cbs[r->done % depth];
			int err = aio_error(cb);
			ssize_t n;

			if (err == EINPROGRESS)
				break;
			if (err)
				die("aio_read %lld: %s", r->done, strerror(err));
			n = aio_return(cb);
			if (n < 0 || n > CHUNK)
				die("aio_read %lld returned %zd", r->done, n);
			if (n == 0) {
				if (rpos != st->total)
					die("end of stream after %lld bytes, want %lld", rpos,
					    st->total);
				eof = 1;
			} else {
				if (eof)
					die("aio_read %lld got %zd bytes after end of stream",
					    r->done, n);
				verify((void *)cb->aio_buf, rpos, n);
				rpos += n;
			}
			r->done++;
		}
	}
	if (rpos != st->total)
		die("read %lld bytes, want %lld", rpos, st->total);
	free(bufs);
	free(w);
	free(r);
}

int main(int argc, char **argv)
{
	struct stream st;
	const char *mode;
	long depth;
	double t0, c0, secs;

	if (argc != 5)
		die("usage: streams pipe|socket aio|threads DEPTH TOTAL_BYTES");
	mode = argv[2];
	depth = parse_long(argv[3], "DEPTH");
	if (depth < 1 || depth > MAX_DEPTH)
		die("DEPTH must be 1..%d", MAX_DEPTH);
	st.total = parse_long(argv[4], "TOTAL_BYTES") / CHUNK * CHUNK;
	if (st.total < CHUNK)
		die("TOTAL_BYTES must be at least %d", CHUNK);
	make_pattern();
	open_stream(&st, argv[1]);

	t0 = now_sec();
	c0 = cpu_sec();
	if (!strcmp(mode, "aio"))
		run_aio(&st, depth);
	else if (!strcmp(mode, "threads"))
		run_threads(&st);
	else
		die("unknown mode '%s'", mode);
	secs = now_sec() - t0;

	printf("{\"kind\": \"%s\", \"mode\": \"%s\", \"depth\": %ld, \"bytes\": %lld, "
	       "\"seconds\": %.6f, \"mb_per_s\": %.1f, \"cpu_sec\": %.6f}\n",
	       argv[1], mode, depth, st.total, secs, st.total / secs / 1e6, cpu_sec() - c0);
	close(st.rfd);
	return 0;
}
