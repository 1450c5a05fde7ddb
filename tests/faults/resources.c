/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library short of resources, with faults from tests/faults/inject.c (preloaded) or the
 * process's limits. A mixed workload runs (file writes and reads at their own offsets, an
 * fsync per round, pipe reads fed later, lio_listio batches, SIGEV_THREAD callbacks, claims through
 * aio_waitcomplete) and every request the library accepted must complete exactly once with
 * the right bytes; a call that refuses one fails with EAGAIN and nothing else, and the
 * program goes on. Modes (argv[1]):
 *
 *   malloc    INJECT_MALLOC makes the library's own allocations fail now and then
 *   submit    INJECT_SUBMIT makes io_uring_submit/io_submit fail with EAGAIN or EBUSY (the
 *             fsyncs reach them: cached file reads finish inside the call, and kaio sends
 *             buffered writes to its helpers where the filesystem refuses RWF_NOWAIT)
 *   memlock   RLIMIT_MEMLOCK set to 0 before the library starts
 *   ring      INJECT_RING=ENOMEM: the ring cannot be set up; auto falls back to native AIO
 *
 * The faults must really have happened: the injector's counters are read back.
 */
#define TEST_TIMEOUT 60
#include "faults.h"
#include "../ext/ext.h"

#include <dlfcn.h>
#include <sys/resource.h>

#include <posixaio.h>

#define SLOTS 48
#define ROUNDS 150

struct slot {
	struct aiocb cb;
	char buf[512];
	int kind; /* 0 file write, 1 file read, 2 pipe read, 3 file fsync */
	bool busy;
	bool fed; /* a pipe read's byte was written */
};

static struct slot slots[SLOTS];
static atomic_int callbacks[SLOTS];
static int file, pipes[2];
static long accepted, refused, completed, accepted_cb, late_eagain;
static int written[SLOTS]; /* the round whose bytes the file holds at each slot */
static bool malloc_mode;

static void on_done(union sigval v)
{
	atomic_fetch_add(&callbacks[v.sival_int], 1);
}

static unsigned char byte_at(off_t off, int gen)
{
	return (unsigned char)(pattern_byte((size_t)off) + gen);
}

/* Every request is checked when claimed: exactly once, with its bytes. */
static void check(struct slot *s, ssize_t ret, int err, int gen)
{
	long i = s - slots;

	EXPECT(s->busy, "slot %ld handed out but not in flight", i);
	s->busy = false;
	completed++;
	if (err == EAGAIN && malloc_mode) {
		late_eagain++; /* accepted, then short of memory: reported once, as itself */
		return;
	}
	EXPECT(err == 0, "slot %ld (kind %d) failed: %s", i, s->kind, errname(err));
	EXPECT(ret == (s->kind == 2 ? 1 : s->kind == 3 ? 0 : 512), "slot %ld (kind %d): %zd bytes",
	       i, s->kind, ret);
	if (s->kind == 1)
		for (int k = 0; k < 512; k++)
			EXPECT((unsigned char)s->buf[k] == byte_at(s->cb.aio_offset + k, written[i]),
			       "slot %ld: byte %d read back wrong", i, k);
	if (s->kind == 0)
		written[i] = gen;
}

static int submit(struct slot *s)
{
	int ret;

	switch (s->kind) {
	case 0:
		ret = aio_write(&s->cb);
		break;
	case 3:
		ret = aio_fsync(O_SYNC, &s->cb);
		break;
	default:
		ret = aio_read(&s->cb);
		break;
	}
	if (ret == 0) {
		s->busy = true;
		accepted++;
		accepted_cb++;
		return 0;
	}
	EXPECT(errno == EAGAIN, "a refused submission gave %s, expected EAGAIN", errname(errno));
	refused++;
	return -1;
}

static void prep(struct slot *s, int kind, int gen)
{
	long i = s - slots;
	off_t off = (off_t)i * 512;

	aiocb_prep(&s->cb, kind == 2 ? pipes[0] : file, s->buf, kind == 2 ? 1 : kind == 3 ? 0 : 512,
		   off);
	s->kind = kind;
	s->fed = false;
	if (kind == 0)
		for (int k = 0; k < 512; k++)
			s->buf[k] = (char)byte_at(off + k, gen);
	s->cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
	s->cb.aio_sigevent.sigev_notify_function = on_done;
	s->cb.aio_sigevent.sigev_value.sival_int = (int)i;
}

/* Claim until none is in flight; each pipe read is fed its byte once it is pending. */
static void claim_all(int gen)
{
	for (;;) {
		struct aiocb *cb;
		ssize_t ret;
		int err, busy = 0;

		for (int i = 0; i < SLOTS; i++)
			busy += slots[i].busy;
		if (!busy)
			return;
		for (int i = 0; i < SLOTS; i++)
			if (slots[i].busy && slots[i].kind == 2 && !slots[i].fed) {
				write_all(pipes[1], "p", 1);
				slots[i].fed = true;
			}
		cb = NULL;
		ret = waitcomplete_ms(&cb, WAIT_DONE_MS);
		err = ret < 0 ? errno : 0;
		if (!cb) {
			for (int i = 0; i < SLOTS; i++)
				if (slots[i].busy)
					fprintf(stderr, "slot %d kind %d: aio_error %s\n", i,
						slots[i].kind, errname(aio_error(&slots[i].cb)));
			FAIL("round %d: nothing to claim within %d ms (%s) with %d in flight", gen,
			     WAIT_DONE_MS, errname(err), busy);
		}
		check((struct slot *)cb, ret, err, gen);
	}
}

