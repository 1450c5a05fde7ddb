/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A seeded stress test of POSIX AIO: many threads, many descriptors, a random mix of every
 * call, every byte checked against a model and every request and notification accounted for.
 *
 *   stress [--seed N] [--seconds S] [--threads N] [--soak]
 *
 * --seed N     the run's seed (default: from the clock); printed first and in every failure.
 * --seconds S  how long the threads issue requests (default 20) before they drain and the
 *              totals are checked.
 * --threads N  worker threads (default 4, at most 64).
 * --soak       no overall deadline: run for --seconds if given (e.g. --seconds 14400 for
 *              four hours), else until SIGINT or SIGTERM, then drain and check as usual. A
 *              hang is still caught: no request completing for HANG_SECONDS fails the run.
 *
 * The seed fixes every choice each thread makes (descriptor, operation, sizes, sigevent
 * kind, cancellations); the interleaving of threads and completions is the system's, so a
 * failing seed makes the same sequence of requests likely to hit the same bug again, not
 * certain to.
 *
 * Descriptors: a buffered regular file in $TMPDIR (or /tmp), an O_DIRECT file in /var/tmp
 * when that filesystem accepts O_DIRECT, and per thread one pipe and one stream socketpair.
 *
 * Model. Files: each thread owns REGIONS disjoint blocks of each file, at most one request
 * in flight per block; a write puts the pattern of (seed, file, thread, block, generation)
 * there, a read must return the pattern of the block's last completed generation (a
 * cancelled write leaves the previous one). Streams: the thread is the only writer and the
 * only reader of its streams; it writes numbered records (header and a payload derived from
 * the seed and the record number) with aio_write, and drains them with aio_read of random
 * sizes, reassembling in submission order: records must arrive whole, in order, and a
 * cancelled read must have consumed nothing (the next record read is still the one
 * expected) and left its buffer alone.
 *
 * Accounting. Every request and every lio_listio list has a slot whose id (slot number and
 * a generation) travels in sival_int for SIGEV_SIGNAL (a realtime signal) and SIGEV_THREAD.
 * Each notification counts on its slot; a notification for an id no longer current, one
 * that arrives while its request is still EINPROGRESS, or a signal whose si_code is not
 * SI_ASYNCIO fails the run. Each request must leave EINPROGRESS once, with a sane result,
 * then keep that status. Before a slot is reused, and at the end, its count must be exactly
 * 1 (0 for SIGEV_NONE): cancelled requests are notified too.
 *
 * Not done, on purpose: aio_cancel(fd, NULL) on a file (the descriptor is shared, it would
 * cancel other threads' requests behind their backs) and any cancellation of a stream write
 * (a write cancelled after part of it went into the pipe leaves a prefix no model can
 * predict). Stream reads are cancelled both one by one and all at once per descriptor.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define SLOTS_PER_THREAD 1024 /* 65536 slots at most: the slot number is 16 bits of the id */
#define REGIONS 16
#define BLOCK 4096
#define MAX_OUT 24      /* requests one thread keeps in flight */
#define MAX_LIST 6      /* members of one lio_listio list */
#define STREAM_OUT 2    /* reads, and writes, in flight per stream */
#define HANG_SECONDS 60 /* no completion for this long is a hang */
#define NOTE_WAIT_MS 5000
#define REC_MAGIC 0x53545231u
#define REC_HDR 12
#define CANARY 0xa5

enum rq_type { T_FREAD, T_FWRITE, T_FSYNC, T_SREAD, T_SWRITE, T_LIST };

static const char *const type_names[] = {"file read", "file write", "fsync", "stream read",
					 "stream write", "list"};

struct rq {
	struct aiocb cb;
	_Atomic uint32_t id; /* 0 while the slot is being set up */
	atomic_int notes;
	int expect_notes;
	bool is_list; /* written before id is published; the handler reads it after */
	bool in_use;  /* in flight, or a stream read not yet consumed */
	bool done;
	bool cancel_asked;
	int cancel_said; /* what aio_cancel(fd, &cb) answered, -1 if never asked alone */
	int all_said;    /* what the last aio_cancel(fd, NULL) that covered it answered, or -1 */
	int err;
	ssize_t ret;
	int type, kind, file, region, stream;
	uint32_t gen;
	uint16_t slot_gen;
	unsigned char *buf;
};

struct file {
	int fd;
	const char *what;
};

struct region {
	uint32_t gen;
	bool busy;
};

struct stream {
	int rfd, wfd;
	const char *what;
	uint32_t wseq, rseq;
	uint64_t wbytes, rbytes; /* submitted by writes, consumed by completed reads */
	int wout;
	struct rq *reads[STREAM_OUT]; /* reads in flight, in submission order */
	int nreads;
	size_t acclen;
	unsigned char acc[3 * BLOCK];
};

struct thr {
	int idx;
	pthread_t th;
	uint64_t rng;
	uint32_t next_slot;
	struct region reg[2][REGIONS];
	struct stream st[2];
	struct rq *out[MAX_OUT + MAX_LIST];
	int nout;
	unsigned char scratch[BLOCK];
};

static unsigned long long seed;
static int nthreads = 4, nfiles;
static struct file files[2];
static struct thr *thrs;
static struct rq *slots;
static int nslots, sig_no;
static atomic_bool stop;

static const char *engine;
static atomic_ulong progress, verified, cancelled, submitted;
static atomic_ulong notes_total, stale_notes, early_notes, bad_code;
static _Atomic uint32_t stale_id;

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "stress: FAIL (seed %llu): %s\nstress: rerun with --seed %llu\n", seed,
		msg, seed);
	fflush(NULL);
	_exit(1);
}

