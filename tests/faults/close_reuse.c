/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A descriptor closed while its requests are pending, and its number taken at once by a new
 * open() of another file B: no request may ever read or write B. Each request either
 * completes as if the close had not happened, or ends with ECANCELED or EBADF; B's bytes,
 * size and file offset stay as they were.
 *
 * Four shapes, each repeated, each with requests the library holds in its own queues behind
 * an earlier one on the descriptor (the dangerous case: they are issued later, by number):
 *   fsync   file writes queued behind an aio_fsync;
 *   append  writes on an O_APPEND descriptor (issued one after another);
 *   pread   reads of a pipe (served in submission order), then data arrives on the pipe;
 *   pwrite  writes to a full pipe (written whole, in order), then the pipe is drained.
 */
#include "faults.h"

#define NREQ 8
#define CHUNK 4096
#define B_SIZE (NREQ * CHUNK * 4)
#define ROUNDS 25

static char path_b[4096];
static struct aiocb cbs[NREQ + 1];
static char bufs[NREQ + 1][CHUNK];
static int outcome[3]; /* completed, ECANCELED, EBADF */

/* A fresh file B of B_SIZE 'B' bytes, opened with flags; it must get number `want`. */
static int open_b(int flags, int want)
{
	int fd = open(path_b, flags);

	SYSCHECK(fd);
	if (fd != want) {
		/* Something else took the number first: make B take it, as a reuse would. */
		SYSCHECK(dup2(fd, want));
		close(fd);
		fd = want;
	}
	return fd;
}

static void reset_b(void)
{
	static char fill[B_SIZE];
	int fd = open(path_b, O_RDWR | O_TRUNC);

	SYSCHECK(fd);
	memset(fill, 'B', sizeof(fill));
	if (pwrite(fd, fill, sizeof(fill), 0) != (ssize_t)sizeof(fill))
		FAIL("cannot fill file B");
	close(fd);
}

/*
 * A request that touched B is reported once per shape and fails the test at the end, so
 * one run shows every shape that goes wrong.
 */
static int violations;
static unsigned reported; /* bit per shape */

