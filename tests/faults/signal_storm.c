/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A signal storm: a thread sends a realtime signal to the main thread every ~50 us while the
 * main thread runs thousands of aio_read, aio_write, aio_suspend and lio_listio(LIO_WAIT)
 * on a file and a pipe. Twice: with a handler installed without SA_RESTART, then with it.
 * Every EINTR (and EAGAIN from a submission) is retried the way a careful program would: a
 * submission is tried again, a LIO_WAIT list that returned EINTR is not resubmitted but
 * waited for. Every request must complete exactly once (its SIGEV_THREAD callback counted)
 * with the right data.
 */
#include "faults.h"

#define PHASE_MS 1500
#define BATCH 8
#define CHUNK 512
#define SIG (SIGRTMIN + 3)

static atomic_int signals_seen;
static atomic_bool storm_on;
static pthread_t main_thread;
static int fd, pipefd[2];

/* One callback per request: counts[i] must be exactly 1 when request i is done. */
static atomic_int counts[BATCH];
static struct aiocb cbs[BATCH];
static unsigned char bufs[BATCH][CHUNK];
static long eintr_seen, rounds;

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals_seen, 1);
}

static void on_done(union sigval v)
{
	atomic_fetch_add(&counts[v.sival_int], 1);
}

static void *storm(void *arg)
{
	struct timespec ts = {0, 50000};

	(void)arg;
	while (atomic_load(&storm_on)) {
		pthread_kill(main_thread, SIG);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static unsigned char byte_of(long round, int i, size_t k)
{
	return (unsigned char)(round * 31 + i * 7 + k);
}

static void prep(int i, int fildes, int op, off_t off, bool notify)
{
	aiocb_prep(&cbs[i], fildes, bufs[i], CHUNK, off);
	cbs[i].aio_lio_opcode = op;
	atomic_store(&counts[i], 0);
	if (notify) {
		cbs[i].aio_sigevent.sigev_notify = SIGEV_THREAD;
		cbs[i].aio_sigevent.sigev_notify_function = on_done;
		cbs[i].aio_sigevent.sigev_value.sival_int = i;
	}
}

static void submit(int i)
{
	int ret;

	do {
		errno = 0;
		ret = cbs[i].aio_lio_opcode == LIO_READ ? aio_read(&cbs[i]) : aio_write(&cbs[i]);
		if (ret == -1 && errno == EINTR)
			eintr_seen++;
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	EXPECT(ret == 0, "submission %d failed: %s", i, errname(errno));
}

/* Wait for all of list with aio_suspend, retrying EINTR. */
static void wait_all(int n)
{
	int64_t deadline = now_ms() + WAIT_DONE_MS;

	for (;;) {
		const struct aiocb *list[BATCH];
		int pending = 0;

		for (int i = 0; i < n; i++)
			if (aio_error(&cbs[i]) == EINPROGRESS)
				list[pending++] = &cbs[i];
		if (!pending)
			return;
		EXPECT(now_ms() < deadline, "round %ld: %d requests still in progress after %d ms",
		       rounds, pending, WAIT_DONE_MS);
		struct timespec ts = {0, 50 * 1000000L};

		if (aio_suspend(list, pending, &ts) == -1) {
			EXPECT(errno == EINTR || errno == EAGAIN, "aio_suspend: %s",
			       errname(errno));
			eintr_seen += errno == EINTR;
		}
	}
}

/* Every request of the batch done once, with n bytes, and notified once if it asked. */
static void check_batch(int n, bool notify)
{
	for (int i = 0; i < n; i++) {
		int err = aio_error(&cbs[i]);
		ssize_t ret = aio_return(&cbs[i]);

		EXPECT(err == 0, "round %ld request %d: aio_error %s", rounds, i, errname(err));
		EXPECT(ret == CHUNK, "round %ld request %d: aio_return %zd", rounds, i, ret);
		if (notify) {
			EXPECT(wait_counter(&counts[i], 1, WAIT_DONE_MS),
			       "round %ld request %d: no SIGEV_THREAD notification", rounds, i);
		}
	}
	if (notify) {
		sleep_ms(0);
		for (int i = 0; i < n; i++)
			EXPECT(atomic_load(&counts[i]) == 1,
			       "round %ld request %d: notified %d times", rounds, i,
			       atomic_load(&counts[i]));
	}
}

/* File: write a batch (aio_write or LIO_WAIT), then read it back the other way. */
static void file_round(bool notify)
{
	bool use_lio = rounds & 1;
	struct aiocb *list[BATCH];

	for (int i = 0; i < BATCH; i++) {
		prep(i, fd, LIO_WRITE, (off_t)i * CHUNK, notify);
		for (size_t k = 0; k < CHUNK; k++)
			bufs[i][k] = byte_of(rounds, i, k);
		list[i] = &cbs[i];
	}
	if (use_lio) {
		int ret;

		errno = 0;
		while ((ret = lio_listio(LIO_WAIT, list, BATCH, NULL)) == -1 && errno == EAGAIN)
			;
		if (ret == -1) {
			EXPECT(errno == EINTR, "lio_listio(LIO_WAIT): %s", errname(errno));
			eintr_seen++;
		}
	} else {
		for (int i = 0; i < BATCH; i++)
			submit(i);
	}
	wait_all(BATCH);
	check_batch(BATCH, notify);
	for (int i = 0; i < BATCH; i++) {
		prep(i, fd, LIO_READ, (off_t)i * CHUNK, notify);
		memset(bufs[i], 0, CHUNK);
		if (!use_lio)
			list[i] = &cbs[i];
	}
	if (!use_lio) {
		int ret;

		errno = 0;
		while ((ret = lio_listio(LIO_WAIT, list, BATCH, NULL)) == -1 && errno == EAGAIN)
			;
		if (ret == -1) {
			EXPECT(errno == EINTR, "lio_listio(LIO_WAIT): %s", errname(errno));
			eintr_seen++;
		}
	} else {
		for (int i = 0; i < BATCH; i++)
			submit(i);
	}
	wait_all(BATCH);
	check_batch(BATCH, notify);
	for (int i = 0; i < BATCH; i++)
		for (size_t k = 0; k < CHUNK; k++)
			EXPECT(bufs[i][k] == byte_of(rounds, i, k),
			       "round %ld: file read %d byte %zu is not what was written", rounds, i,
			       k);
}

/* Pipe: reads pending first, then writes that feed them; data must arrive in order. */
static void pipe_round(bool notify)
{
	static unsigned char out[BATCH / 2][CHUNK];
	int half = BATCH / 2;

	for (int i = 0; i < half; i++) {
		prep(i, pipefd[0], LIO_READ, 0, notify);
		memset(bufs[i], 0, CHUNK);
		submit(i);
	}
	for (int i = half; i < BATCH; i++) {
		prep(i, pipefd[1], LIO_WRITE, 0, notify);
		for (size_t k = 0; k < CHUNK; k++)
			bufs[i][k] = out[i - half][k] = byte_of(rounds, i, k);
		submit(i);
	}
	wait_all(BATCH);
	check_batch(BATCH, notify);
	for (int i = 0; i < half; i++)
		EXPECT(memcmp(bufs[i], out[i], CHUNK) == 0,
		       "round %ld: pipe read %d did not get write %d's bytes", rounds, i, i);
}

static void phase(int flags, const char *name)
{
	pthread_t th;
	int64_t end;
	long start_rounds = rounds, start_eintr = eintr_seen;
	int start_signals = atomic_load(&signals_seen);

	install_handler(SIG, on_signal, flags);
	atomic_store(&storm_on, true);
	EXPECT(pthread_create(&th, NULL, storm, NULL) == 0, "pthread_create failed");
	end = now_ms() + PHASE_MS;
	while (now_ms() < end) {
		bool notify = rounds % 3 == 0;

		file_round(notify);
		pipe_round(notify);
		rounds++;
	}
	atomic_store(&storm_on, false);
	pthread_join(th, NULL);
	printf("%s: %ld rounds, %d signals, %ld EINTR retried\n", name, rounds - start_rounds,
	       atomic_load(&signals_seen) - start_signals, eintr_seen - start_eintr);
	EXPECT(atomic_load(&signals_seen) > start_signals, "%s: no signal arrived", name);
}

static int test(void)
{
	SKIP_UNDER_TSAN("the delivery of realtime signals");
	main_thread = pthread_self();
	fd = tmp_file(O_RDWR);
	SYSCHECK(pipe(pipefd));
	phase(0, "no SA_RESTART");
	phase(SA_RESTART, "SA_RESTART");
	close(fd);
	return 0;
}

TEST_MAIN(test)