static const char *errname(int err)
{
	const char *name = err ? strerrorname_np(err) : "0";

	return name ? name : "unknown errno";
}

static int time_scale(void)
{
	const char *s = getenv("TEST_TIMEOUT_SCALE");
	int scale = s ? atoi(s) : 1;

	return scale > 1 ? scale : 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* splitmix64: the one source of both the random choices and the data patterns. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint32_t rnd(struct thr *t, uint32_t n)
{
	t->rng = mix(t->rng);
	return (uint32_t)(t->rng % n);
}

static void fill(unsigned char *p, size_t n, uint64_t key)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t w = mix(key + i / 8);

		memcpy(p + i, &w, n - i < 8 ? n - i : 8);
	}
}

static uint64_t region_key(int file, int thread, int region, uint32_t gen)
{
	return mix(seed ^ ((uint64_t)file << 56) ^ ((uint64_t)thread << 48) ^
		   ((uint64_t)region << 40) ^ gen);
}

static uint64_t record_key(int thread, int stream, uint32_t seq)
{
	return mix(~seed ^ ((uint64_t)thread << 48) ^ ((uint64_t)stream << 40) ^ seq);
}

static off_t region_offset(int thread, int region)
{
	return ((off_t)thread * REGIONS + region) * BLOCK;
}

/* Where got first differs from want, for messages. */
static size_t first_diff(const unsigned char *got, const unsigned char *want, size_t n)
{
	size_t i = 0;

	while (i < n && got[i] == want[i])
		i++;
	return i;
}

/*
 * A notification for id. Async-signal-safe: atomics and aio_error() only. It must come
 * after the result is visible, once, and only for the id the slot holds now.
 */
static void note(uint32_t id)
{
	uint32_t s = id & 0xffff;
	struct rq *rq;

	if ((int)s >= nslots || atomic_load_explicit(&slots[s].id, memory_order_acquire) != id) {
		atomic_fetch_add(&stale_notes, 1);
		atomic_store(&stale_id, id);
		return;
	}
	rq = &slots[s];
	if (!rq->is_list && aio_error(&rq->cb) == EINPROGRESS)
		atomic_fetch_add(&early_notes, 1);
	atomic_fetch_add(&rq->notes, 1);
	atomic_fetch_add(&notes_total, 1);
}

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	if (si->si_code != SI_ASYNCIO)
		atomic_fetch_add(&bad_code, 1);
	note((uint32_t)si->si_value.sival_int);
}

static void on_thread(union sigval v)
{
	note((uint32_t)v.sival_int);
}