__attribute__((format(printf, 2, 3))) static void violation(int shape, const char *fmt, ...)
{
	va_list ap;

	violations++;
	if (reported & (1u << shape))
		return;
	reported |= 1u << shape;
	fprintf(stderr, "VIOLATION %s: ", test_name());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *const shapes[] = {"fsync", "append", "pread", "pwrite"};

static void check_b(int fd, int shape, int round)
{
	static char got[B_SIZE + 1];
	struct stat st;
	ssize_t n;
	off_t pos = lseek(fd, 0, SEEK_CUR);

	if (pos != 0)
		violation(shape, "%s round %d: file B's offset moved to %ld: a request used the "
			  "reused number", shapes[shape], round, (long)pos);
	SYSCHECK(stat(path_b, &st));
	if (st.st_size != B_SIZE)
		violation(shape, "%s round %d: file B's size is %ld, was %d: a request wrote to "
			  "the new file that took the closed descriptor's number", shapes[shape],
			  round, (long)st.st_size, B_SIZE);
	int rfd = open(path_b, O_RDONLY);

	SYSCHECK(rfd);
	n = pread(rfd, got, sizeof(got), 0);
	close(rfd);
	for (int i = 0; i < n && i < B_SIZE; i++) {
		if (got[i] != 'B') {
			violation(shape, "%s round %d: file B's byte %d is 0x%02x, not 'B': a "
				  "request wrote to the new file that took the closed descriptor's "
				  "number", shapes[shape], round, i, (unsigned char)got[i]);
			break;
		}
	}
}

/* Each request ends as if the close had not happened, or cancelled, or EBADF. */
static void check_req(struct aiocb *cb, ssize_t want, const char *shape, int round, int i)
{
	char what[96];
	int err;
	ssize_t ret;

	snprintf(what, sizeof(what), "%s round %d request %d", shape, round, i);
	err = wait_done(cb, what);
	ret = aio_return(cb);
	if (err == 0) {
		EXPECT(ret == want, "%s: completed with %zd bytes, expected %zd", what, ret, want);
		outcome[0]++;
	} else {
		EXPECT(err == ECANCELED || err == EBADF,
		       "%s: expected success, ECANCELED or EBADF, got %s", what, errname(err));
		EXPECT(ret == -1, "%s: aio_return %zd with aio_error %s", what, ret,
		       errname(err));
		outcome[err == ECANCELED ? 1 : 2]++;
	}
}

static void shape_fsync(int round)
{
	int fd = tmp_file(O_RDWR), b;

	aiocb_prep(&cbs[NREQ], fd, NULL, 0, 0);
	for (int i = 0; i < NREQ; i++) {
		memset(bufs[i], 'a' + i, CHUNK);
		aiocb_prep(&cbs[i], fd, bufs[i], CHUNK, (off_t)i * CHUNK);
		if (i == 1)
			EXPECT_OK(aio_fsync(O_SYNC, &cbs[NREQ]));
		EXPECT_OK(aio_write(&cbs[i]));
	}
	SYSCHECK(close(fd));
	b = open_b(O_RDWR, fd);
	for (int i = 0; i < NREQ; i++)
		check_req(&cbs[i], CHUNK, "fsync", round, i);
	check_req(&cbs[NREQ], 0, "fsync", round, NREQ);
	check_b(b, 0, round);
	close(b);
}

static void shape_append(int round)
{
	int fd = tmp_file(O_WRONLY | O_APPEND), b;

	for (int i = 0; i < NREQ; i++) {
		memset(bufs[i], 'a' + i, CHUNK);
		aiocb_prep(&cbs[i], fd, bufs[i], CHUNK, 0);
		EXPECT_OK(aio_write(&cbs[i]));
	}
	SYSCHECK(close(fd));
	b = open_b(O_RDWR | O_APPEND, fd);
	for (int i = 0; i < NREQ; i++)
		check_req(&cbs[i], CHUNK, "append", round, i);
	check_b(b, 1, round);
	close(b);
}

static void shape_pipe_read(int round)
{
	int p[2], keep, b;
	static char data[NREQ * CHUNK];

	SYSCHECK(pipe(p));
	for (int i = 0; i < NREQ; i++) {
		memset(bufs[i], 0, CHUNK);
		aiocb_prep(&cbs[i], p[0], bufs[i], CHUNK, 0);
		EXPECT_OK(aio_read(&cbs[i]));
	}
	keep = dup(p[0]);
	SYSCHECK(keep);
	SYSCHECK(close(p[0]));
	b = open_b(O_RDONLY, p[0]);
	/* Enough for every read; whatever a read gets must come from the pipe. */
	memset(data, 'p', sizeof(data));
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	if (write(p[1], data, sizeof(data)) < 0 && errno != EAGAIN)
		FAIL("write to the pipe: %s", strerror(errno));
	for (int i = 0; i < NREQ; i++) {
		char what[64];
		int err;

		snprintf(what, sizeof(what), "pread round %d request %d", round, i);
		err = aio_error(&cbs[i]);
		if (err == EINPROGRESS) {
			/* Keep the pipe fed: a read issued to the pipe must finish. */
			fcntl(p[1], F_SETFL, O_NONBLOCK);
			if (write(p[1], data, sizeof(data)) < 0 && errno != EAGAIN)
				FAIL("write to the pipe: %s", strerror(errno));
		}
		err = wait_done(&cbs[i], what);
		ssize_t ret = aio_return(&cbs[i]);

		if (err == 0) {
			EXPECT(ret > 0 && ret <= CHUNK, "%s: returned %zd", what, ret);
			for (ssize_t k = 0; k < ret; k++) {
				if (bufs[i][k] != 'p') {
					violation(2, "%s: byte %zd is '%c': the read was served "
						  "from the new file that took the closed pipe's "
						  "number", what, k, bufs[i][k]);
					break;
				}
			}
			outcome[0]++;
		} else {
			EXPECT(err == ECANCELED || err == EBADF,
			       "%s: expected success, ECANCELED or EBADF, got %s", what,
			       errname(err));
			outcome[err == ECANCELED ? 1 : 2]++;
		}
	}
	check_b(b, 2, round);
	close(b);
	close(keep);
	close(p[1]);
}

static void shape_pipe_write(int round)
{
	int p[2], keep, b;
	char drain[65536];

	SYSCHECK(pipe(p));
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	while (write(p[1], drain, sizeof(drain) > 4096 ? 4096 : sizeof(drain)) > 0)
		;
	fcntl(p[1], F_SETFL, 0);
	for (int i = 0; i < NREQ; i++) {
		memset(bufs[i], 'a' + i, CHUNK);
		aiocb_prep(&cbs[i], p[1], bufs[i], CHUNK, 0);
		EXPECT_OK(aio_write(&cbs[i]));
	}
	keep = dup(p[1]);
	SYSCHECK(keep);
	SYSCHECK(close(p[1]));
	b = open_b(O_WRONLY, p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	int64_t deadline = now_ms() + WAIT_DONE_MS;
	for (;;) {
		bool pending = false;

		for (int i = 0; i < NREQ; i++)
			pending |= aio_error(&cbs[i]) == EINPROGRESS;
		if (!pending)
			break;
		EXPECT(now_ms() < deadline, "pwrite round %d: writes still pending after %d ms",
		       round, WAIT_DONE_MS);
		if (read(p[0], drain, sizeof(drain)) <= 0)
			sleep_ms(1);
	}
	for (int i = 0; i < NREQ; i++)
		check_req(&cbs[i], CHUNK, "pwrite", round, i);
	check_b(b, 3, round);
	close(b);
	close(keep);
	close(p[0]);
}

static int test(void)
{
	int fd;

	snprintf(path_b, sizeof(path_b), "%s/posixaio-test-B-XXXXXX", tmp_dir());
	fd = mkstemp(path_b);
	SYSCHECK(fd);
	close(fd);
	for (int round = 0; round < ROUNDS; round++) {
		reset_b();
		shape_fsync(round);
		reset_b();
		shape_append(round);
		reset_b();
		shape_pipe_read(round);
		reset_b();
		shape_pipe_write(round);
	}
	unlink(path_b);
	printf("requests: %d completed, %d cancelled, %d EBADF\n", outcome[0], outcome[1],
	       outcome[2]);
	EXPECT(violations == 0, "%d request(s) read or wrote the file that reused a closed "
	       "descriptor's number (first of each shape above)", violations);
	return 0;
}

static void cleanup(void)
{
	if (path_b[0])
		unlink(path_b);
}

static int test_with_cleanup(void)
{
	atexit(cleanup);
	return test();
}

TEST_MAIN(test_with_cleanup)
