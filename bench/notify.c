// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * notify: completions per second when every request asks for a notification.
 *
 * usage: notify signal|thread FILE DEPTH SECONDS
 *
 * Keeps DEPTH 4 KiB aio_reads of a page-cached FILE in flight for SECONDS, each with
 * SIGEV_SIGNAL or SIGEV_THREAD.  Each notification collects its request and submits the next
 * one: for SIGEV_SIGNAL the main thread takes the queued signals with sigtimedwait (the signal
 * is blocked, so no handler has to call functions that are not async-signal-safe); for
 * SIGEV_THREAD the notification function does it.
 *
 * Checked on every notification: it names a request that is in flight and has not been
 * notified yet, the request's result is already visible (aio_error is not EINPROGRESS), the
 * read is whole and its data right, and for signals si_code is SI_ASYNCIO.  At the end, every
 * request was notified exactly once.  A notification that does not come within 30 s is a hang.
 *
 * Prints one JSON line: completions per second and process CPU time (all threads, including
 * exited ones) per completion.
 */
#include <aio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define BLOCK 4096
#define MAX_DEPTH 1024
#define WAIT_LIMIT_SEC 30

struct slot {
	struct aiocb cb;
	atomic_int in_flight;
	char *buf;
};

static struct slot *slots;
static long nslots;
static int fd;
static long nblocks;
static int use_thread;
static atomic_long next_block;
static atomic_long submitted;
static atomic_long completed;
static atomic_long outstanding;
static atomic_int stop;
#define NOTIFY_SIGNAL (SIGRTMIN + 1)

static void on_thread_notify(union sigval sv);

static void submit(struct slot *sl)
{
	long n = atomic_fetch_add(&next_block, 1);
	struct aiocb *cb = &sl->cb;

	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = fd;
	cb->aio_buf = sl->buf;
	cb->aio_nbytes = BLOCK;
	cb->aio_offset = (off_t)((n * 7919L) % nblocks) * BLOCK;
	cb->aio_sigevent.sigev_value.sival_ptr = sl;
	if (use_thread) {
		cb->aio_sigevent.sigev_notify = SIGEV_THREAD;
		cb->aio_sigevent.sigev_notify_function = on_thread_notify;
	} else {
		cb->aio_sigevent.sigev_notify = SIGEV_SIGNAL;
		cb->aio_sigevent.sigev_signo = NOTIFY_SIGNAL;
	}
	atomic_store(&sl->in_flight, 1);
	atomic_fetch_add(&submitted, 1);
	if (aio_read(cb))
		die("aio_read: %s", strerror(errno));
}

/* Collect the notified request; submit the next one unless the run is over. */
static void notified(struct slot *sl)
{
	int err;
	ssize_t ret;

	if (sl < slots || sl >= slots + nslots || !atomic_exchange(&sl->in_flight, 0))
		die("notification for a request that is not in flight (duplicate or stray)");
	err = aio_error(&sl->cb);
	if (err == EINPROGRESS)
		die("notified before the result is visible: aio_error is EINPROGRESS");
	if (err)
		die("read failed: %s", strerror(err));
	ret = aio_return(&sl->cb);
	if (ret != BLOCK)
		die("aio_return %zd, want %d", ret, BLOCK);
	check_block(sl->buf, sl->cb.aio_offset);
	atomic_fetch_add(&completed, 1);
	if (atomic_load(&stop))
		atomic_fetch_sub(&outstanding, 1);
	else
		submit(sl);
}

static void on_thread_notify(union sigval sv)
{
	notified(sv.sival_ptr);
}

static void run_signal(int depth, double secs)
{
	struct timespec limit = { .tv_sec = WAIT_LIMIT_SEC };
	double end = now_sec() + secs;
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, NOTIFY_SIGNAL);
	for (int i = 0; i < depth; i++)
		submit(&slots[i]);
	while (atomic_load(&outstanding) > 0) {
		if (sigtimedwait(&set, &si, &limit) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				die("no signal in %d s with %ld requests in flight: hang",
				    WAIT_LIMIT_SEC, atomic_load(&outstanding));
			die("sigtimedwait: %s", strerror(errno));
		}
		if (si.si_code != SI_ASYNCIO)
			die("si_code %d, want SI_ASYNCIO (%d)", si.si_code, SI_ASYNCIO);
		if (!atomic_load(&stop) && now_sec() >= end)
			atomic_store(&stop, 1);
		notified(si.si_value.sival_ptr);
	}
}

static void run_thread(int depth, double secs)
{
	struct timespec tick = { .tv_nsec = 1000 * 1000 };
	double limit;

	for (int i = 0; i < depth; i++)
		submit(&slots[i]);
	limit = now_sec() + secs;
	while (now_sec() < limit)
		nanosleep(&tick, NULL);
	atomic_store(&stop, 1);
	limit = now_sec() + WAIT_LIMIT_SEC;
	while (atomic_load(&outstanding) > 0) {
		if (now_sec() > limit)
			die("%ld requests not notified after %d s: hang",
			    atomic_load(&outstanding), WAIT_LIMIT_SEC);
		nanosleep(&tick, NULL);
	}
}

int main(int argc, char **argv)
{
	struct stat st;
	sigset_t set;
	double secs, t0, c0, elapsed;
	long depth;

	if (argc != 5)
		die("usage: notify signal|thread FILE DEPTH SECONDS");
	if (!strcmp(argv[1], "thread"))
		use_thread = 1;
	else if (strcmp(argv[1], "signal"))
		die("unknown mode '%s'", argv[1]);
	depth = parse_long(argv[3], "DEPTH");
	if (depth < 1 || depth > MAX_DEPTH)
		die("DEPTH must be 1..%d", MAX_DEPTH);
	secs = parse_double(argv[4], "SECONDS");

	/* Blocked before any thread exists, so every thread inherits it. */
	sigemptyset(&set);
	sigaddset(&set, NOTIFY_SIGNAL);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		die("pthread_sigmask failed");
	fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		die("open %s: %s", argv[2], strerror(errno));
	if (fstat(fd, &st))
		die("fstat: %s", strerror(errno));
	nblocks = st.st_size / BLOCK;
	if (nblocks < 1)
		die("%s is smaller than one block", argv[2]);
	nslots = depth;
	slots = calloc(depth, sizeof(*slots));
	if (!slots)
		die("out of memory");
	for (long i = 0; i < depth; i++) {
		slots[i].buf = aligned_alloc(BLOCK, BLOCK);
		if (!slots[i].buf)
			die("out of memory");
	}
	atomic_store(&outstanding, depth);

	t0 = now_sec();
	c0 = cpu_sec();
	if (use_thread)
		run_thread(depth, secs);
	else
		run_signal(depth, secs);
	elapsed = now_sec() - t0;

	if (atomic_load(&completed) != atomic_load(&submitted))
		die("%ld requests submitted, %ld notified", atomic_load(&submitted),
		    atomic_load(&completed));
	printf("{\"mode\": \"%s\", \"depth\": %ld, \"completions\": %ld, \"seconds\": %.6f, "
	       "\"per_sec\": %.1f, \"cpu_us_per_completion\": %.3f}\n",
	       argv[1], depth, atomic_load(&completed), elapsed, atomic_load(&completed) / elapsed,
	       (cpu_sec() - c0) * 1e6 / atomic_load(&completed));
	return 0;
}