static void on_stop(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

/* Wait for a retired slot's notifications and require exactly the number expected. */
static void check_notes(struct rq *rq, bool wait)
{
	int64_t deadline = now_ms() + (int64_t)NOTE_WAIT_MS * time_scale();
	int n;

	while (wait && atomic_load(&rq->notes) < rq->expect_notes && now_ms() < deadline)
		sleep_ms(1);
	n = atomic_load(&rq->notes);
	if (n != rq->expect_notes)
		fail("%s id %#x (sigev_notify %d, result %s): notified %d times, expected %d%s",
		     type_names[rq->type], (unsigned)atomic_load(&rq->id), rq->kind,
		     errname(rq->err), n, rq->expect_notes,
		     n < rq->expect_notes ? " (lost)" : "");
}

/* A fresh slot of thread t, its earlier request fully accounted for. */
static struct rq *slot_get(struct thr *t, int type, int kind)
{
	struct rq *rq;
	uint32_t idx;

	do {
		idx = (uint32_t)t->idx * SLOTS_PER_THREAD + t->next_slot++ % SLOTS_PER_THREAD;
		rq = &slots[idx];
	} while (rq->in_use);
	if (rq->slot_gen)
		check_notes(rq, true);
	atomic_store(&rq->id, 0);
	atomic_store(&rq->notes, 0);
	rq->slot_gen = (uint16_t)(rq->slot_gen + 1);
	if (!rq->slot_gen)
		rq->slot_gen = 1; /* an id is never 0 */
	rq->is_list = type == T_LIST;
	rq->in_use = type != T_LIST;
	rq->done = false;
	rq->cancel_asked = false;
	rq->cancel_said = -1;
	rq->all_said = -1;
	rq->err = EINPROGRESS;
	rq->ret = 0;
	rq->type = type;
	rq->kind = kind;
	rq->expect_notes = kind != SIGEV_NONE;
	memset(&rq->cb, 0, sizeof(rq->cb));
	rq->cb.aio_sigevent.sigev_notify = kind;
	rq->cb.aio_sigevent.sigev_value.sival_int = (int)((uint32_t)rq->slot_gen << 16 | idx);
	if (kind == SIGEV_SIGNAL)
		rq->cb.aio_sigevent.sigev_signo = sig_no;
	else if (kind == SIGEV_THREAD)
		rq->cb.aio_sigevent.sigev_notify_function = on_thread;
	atomic_store_explicit(&rq->id, (uint32_t)rq->slot_gen << 16 | idx, memory_order_release);
	return rq;
}

/*
 * --no-signals: ThreadSanitizer's runtime merges queued realtime signals (one pending per
 * number), so exact signal counts mean nothing under it; callbacks still cover notification.
 */
static bool no_signals;

static int random_kind(struct thr *t)
{
	static const int kinds[] = {SIGEV_NONE, SIGEV_THREAD, SIGEV_SIGNAL};

	return kinds[rnd(t, no_signals ? 2 : 3)];
}

static void track(struct thr *t, struct rq *rq)
{
	t->out[t->nout++] = rq;
	atomic_fetch_add(&submitted, 1);
}

/* A file read or write of a free block, ready to submit; NULL when every block is busy. */
static struct rq *prep_file(struct thr *t, bool write)
{
	int f = (int)rnd(t, (uint32_t)nfiles), r = (int)rnd(t, REGIONS);
	struct rq *rq;

	for (int i = 0; i < REGIONS && t->reg[f][r].busy; i++)
		r = (r + 1) % REGIONS;
	if (t->reg[f][r].busy)
		return NULL;
	t->reg[f][r].busy = true;
	rq = slot_get(t, write ? T_FWRITE : T_FREAD, random_kind(t));
	rq->file = f;
	rq->region = r;
	rq->cb.aio_fildes = files[f].fd;
	rq->cb.aio_buf = rq->buf;
	rq->cb.aio_nbytes = BLOCK;
	rq->cb.aio_offset = region_offset(t->idx, r);
	rq->cb.aio_lio_opcode = write ? LIO_WRITE : LIO_READ;
	if (write) {
		rq->gen = t->reg[f][r].gen + 1;
		fill(rq->buf, BLOCK, region_key(f, t->idx, r, rq->gen));
	} else {
		memset(rq->buf, CANARY, BLOCK);
	}
	return rq;
}

/* The next record of a stream, as one write; NULL when the stream has enough in flight. */
static struct rq *prep_swrite(struct thr *t, int s)
{
	struct stream *st = &t->st[s];
	uint32_t len = rnd(t, 4) ? 1 + rnd(t, 200) : 1 + rnd(t, BLOCK - REC_HDR);
	uint32_t hdr[3] = {REC_MAGIC, st->wseq, len};
	struct rq *rq;

	if (st->wout >= STREAM_OUT)
		return NULL;
	rq = slot_get(t, T_SWRITE, random_kind(t));
	rq->stream = s;
	rq->gen = st->wseq++;
	memcpy(rq->buf, hdr, REC_HDR);
	fill(rq->buf + REC_HDR, len, record_key(t->idx, s, rq->gen));
	rq->cb.aio_fildes = st->wfd;
	rq->cb.aio_buf = rq->buf;
	rq->cb.aio_nbytes = REC_HDR + len;
	rq->cb.aio_lio_opcode = LIO_WRITE;
	st->wbytes += REC_HDR + len;
	st->wout++;
	return rq;
}

/* A read of a random size; NULL when the stream has enough reads in flight. */
static struct rq *prep_sread(struct thr *t, int s)
{
	static const uint32_t sizes[] = {1, 7, 12, 100, 1000, BLOCK};
	struct stream *st = &t->st[s];
	struct rq *rq;

	if (st->nreads >= STREAM_OUT)
		return NULL;
	rq = slot_get(t, T_SREAD, random_kind(t));
	rq->stream = s;
	rq->cb.aio_fildes = st->rfd;
	rq->cb.aio_buf = rq->buf;
	rq->cb.aio_nbytes = rnd(t, 2) ? sizes[rnd(t, 6)] : 1 + rnd(t, BLOCK);
	rq->cb.aio_lio_opcode = LIO_READ;
	memset(rq->buf, CANARY, BLOCK);
	st->reads[st->nreads++] = rq;
	return rq;
}

static void submit_one(struct thr *t, struct rq *rq)
{
	int ret;

	if (rq->type == T_FSYNC)
		ret = aio_fsync((int)rq->gen, &rq->cb);
	else if (rq->cb.aio_lio_opcode == LIO_WRITE)
		ret = aio_write(&rq->cb);
	else
		ret = aio_read(&rq->cb);
	if (ret != 0)
		fail("thread %d: submitting a %s (id %#x) failed: %d, %s", t->idx,
		     type_names[rq->type], (unsigned)rq->id, ret, errname(errno));
	track(t, rq);
}

/* Take the consumed bytes of a stream apart into records, each checked against the model. */
static void parse_records(struct thr *t, int s)
{
	struct stream *st = &t->st[s];
	uint32_t hdr[3];

	while (st->acclen >= REC_HDR) {
		memcpy(hdr, st->acc, REC_HDR);
		if (hdr[0] != REC_MAGIC || hdr[1] != st->rseq || hdr[2] == 0 ||
		    hdr[2] > BLOCK - REC_HDR)
			fail("thread %d %s: record header magic %#x seq %u len %u at stream byte "
			     "%" PRIu64 ", expected seq %u (records lost, reordered, or data "
			     "consumed by a cancelled read)",
			     t->idx, st->what, hdr[0], hdr[1], hdr[2], st->rbytes - st->acclen,
			     st->rseq);
		if (st->acclen < REC_HDR + hdr[2])
			return;
		fill(t->scratch, hdr[2], record_key(t->idx, s, st->rseq));
		if (memcmp(st->acc + REC_HDR, t->scratch, hdr[2]) != 0)
			fail("thread %d %s: record %u payload differs at byte %zu of %u", t->idx,
			     st->what, st->rseq,
			     first_diff(st->acc + REC_HDR, t->scratch, hdr[2]), hdr[2]);
		st->acclen -= REC_HDR + hdr[2];
		memmove(st->acc, st->acc + REC_HDR + hdr[2], st->acclen);
		st->rseq++;
	}
}

/* Consume the stream's finished reads in submission order. */
static void consume_reads(struct thr *t, int s)
{
	struct stream *st = &t->st[s];

	while (st->nreads && st->reads[0]->done) {
		struct rq *rq = st->reads[0];

		if (rq->err == 0) {
			memcpy(st->acc + st->acclen, rq->buf, (size_t)rq->ret);
			st->acclen += (size_t)rq->ret;
			st->rbytes += (size_t)rq->ret;
			parse_records(t, s);
		} else {
			for (size_t i = 0; i < rq->cb.aio_nbytes; i++)
				if (rq->buf[i] != CANARY)
					fail("thread %d %s: cancelled read id %#x wrote into its "
					     "buffer at byte %zu", t->idx, st->what,
					     (unsigned)rq->id, i);
		}
		rq->in_use = false;
		memmove(st->reads, st->reads + 1, (size_t)--st->nreads * sizeof(st->reads[0]));
	}
}

static ssize_t expected_ret(const struct rq *rq)
{
	return rq->type == T_FSYNC ? 0 : (ssize_t)rq->cb.aio_nbytes;
}

/* The request left EINPROGRESS with err: check its result once and apply it to the model. */
static void complete(struct thr *t, struct rq *rq, int err)
{
	const char *what = type_names[rq->type];
	unsigned id = (unsigned)rq->id;
	int again;

	rq->ret = aio_return(&rq->cb);
	rq->err = err;
	rq->done = true;
	again = aio_error(&rq->cb);
	if (again != err)
		fail("thread %d %s id %#x: aio_error went from %s to %s", t->idx, what, id,
		     errname(err), errname(again));
	if (err == ECANCELED) {
		if (!rq->cancel_asked)
			fail("thread %d %s id %#x: ECANCELED but never cancelled", t->idx, what,
			     id);
		if (rq->cancel_said == AIO_NOTCANCELED)
			fail("thread %d %s id %#x: aio_cancel said AIO_NOTCANCELED, then it "
			     "ended ECANCELED", t->idx, what, id);
		if (rq->ret != -1)
			fail("thread %d %s id %#x: ECANCELED with aio_return %zd", t->idx, what,
			     id, rq->ret);
		atomic_fetch_add(&cancelled, 1);
	} else if (err != 0) {
		fail("thread %d %s id %#x on %d: failed with %s", t->idx, what, id,
		     rq->cb.aio_fildes, errname(err));
	} else if (rq->cancel_said == AIO_CANCELED) {
		fail("thread %d %s id %#x: aio_cancel said AIO_CANCELED, then it succeeded",
		     t->idx, what, id);
	} else if (rq->type == T_SREAD ? rq->ret < 1 || rq->ret > expected_ret(rq)
					: rq->ret != expected_ret(rq)) {
		fail("thread %d %s id %#x: aio_return %zd for %zu bytes", t->idx, what, id,
		     rq->ret, rq->cb.aio_nbytes);
	}
	atomic_fetch_add(&progress, 1);

	switch (rq->type) {
	case T_FWRITE: {
		struct region *r = &t->reg[rq->file][rq->region];

		if (err == 0)
			r->gen = rq->gen;
		r->busy = false;
		break;
	}
	case T_FREAD: {
		struct region *r = &t->reg[rq->file][rq->region];

		if (err == 0) {
			fill(t->scratch, BLOCK, region_key(rq->file, t->idx, rq->region, r->gen));
			if (memcmp(rq->buf, t->scratch, BLOCK) != 0)
				fail("thread %d %s block %d: read id %#x differs from generation "
				     "%u at byte %zu", t->idx, files[rq->file].what, rq->region,
				     id, r->gen, first_diff(rq->buf, t->scratch, BLOCK));
		}
		r->busy = false;
		break;
	}
	case T_SWRITE:
		t->st[rq->stream].wout--;
		break;
	case T_SREAD:
		consume_reads(t, rq->stream);
		if (err == 0)
			atomic_fetch_add(&verified, 1);
		return; /* consume_reads() releases it */
	default:
		break;
	}
	if (err == 0)
		atomic_fetch_add(&verified, 1);
	rq->in_use = false;
}

/* Finish every request of t that is no longer in progress. */
static void reap(struct thr *t)
{
	int kept = 0;

	for (int i = 0; i < t->nout; i++) {
		struct rq *rq = t->out[i];
		int err = aio_error(&rq->cb);

		if (err == EINPROGRESS)
			t->out[kept++] = rq;
		else
			complete(t, rq, err);
	}
	t->nout = kept;
}

static void do_suspend(struct thr *t, long max_ms)
{
	const struct aiocb *list[2 * (MAX_OUT + MAX_LIST)];
	struct timespec ts = {0, (long)(1 + rnd(t, (uint32_t)max_ms)) * 1000000L};
	int n = 0, ret, any = 0;

	for (int i = 0; i < t->nout; i++) {
		if (!rnd(t, 8))
			list[n++] = NULL; /* POSIX: NULL entries are ignored */
		list[n++] = &t->out[i]->cb;
	}
	if (!t->nout)
		return;
	ret = aio_suspend(list, n, &ts);
	if (ret == -1 && errno != EAGAIN && errno != EINTR)
		fail("thread %d: aio_suspend of %d requests: %s", t->idx, t->nout,
		     errname(errno));
	if (ret != 0)
		return;
	for (int i = 0; i < n; i++)
		any |= list[i] && aio_error(list[i]) != EINPROGRESS;
	if (!any)
		fail("thread %d: aio_suspend returned 0 with all %d requests in progress", t->idx,
		     t->nout);
}

static void do_fsync(struct thr *t)
{
	int f = (int)rnd(t, (uint32_t)nfiles);
	struct rq *rq = slot_get(t, T_FSYNC, random_kind(t));

	rq->cb.aio_fildes = files[f].fd;
	rq->gen = rnd(t, 2) ? O_SYNC : O_DSYNC; /* the op, for submit_one() */
	submit_one(t, rq);
}

static void cancel_one(struct thr *t, struct rq *rq)
{
	int ret, err;

	rq->cancel_asked = true;
	ret = aio_cancel(rq->cb.aio_fildes, &rq->cb);
	switch (ret) {
	case AIO_CANCELED:
		rq->cancel_said = ret;
		err = aio_error(&rq->cb);
		if (err != ECANCELED)
			fail("thread %d: aio_cancel of %s id %#x said AIO_CANCELED, aio_error then "
			     "%s", t->idx, type_names[rq->type], (unsigned)rq->id, errname(err));
		break;
	case AIO_NOTCANCELED:
		rq->cancel_said = ret;
		break;
	case AIO_ALLDONE:
		err = aio_error(&rq->cb);
		if (err == EINPROGRESS)
			fail("thread %d: aio_cancel of %s id %#x said AIO_ALLDONE, it is in "
			     "progress", t->idx, type_names[rq->type], (unsigned)rq->id);
		break;
	default:
		fail("thread %d: aio_cancel of %s id %#x returned %d (%s)", t->idx,
		     type_names[rq->type], (unsigned)rq->id, ret, errname(errno));
	}
}

static const char *cancel_name(int ret)
{
	switch (ret) {
	case -1:
		return "nothing (never asked)";
	case AIO_CANCELED:
		return "AIO_CANCELED";
	case AIO_NOTCANCELED:
		return "AIO_NOTCANCELED";
	default:
		return "AIO_ALLDONE";
	}
}

static void do_cancel(struct thr *t)
{
	int s = (int)rnd(t, 2), ret;
	struct rq *rq;

	if (!t->nout)
		return;
	if (rnd(t, 4)) {
		rq = t->out[rnd(t, (uint32_t)t->nout)];
		if (rq->type != T_SWRITE && !rq->cancel_asked)
			cancel_one(t, rq);
		return;
	}
	/* Every read of one stream at once: the descriptor only this thread reads. */
	for (int i = 0; i < t->st[s].nreads; i++)
		t->st[s].reads[i]->cancel_asked = true;
	ret = aio_cancel(t->st[s].rfd, NULL);
	if (ret == AIO_ALLDONE)
		for (int i = 0; i < t->st[s].nreads; i++)
			if (aio_error(&t->st[s].reads[i]->cb) == EINPROGRESS)
				fail("thread %d: aio_cancel(%s, NULL) said AIO_ALLDONE with read "
				     "id %#x in progress (earlier: aio_cancel of it alone said %s, "
				     "of its descriptor %s)", t->idx, t->st[s].what,
				     (unsigned)t->st[s].reads[i]->id,
				     cancel_name(t->st[s].reads[i]->cancel_said),
				     cancel_name(t->st[s].reads[i]->all_said));
	for (int i = 0; i < t->st[s].nreads; i++)
		t->st[s].reads[i]->all_said = ret;
	if (ret != AIO_CANCELED && ret != AIO_NOTCANCELED && ret != AIO_ALLDONE)
		fail("thread %d: aio_cancel(%s, NULL) returned %d (%s)", t->idx, t->st[s].what,
		     ret, errname(errno));
}

/*
 * One lio_listio list. LIO_WAIT lists hold file requests only (they complete by themselves;
 * a stream read could wait forever on data this very thread has yet to write).
 */
static void do_list(struct thr *t, bool wait)
{
	struct aiocb *list[2 * MAX_LIST]; /* members and NULL entries */
	struct rq *members[MAX_LIST];
	bool sread[2] = {false, false}, swrite[2] = {false, false};
	int want = 1 + (int)rnd(t, MAX_LIST), n = 0, nm = 0, ret;
	struct sigevent sev;
	struct rq *lrq = NULL;

	for (int i = 0; i < want; i++) {
		int s = (int)rnd(t, 2);
		struct rq *rq = NULL;

		switch (wait ? 0 : rnd(t, 3)) {
		case 0:
			rq = prep_file(t, rnd(t, 2));
			break;
		case 1:
			/* One read per stream per list: POSIX does not order a list's members. */
			if (!sread[s] && (rq = prep_sread(t, s)))
				sread[s] = true;
			break;
		default:
			if (!swrite[s] && (rq = prep_swrite(t, s)))
				swrite[s] = true;
			break;
		}
		if (!rq)
			continue;
		if (!rnd(t, 6))
			list[n++] = NULL; /* ignored, as POSIX says */
		list[n++] = &rq->cb;
		members[nm++] = rq;
	}
	if (!nm)
		return;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	if (!wait) {
		lrq = slot_get(t, T_LIST, random_kind(t));
		sev = lrq->cb.aio_sigevent;
	}
	ret = lio_listio(wait ? LIO_WAIT : LIO_NOWAIT, list, n, wait ? NULL : &sev);
	if (ret != 0 && !(wait && errno == EINTR))
		fail("thread %d: lio_listio(%s) of %d requests: %d, %s", t->idx,
		     wait ? "LIO_WAIT" : "LIO_NOWAIT", nm, ret, errname(errno));
	for (int i = 0; i < nm; i++) {
		if (wait && ret == 0 && aio_error(&members[i]->cb) == EINPROGRESS)
			fail("thread %d: lio_listio(LIO_WAIT) returned 0 with member %d id %#x in "
			     "progress", t->idx, i, (unsigned)members[i]->id);
		track(t, members[i]);
	}
	if (lrq)
		atomic_fetch_add(&submitted, 1);
}

static void step(struct thr *t)
{
	uint32_t dice = rnd(t, 100);
	struct rq *rq;

	if (t->nout >= MAX_OUT) {
		do_suspend(t, 20);
	} else if (dice < 30) {
		if ((rq = prep_file(t, rnd(t, 2))))
			submit_one(t, rq);
	} else if (dice < 45) {
		if ((rq = prep_swrite(t, (int)rnd(t, 2))))
			submit_one(t, rq);
	} else if (dice < 60) {
		if ((rq = prep_sread(t, (int)rnd(t, 2))))
			submit_one(t, rq);
	} else if (dice < 68) {
		do_list(t, false);
	} else if (dice < 73) {
		do_list(t, true);
	} else if (dice < 83) {
		do_cancel(t);
	} else if (dice < 87) {
		do_fsync(t);
	} else if (dice < 95) {
		do_suspend(t, 5);
	}
	reap(t);
}

/*
 * Stop writing; read every stream to the last byte written, then cancel the reads left
 * waiting on empty streams, and wait for everything.
 */
static void drain(struct thr *t)
{
	for (;;) {
		bool busy = t->nout > 0;

		for (int s = 0; s < 2; s++) {
			struct stream *st = &t->st[s];
			struct rq *rq;

			if (st->rbytes < st->wbytes) {
				busy = true;
				if (!st->nreads && (rq = prep_sread(t, s)))
					submit_one(t, rq);
				continue;
			}
			for (int i = 0; i < st->nreads; i++)
				if (!st->reads[i]->cancel_asked)
					cancel_one(t, st->reads[i]);
			/*
			 * A read aio_cancel could not cancel (AIO_NOTCANCELED) goes on waiting:
			 * one more record feeds it, and the stream is drained again.
			 */
			for (int i = 0; i < st->nreads; i++)
				if (aio_error(&st->reads[i]->cb) == EINPROGRESS &&
				    st->reads[i]->cancel_said != AIO_CANCELED && !st->wout &&
				    (rq = prep_swrite(t, s))) {
					submit_one(t, rq);
					break;
				}
		}
		if (!busy)
			break;
		do_suspend(t, 20);
		reap(t);
	}
	for (int s = 0; s < 2; s++) {
		struct stream *st = &t->st[s];

		if (st->acclen || st->rseq != st->wseq || st->rbytes != st->wbytes)
			fail("thread %d %s: drained %u of %u records (%" PRIu64 " of %" PRIu64
			     " bytes, %zu left over)", t->idx, st->what, st->rseq, st->wseq,
			     st->rbytes, st->wbytes, st->acclen);
	}
}

static void *worker(void *arg)
{
	struct thr *t = arg;

	while (!atomic_load(&stop))
		step(t);
	drain(t);
	return NULL;
}

static void open_streams(struct thr *t)
{
	int p[2], sv[2];

	if (pipe(p) == -1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		fail("cannot create a pipe or socketpair: %s", strerror(errno));
	t->st[0] = (struct stream){.rfd = p[0], .wfd = p[1], .what = "pipe"};
	t->st[1] = (struct stream){.rfd = sv[1], .wfd = sv[0], .what = "socketpair"};
}

/* A temporary file in dir, unlinked, every thread's blocks at generation 0. */
static bool open_file(int f, const char *dir, int flags, const char *what)
{
	char path[4096];
	unsigned char *buf;
	int fd, tfd;

	snprintf(path, sizeof(path), "%s/posixaio-stress-XXXXXX", dir);
	tfd = mkstemp(path);
	if (tfd == -1)
		fail("cannot create a file in %s: %s", dir, strerror(errno));
	fd = open(path, O_RDWR | flags);
	int saved = errno;

	unlink(path);
	close(tfd);
	if (fd == -1) {
		fprintf(stderr, "stress: note: %s in %s refused (%s), running without it\n", what,
			dir, strerror(saved));
		return false;
	}
	if (posix_memalign((void **)&buf, BLOCK, BLOCK))
		fail("out of memory");
	for (int t = 0; t < nthreads; t++)
		for (int r = 0; r < REGIONS; r++) {
			fill(buf, BLOCK, region_key(f, t, r, 0));
			if (pwrite(fd, buf, BLOCK, region_offset(t, r)) != BLOCK)
				fail("cannot fill %s: %s", what, strerror(errno));
		}
	free(buf);
	files[f] = (struct file){fd, what};
	return true;
}

extern const char *posixaio_engine(void) __attribute__((weak));

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	struct sigaction sa;

	nslots = nthreads * SLOTS_PER_THREAD;
	slots = calloc((size_t)nslots, sizeof(*slots));
	thrs = calloc((size_t)nthreads, sizeof(*thrs));
	if (!slots || !thrs)
		fail("out of memory");
	for (int i = 0; i < nslots; i++)
		if (posix_memalign((void **)&slots[i].buf, BLOCK, BLOCK))
			fail("out of memory");

	/* SA_RESTART: waits in the library go on through the notifications. */
	sig_no = SIGRTMIN + 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(sig_no, &sa, NULL);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (open_file(nfiles, tmp && *tmp ? tmp : "/tmp", 0, "buffered file"))
		nfiles++;
	if (open_file(nfiles, "/var/tmp", O_DIRECT, "O_DIRECT file"))
		nfiles++;
	if (!nfiles)
		fail("no file to test on");
	engine = posixaio_engine ? posixaio_engine() : "(the C library's)";
	if (!engine)
		fail("the library has no engine (see its message above)");
	for (int i = 0; i < nthreads; i++) {
		thrs[i].idx = i;
		thrs[i].rng = mix(seed + 1 + (uint64_t)i);
		open_streams(&thrs[i]);
	}
}

/* Fails the run when nothing completes for HANG_SECONDS, with what is in flight. */
static void *watchdog(void *arg)
{
	unsigned long last = (unsigned long)-1;
	int64_t since = now_ms(), limit = (int64_t)HANG_SECONDS * 1000 * time_scale();

	(void)arg;
	for (;;) {
		unsigned long p = atomic_load(&progress);

		sleep_ms(500);
		if (p != last) {
			last = p;
			since = now_ms();
			continue;
		}
		if (now_ms() - since < limit)
			continue;
		for (int i = 0; i < nthreads; i++)
			for (int j = 0; j < thrs[i].nout && j < MAX_OUT + MAX_LIST; j++) {
				struct rq *rq = thrs[i].out[j];

				fprintf(stderr,
					"stress: thread %d in flight: %s id %#x fd %d: %s\n", i,
					type_names[rq->type], (unsigned)rq->id, rq->cb.aio_fildes,
					errname(aio_error(&rq->cb)));
			}
		fail("hang: no request completed for %d s", HANG_SECONDS * time_scale());
	}
	return NULL;
}

static int run(long seconds)
{
	int64_t end = now_ms() + seconds * 1000;
	unsigned long lost = 0;
	pthread_t wd;

	setup();
	printf("stress: seed %llu, %d threads, %d files, %ld s, engine %s\n", seed, nthreads,
	       nfiles, seconds, engine);
	fflush(stdout);
	if (pthread_create(&wd, NULL, watchdog, NULL))
		fail("cannot start the watchdog thread");
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&thrs[i].th, NULL, worker, &thrs[i]))
			fail("cannot start thread %d", i);
	while (!atomic_load(&stop) && (seconds <= 0 || now_ms() < end))
		sleep_ms(50);
	atomic_store(&stop, true);
	for (int i = 0; i < nthreads; i++)
		pthread_join(thrs[i].th, NULL);

	/* Every slot once more: late notifications get a chance to show up, then exact counts. */
	for (int i = 0; i < nslots; i++)
		if (slots[i].slot_gen) {
			int64_t deadline = now_ms() + (int64_t)NOTE_WAIT_MS * time_scale();

			while (atomic_load(&slots[i].notes) < slots[i].expect_notes &&
			       now_ms() < deadline)
				sleep_ms(1);
		}
	sleep_ms(200);
	for (int i = 0; i < nslots; i++) {
		if (!slots[i].slot_gen)
			continue;
		lost += atomic_load(&slots[i].notes) < slots[i].expect_notes;
		check_notes(&slots[i], false);
	}
	if (atomic_load(&stale_notes))
		fail("%lu notifications for ids not current (a duplicate or a stray), last %#x",
		     atomic_load(&stale_notes), (unsigned)atomic_load(&stale_id));
	if (atomic_load(&early_notes))
		fail("%lu notifications arrived while their request was still EINPROGRESS",
		     atomic_load(&early_notes));
	if (atomic_load(&bad_code))
		fail("%lu signals without si_code SI_ASYNCIO", atomic_load(&bad_code));
	printf("stress: seed %llu, %lu requests verified, %lu cancelled, %lu notifications, "
	       "%lu lost\n", seed, atomic_load(&verified), atomic_load(&cancelled),
	       atomic_load(&notes_total), lost);
	fflush(stdout);
	return 0;
}

