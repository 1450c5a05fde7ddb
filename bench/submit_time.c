// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * submit_time: how long the submitting call holds the caller.
 *
 * usage: submit_time read|lio FILE SIZE REPS
 *
 * "read": one aio_read of SIZE bytes; "lio": one lio_listio(LIO_NOWAIT) of LIO_COUNT reads of
 * SIZE bytes each, at consecutive offsets.  Each of the REPS repetitions times the call alone
 * (CLOCK_MONOTONIC just before and just after it), then waits for every request with
 * aio_suspend, checks its result and its data, and only then starts the next repetition, so
 * no request of one repetition is in flight while the next is timed.
 *
 * Nothing is dropped from the page cache: the range is read once with pread before anything is
 * timed, and one untimed submission (which also starts the AIO implementation: glibc's worker
 * threads, the library's engine) precedes the timed ones.  The buffers are touched before, so
 * no page fault is timed.
 *
 * Prints one JSON line: median, minimum and maximum of the time in the call, and the median
 * time from the call to the completion of its last request (for context: the work is still
 * done, somewhere).
 */
#include <aio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define LIO_COUNT 10
#define WAIT_LIMIT_SEC 30

static int fd;
static size_t size;
static int count;
static struct aiocb cbs[LIO_COUNT];
static struct aiocb *list[LIO_COUNT];
static char *bufs[LIO_COUNT];

static double ts_sec(const struct timespec *ts)
{
	return ts->tv_sec + ts->tv_nsec * 1e-9;
}

static void prepare(void)
{
	for (int i = 0; i < count; i++) {
		struct aiocb *cb = &cbs[i];

		memset(cb, 0, sizeof(*cb));
		cb->aio_fildes = fd;
		cb->aio_buf = bufs[i];
		cb->aio_nbytes = size;
		cb->aio_offset = (off_t)i * (off_t)size;
		cb->aio_lio_opcode = LIO_READ;
		cb->aio_sigevent.sigev_notify = SIGEV_NONE;
		list[i] = cb;
		/* A stale buffer must not pass the check. */
		memset(bufs[i], 0xa5, sizeof(uint64_t));
		memset(bufs[i] + size - sizeof(uint64_t), 0xa5, sizeof(uint64_t));
	}
}

static void submit(int lio)
{
	if (lio) {
		if (lio_listio(LIO_NOWAIT, list, count, NULL))
			die("lio_listio of %d x %zu bytes: %s", count, size, strerror(errno));
	} else if (aio_read(&cbs[0])) {
		die("aio_read of %zu bytes: %s", size, strerror(errno));
	}
}

/* Every request done, whole and right. */
static void wait_all(void)
{
	for (int i = 0; i < count; i++) {
		const struct aiocb *one[1] = {&cbs[i]};
		struct timespec limit = {.tv_sec = WAIT_LIMIT_SEC};
		ssize_t ret;
		int err;

		while ((err = aio_error(&cbs[i])) == EINPROGRESS) {
			if (aio_suspend(one, 1, &limit) && errno == EAGAIN)
				die("request %d: no completion in %d s", i, WAIT_LIMIT_SEC);
		}
		if (err)
			die("request %d failed: %s", i, strerror(err));
		ret = aio_return(&cbs[i]);
		if (ret != (ssize_t)size)
			die("request %d: aio_return %zd, want %zu", i, ret, size);
		check_block(bufs[i], cbs[i].aio_offset);
		check_block(bufs[i] + size - sizeof(uint64_t),
			    cbs[i].aio_offset + (off_t)(size - sizeof(uint64_t)));
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, long n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Into the page cache, by the caller and untimed. */
static void warm(void)
{
	for (int i = 0; i < count; i++) {
		ssize_t ret = pread(fd, bufs[i], size, (off_t)i * (off_t)size);

		if (ret != (ssize_t)size)
			die("pread to warm the cache: %zd (%s)", ret,
			    ret < 0 ? strerror(errno) : "short");
		check_block(bufs[i], (off_t)i * (off_t)size);
	}
}

int main(int argc, char **argv)
{
	struct timespec t0, t1, t2;
	double *in_call, *to_done;
	struct stat st;
	long reps;
	int lio;

	if (argc != 5)
		die("usage: submit_time read|lio FILE SIZE REPS");
	if (!strcmp(argv[1], "read"))
		lio = 0;
	else if (!strcmp(argv[1], "lio"))
		lio = 1;
	else
		die("mode must be read or lio, not '%s'", argv[1]);
	size = (size_t)parse_long(argv[3], "SIZE");
	reps = parse_long(argv[4], "REPS");
	count = lio ? LIO_COUNT : 1;
	if (size < 2 * sizeof(uint64_t) || size % sizeof(uint64_t) || reps < 1)
		die("SIZE must be a multiple of 8 of at least 16 and REPS at least 1");
	fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		die("open %s: %s", argv[2], strerror(errno));
	if (fstat(fd, &st))
		die("fstat %s: %s", argv[2], strerror(errno));
	if ((unsigned long long)st.st_size < (unsigned long long)count * size)
		die("%s holds %jd bytes, needs %zu", argv[2], (intmax_t)st.st_size, count * size);
	for (int i = 0; i < count; i++) {
		bufs[i] = malloc(size);
		if (!bufs[i])
			die("no memory for %d buffers of %zu bytes", count, size);
		memset(bufs[i], 0, size);
	}
	in_call = calloc(reps, sizeof(*in_call));
	to_done = calloc(reps, sizeof(*to_done));
	if (!in_call || !to_done)
		die("no memory");

	warm();
	prepare();
	submit(lio);
	wait_all();
	for (long r = 0; r < reps; r++) {
		prepare();
		clock_gettime(CLOCK_MONOTONIC, &t0);
		submit(lio);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		wait_all();
		clock_gettime(CLOCK_MONOTONIC, &t2);
		in_call[r] = ts_sec(&t1) - ts_sec(&t0);
		to_done[r] = ts_sec(&t2) - ts_sec(&t0);
	}
	double done_med = median(to_done, reps);
	double call_med = median(in_call, reps); /* sorts in_call */

	printf("{\"mode\": \"%s\", \"size\": %zu, \"requests\": %d, \"reps\": %ld, "
	       "\"submit_us\": %.3f, \"submit_us_min\": %.3f, \"submit_us_max\": %.3f, "
	       "\"done_us\": %.3f}\n",
	       argv[1], size, count, reps, call_med * 1e6, in_call[0] * 1e6,
	       in_call[reps - 1] * 1e6, done_med * 1e6);
	return 0;
}