/*
 * A batch of reads by lio_listio(LIO_WAIT): EAGAIN from the call when none could start,
 * EIO with EAGAIN in the members that could not.
 */
static void lio_batch(int gen)
{
	struct aiocb *list[8];
	int ret;

	for (int i = 0; i < 8; i++) {
		prep(&slots[i], 1, gen);
		slots[i].cb.aio_sigevent.sigev_notify = SIGEV_NONE;
		list[i] = &slots[i].cb;
	}
	ret = lio_listio(LIO_WAIT, list, 8, NULL);
	if (ret < 0 && errno == EAGAIN) {
		refused += 8; /* none started: the members are as they were */
		return;
	}
	if (ret < 0)
		EXPECT(errno == EIO, "lio_listio failed with %s", errname(errno));
	for (int i = 0; i < 8; i++) {
		int err = aio_error(list[i]);

		EXPECT(err == 0 || err == EAGAIN, "lio member %d: %s", i, errname(err));
		EXPECT(err == 0 || ret < 0, "lio member %d failed but the list succeeded", i);
		if (err == 0) {
			slots[i].busy = true;
			accepted++;
			ssize_t got = aio_return(list[i]);

			EXPECT(got == 512, "lio member %d: read %zd bytes, expected 512", i, got);
			for (int k = 0; k < 512; k++)
				EXPECT((unsigned char)slots[i].buf[k] ==
					       byte_at(slots[i].cb.aio_offset + k, written[i]),
				       "lio member %d: byte %d wrong", i, k);
			slots[i].busy = false;
			completed++;
		} else {
			refused++;
		}
	}
}

static long injected(const char *what)
{
	long *(*counts)(void) = (long *(*)(void))dlsym(RTLD_DEFAULT, "inject_counts");

	if (!counts)
		FAIL("mode %s needs tests/faults/inject.so in LD_PRELOAD", what);
	return !strcmp(what, "malloc") ? counts()[0] : counts()[1];
}

static int run(const char *mode)
{
	long cb_total = 0;

	if (!strcmp(mode, "memlock")) {
		struct rlimit rl = { 0, 0 };

		SYSCHECK(setrlimit(RLIMIT_MEMLOCK, &rl));
	}
	malloc_mode = !strcmp(mode, "malloc");
	file = tmp_file(O_RDWR);
	for (int i = 0; i < SLOTS; i++) {
		char buf[512];

		for (int k = 0; k < 512; k++)
			buf[k] = (char)byte_at((off_t)i * 512 + k, -1);
		SYSCHECK(pwrite(file, buf, sizeof(buf), (off_t)i * 512));
		written[i] = -1;
	}
	SYSCHECK(pipe(pipes));
	for (int gen = 0; gen < ROUNDS; gen++) {
		/*
		 * Writes and an fsync (in the last slot), then reads of what they wrote, then
		 * pipe reads; claims in between.
		 */
		for (int kind = 0; kind < 3; kind++) {
			for (int i = 0; i < SLOTS; i++) {
				prep(&slots[i], kind == 0 && i == SLOTS - 1 ? 3 : kind, gen);
				submit(&slots[i]);
			}
			claim_all(gen);
		}
		lio_batch(gen);
	}
	/* Every accepted SIGEV_THREAD request called back once, and no more. */
	for (int64_t end = now_ms() + WAIT_DONE_MS; cb_total < accepted_cb && now_ms() < end;) {
		sleep_ms(5);
		cb_total = 0;
		for (int i = 0; i < SLOTS; i++)
			cb_total += atomic_load(&callbacks[i]);
	}
	sleep_ms(50);
	cb_total = 0;
	for (int i = 0; i < SLOTS; i++)
		cb_total += atomic_load(&callbacks[i]);
	EXPECT(cb_total == accepted_cb, "%ld callbacks for %ld requests", cb_total, accepted_cb);
	EXPECT(completed == accepted, "%ld accepted, %ld completed", accepted, completed);
	fprintf(stderr, "%s: %ld requests accepted and verified, %ld refused with EAGAIN by the "
		"call, %ld failed with EAGAIN after acceptance\n", mode, accepted, refused,
		late_eagain);
	if (!strcmp(mode, "malloc") || !strcmp(mode, "submit"))
		EXPECT(injected(mode) > 0, "no %s fault was injected", mode);
	if (!strcmp(mode, "ring")) {
		const char *e = posixaio_engine();

		EXPECT(e && !strcmp(e, "kaio"), "with no ring, the engine is %s, expected kaio",
		       e ? e : "none");
	}
	if (strcmp(mode, "malloc"))
		EXPECT(refused == 0, "%ld requests refused in mode %s", refused, mode);
	return 0;
}

static const char *mode_arg;

static int test(void)
{
	return run(mode_arg);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		FAIL("usage: %s malloc|submit|memlock|ring", argv[0]);
	mode_arg = argv[1];
	return supervise(test, TEST_TIMEOUT);
}