/* Run the test in a child; a crash or a hang the watchdog missed fails with the seed. */
static int supervise(long seconds, bool soak)
{
	int64_t limit = (seconds + 2 * HANG_SECONDS + 30) * 1000LL * time_scale();
	int64_t start = now_ms();
	int status;
	pid_t pid, parent = getpid();

	fflush(NULL);
	pid = fork();
	if (pid == -1) {
		perror("stress: fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		_exit(run(seconds));
	}
	/* The child drains and reports on SIGINT; this process waits for its report. */
	signal(SIGINT, SIG_IGN);
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid)
			break;
		if (!soak && now_ms() - start > limit) {
			fprintf(stderr, "stress: FAIL (seed %llu): still running after %lld s; "
				"killed\n", seed, (long long)(limit / 1000));
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 1;
		}
		sleep_ms(100);
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "stress: FAIL (seed %llu): killed by signal %d (%s)\n", seed,
			WTERMSIG(status), strsignal(WTERMSIG(status)));
		return 1;
	}
	return WEXITSTATUS(status);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: stress [--seed N] [--seconds S] [--threads N] [--soak] [--no-signals]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long seconds = 20;
	bool soak = false, have_seconds = false;

	seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
	for (int i = 1; i < argc; i++) {
		bool more = i + 1 < argc;

		if (!strcmp(argv[i], "--seed") && more) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--seconds") && more) {
			seconds = atol(argv[++i]);
			have_seconds = true;
		} else if (!strcmp(argv[i], "--threads") && more) {
			nthreads = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--soak")) {
			soak = true;
		} else if (!strcmp(argv[i], "--no-signals")) {
			no_signals = true;
		} else {
			usage();
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS || (!soak && seconds < 1))
		usage();
	if (soak && !have_seconds)
		seconds = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("stress: seed %llu\n", seed);
	return supervise(seconds, soak);
}
