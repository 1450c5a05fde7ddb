/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared helpers for the POSIX AIO conformance tests in this folder.
 *
 * Every test is a standalone program written against the system <aio.h> only, so the same
 * source runs against glibc, against the library through LD_PRELOAD, and linked with
 * -lposixaio. Exit status: 0 pass, 1 fail (with what was expected and what happened on
 * stderr), 77 skip (with the reason on stderr).
 *
 * The test body runs in a child process watched by the parent: a hang, a crash or a stray
 * signal becomes a clear failure instead of a stuck run, and the body is free to use any
 * signal, alarm() included. POSIX_TEST_NO_FORK=1 runs the body directly (for a debugger).
 */
#ifndef POSIX_TEST_COMMON_H
#define POSIX_TEST_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <aio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Seconds the supervisor lets a test body run before it kills it and fails. */
#ifndef TEST_TIMEOUT
#define TEST_TIMEOUT 15
#endif

/*
 * Every deadline is multiplied by TEST_TIMEOUT_SCALE from the environment (default 1), for
 * slow runs such as under valgrind. Deadlines only turn a hang into a failure: no test asserts
 * that anything is fast.
 */
static inline int time_scale(void)
{
	const char *s = getenv("TEST_TIMEOUT_SCALE");
	int scale = s ? atoi(s) : 1;

	return scale > 1 ? scale : 1;
}

/* Longest wait for one request that should complete (it has its data, or is a local file). */
#define WAIT_DONE_MS (5000 * time_scale())

/* glibc names this member only inside the union. */
#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static inline const char *test_name(void)
{
	return program_invocation_short_name;
}

__attribute__((format(printf, 3, 4), noreturn, unused)) static void
fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s (%s:%d): ", test_name(), file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(NULL);
	exit(1);
}

__attribute__((format(printf, 1, 2), noreturn, unused)) static void skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n*** SKIP %s: cannot run here: ", test_name());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" ***\n\n", stderr);
	fflush(NULL);
	exit(77);
}

/*
 * ThreadSanitizer's runtime starts a thread of its own and delivers queued signals late and
 * merged (one pending per signal number), so counts of threads or of realtime signals mean
 * nothing under it. Such tests say so and skip there; they run in every other build.
 */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifdef UNDER_TSAN
#define SKIP_UNDER_TSAN(what) skip("ThreadSanitizer changes %s", what)
#else
#define SKIP_UNDER_TSAN(what) ((void)0)
#endif

/*
 * AddressSanitizer's allocator (clang 14, Debian 12) is not fork-safe: a thread that is
 * allocating when another forks (a thread of the library just starting, say) leaves the lock
 * held in the child, where the next allocation waits forever. glibc's malloc has no such
 * problem. Under it, tests that fork let the other threads settle first (fork_settled()).
 */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define FAIL(...) fail_at(__FILE__, __LINE__, __VA_ARGS__)

/* Fail with the message unless cond holds. */
#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			FAIL(__VA_ARGS__);                                                         \
	} while (0)

/* A setup call (not under test) returned -1: fail with its errno. */
#define SYSCHECK(call)                                                                             \
	do {                                                                                       \
		if ((call) == -1)                                                                  \
			FAIL("setup call %s failed: %s", #call, strerror(errno));                  \
	} while (0)

/* An API call under test must return 0. */
#define EXPECT_OK(call)                                                                            \
	do {                                                                                       \
		errno = 0;                                                                         \
		long ret_ = (long)(call);                                                          \
		if (ret_ != 0)                                                                     \
			FAIL("%s: expected 0, got %ld (errno %s)", #call, ret_,                    \
			     errno ? strerrorname_np(errno) : "0");                                \
	} while (0)

static inline const char *errname(int err)
{
	const char *name;

	if (err == 0)
		return "0";
	name = strerrorname_np(err);
	return name ? name : "unknown errno";
}

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* An aiocb with no notification, ready to submit. */
static inline void aiocb_prep(struct aiocb *cb, int fd, void *buf, size_t nbytes, off_t offset)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = fd;
	cb->aio_buf = buf;
	cb->aio_nbytes = nbytes;
	cb->aio_offset = offset;
	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
}

/*
 * Wait until the request is no longer in progress and return its aio_error. A request that
 * should finish (its data is there) but is still in progress after WAIT_DONE_MS fails the test
 * with a message rather than a bare timeout.
 */
__attribute__((unused)) static int wait_done(const struct aiocb *cb, const char *what)
{
	const struct aiocb *list[1] = {cb};
	int64_t deadline = now_ms() + WAIT_DONE_MS;
	int err;

	while ((err = aio_error(cb)) == EINPROGRESS) {
		struct timespec ts = {0, 100 * 1000000L};

		if (now_ms() > deadline)
			FAIL("%s: still EINPROGRESS after %d ms, expected it to complete", what,
			     WAIT_DONE_MS);
		if (aio_suspend(list, 1, &ts) == -1 && errno != EAGAIN && errno != EINTR)
			FAIL("%s: aio_suspend failed: %s", what, errname(errno));
	}
	return err;
}

/* Wait for completion and require success with exactly `want` bytes. */
__attribute__((unused)) static void expect_done_ok(struct aiocb *cb, ssize_t want, const char *what)
{
	int err = wait_done(cb, what);
	ssize_t ret;

	EXPECT(err == 0, "%s: expected aio_error 0, got %d (%s)", what, err, errname(err));
	ret = aio_return(cb);
	EXPECT(ret == want, "%s: expected aio_return %zd, got %zd", what, want, ret);
}

/* Wait for completion and require failure with `want_err`, aio_return -1. */
__attribute__((unused)) static void expect_done_err(struct aiocb *cb, int want_err,
						    const char *what)
{
	int err = wait_done(cb, what);
	ssize_t ret;

	EXPECT(err == want_err, "%s: expected aio_error %s, got %d (%s)", what, errname(want_err),
	       err, errname(err));
	ret = aio_return(cb);
	EXPECT(ret == -1, "%s: expected aio_return -1, got %zd", what, ret);
}

/*
 * The request has nothing to complete with: it must be EINPROGRESS now, and aio_suspend with a
 * short timeout must time out on it.
 */
__attribute__((unused)) static void expect_pending(const struct aiocb *cb, const char *what)
{
	const struct aiocb *list[1] = {cb};
	struct timespec ts = {0, 20 * 1000000L};
	int err = aio_error(cb);
	int ret;

	EXPECT(err == EINPROGRESS, "%s: expected EINPROGRESS (nothing to read yet), got %d (%s)",
	       what, err, errname(err));
	do {
		errno = 0;
		ret = aio_suspend(list, 1, &ts);
	} while (ret == -1 && errno == EINTR);
	EXPECT(ret == -1 && errno == EAGAIN,
	       "%s: expected aio_suspend to time out (-1/EAGAIN) on a pending request, got %d/%s",
	       what, ret, errname(errno));
	err = aio_error(cb);
	EXPECT(err == EINPROGRESS, "%s: expected still EINPROGRESS, got %d (%s)", what, err,
	       errname(err));
}

static inline const char *tmp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

/*
 * A fresh temporary file in dir, reopened with flags (O_CREAT etc. not needed) and already
 * unlinked, so it vanishes however the test ends. Returns -1 with errno if the open fails
 * (O_DIRECT may be refused); setup failures before that fail the test.
 */
__attribute__((unused)) static int tmp_file_in(const char *dir, int flags)
{
	char path[4096];
	int fd, tfd;

	snprintf(path, sizeof(path), "%s/posixaio-test-XXXXXX", dir);
	tfd = mkstemp(path);
	if (tfd == -1)
		return -1;
	fd = open(path, flags);
	int saved = errno;

	unlink(path);
	close(tfd);
	errno = saved;
	return fd;
}

/* A temporary regular file opened with flags; any failure fails the test. */
__attribute__((unused)) static int tmp_file(int flags)
{
	int fd = tmp_file_in(tmp_dir(), flags);

	if (fd == -1)
		FAIL("cannot create a temporary file in %s: %s", tmp_dir(), strerror(errno));
	return fd;
}

/*
 * Both ends of a new named FIFO, already unlinked, the read end blocking: it is opened first
 * without waiting for a writer, then made blocking again. Skips, saying why, where the
 * temporary directory holds no FIFO.
 */
__attribute__((unused)) static void fifo_open_pair(int *rfd, int *wfd)
{
	char dir[4096], path[4200];
	int fl;

	snprintf(dir, sizeof(dir), "%s/posixaio-fifo-XXXXXX", tmp_dir());
	if (!mkdtemp(dir))
		FAIL("mkdtemp in %s: %s", tmp_dir(), strerror(errno));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600) == -1) {
		int err = errno;

		rmdir(dir);
		skip("mkfifo in %s: %s", tmp_dir(), strerror(err));
	}
	*rfd = open(path, O_RDONLY | O_NONBLOCK);
	*wfd = *rfd >= 0 ? open(path, O_WRONLY) : -1;
	unlink(path);
	rmdir(dir);
	EXPECT(*rfd >= 0 && *wfd >= 0, "cannot open both ends of the FIFO: %s", strerror(errno));
	SYSCHECK(fl = fcntl(*rfd, F_GETFL));
	SYSCHECK(fcntl(*rfd, F_SETFL, fl & ~O_NONBLOCK));
}

/* A temporary regular file holding len bytes of fill(i). */
__attribute__((unused)) static int tmp_file_with(int flags, size_t len,
						 unsigned char (*fill)(size_t))
{
	int fd = tmp_file(O_RDWR | flags);
	unsigned char buf[8192];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = fill(done + i);
		if (pwrite(fd, buf, n, (off_t)done) != (ssize_t)n)
			FAIL("cannot fill the temporary file: %s", strerror(errno));
		done += n;
	}
	return fd;
}

/* The byte at offset i of the files tmp_file_with() makes for reading tests. */
__attribute__((unused)) static unsigned char pattern_byte(size_t i)
{
	return (unsigned char)((i * 131 + (i >> 8) * 7 + 17) & 0xff);
}

__attribute__((unused)) static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			FAIL("write(%d) of test data failed: %s", fd,
			     n ? strerror(errno) : "wrote 0");
		p += n;
		len -= (size_t)n;
	}
}

__attribute__((unused)) static void read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			FAIL("read(%d) of test data failed: %s", fd, n ? strerror(errno) : "EOF");
		p += n;
		len -= (size_t)n;
	}
}

/* Bytes waiting to be read on a pipe or socket. */
__attribute__((unused)) static int bytes_available(int fd)
{
	int n = -1;

	SYSCHECK(ioctl(fd, FIONREAD, &n));
	return n;
}

/* Install handler for sig with the given sa_flags (SA_SIGINFO selects the 3-argument form). */
__attribute__((unused)) static void install_handler(int sig, void *handler, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	if (flags & SA_SIGINFO)
		sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))handler;
	else
		sa.sa_handler = (void (*)(int))handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	SYSCHECK(sigaction(sig, &sa, NULL));
}

/* Wait until *counter reaches at least want; false after timeout_ms (scaled). */
__attribute__((unused)) static bool wait_counter(atomic_int *counter, int want, int timeout_ms)
{
	int64_t deadline = now_ms() + (int64_t)timeout_ms * time_scale();

	while (atomic_load(counter) < want) {
		if (now_ms() > deadline)
			return false;
		sleep_ms(1);
	}
	return true;
}

/*
 * Threads of this process. Kernel io_uring workers (iou-wrk-*, iou-sqp-*) are listed in
 * /proc/self/task too; they are not threads the program or the library created, so they are
 * counted apart. names (optional) gets the comm of every task, for messages.
 */
__attribute__((unused)) static int count_threads(int *io_workers, char *names, size_t names_len)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *de;
	int threads = 0, workers = 0;

	if (!dir)
		skip("/proc/self/task is not readable: %s", strerror(errno));
	if (names && names_len)
		names[0] = '\0';
	while ((de = readdir(dir))) {
		char path[300], comm[64] = "?";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		if (strncmp(comm, "iou-", 4) == 0)
			workers++;
		else
			threads++;
		if (names && names_len) {
			size_t used = strlen(names);

			snprintf(names + used, names_len - used, "%s%s[%s]", used ? " " : "",
				 de->d_name, comm);
		}
	}
	closedir(dir);
	if (io_workers)
		*io_workers = workers;
	return threads;
}

static inline pid_t test_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Whether every thread of the process but the caller sleeps (state S), as read in /proc. */
__attribute__((unused)) static bool others_asleep(void)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *de;
	bool asleep = true;
	pid_t self = test_gettid();

	if (!dir)
		skip("/proc/self/task is not readable: %s", strerror(errno));
	while (asleep && (de = readdir(dir))) {
		char path[300], stat[512] = "";
		const char *close_paren;
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue; /* the thread exited */
		if (!fgets(stat, sizeof(stat), f))
			stat[0] = '\0';
		fclose(f);
		close_paren = strrchr(stat, ')');
		asleep = close_paren && close_paren[1] == ' ' && close_paren[2] == 'S';
	}
	closedir(dir);
	return asleep;
}

/*
 * Queue n writes of len bytes each (byte values 1, 2, ...) at offsets 0, len, ... on a, all
 * at once (one lio_listio(LIO_NOWAIT), so that most still wait), then close a and put b's
 * file at its number (b itself is closed): that number, which now names b's file, is
 * returned. bufs holds n * len bytes; cbs and list n entries each.
 */
__attribute__((unused)) static int writes_queued_number_reused(int a, int b, struct aiocb *cbs,
							       struct aiocb **list,
							       unsigned char *bufs, int n,
							       size_t len)
{
	int num = a;

	for (int i = 0; i < n; i++) {
		memset(bufs + (size_t)i * len, 1 + i, len);
		aiocb_prep(&cbs[i], a, bufs + (size_t)i * len, len, (off_t)(i * len));
		cbs[i].aio_lio_opcode = LIO_WRITE;
		list[i] = &cbs[i];
	}
	if (lio_listio(LIO_NOWAIT, list, n, NULL) != 0)
		FAIL("lio_listio of %d writes: %s", n, strerror(errno));
	SYSCHECK(close(a));
	SYSCHECK(a = fcntl(b, F_DUPFD, num));
	EXPECT(a == num, "the second file took number %d, not %d", a, num);
	SYSCHECK(close(b));
	return num;
}

/*
 * The n writes writes_queued_number_reused() queued: each is done whole or cancelled (which
 * close() allows), and a done one's bytes are in the first file, read through keep (a
 * descriptor of it kept aside) into back (len bytes, aligned as the file needs). Returns how
 * many were done.
 */
__attribute__((unused)) static int expect_queued_writes_landed(int keep, struct aiocb *cbs,
							       int n, size_t len,
							       unsigned char *back)
{
	int done = 0;

	for (int i = 0; i < n; i++) {
		int err = wait_done(&cbs[i], "a write queued before the close");
		ssize_t ret = aio_return(&cbs[i]);

		EXPECT((err == 0 && ret == (ssize_t)len) || (err == ECANCELED && ret == -1),
		       "write %d queued before the close: aio_error %s, aio_return %zd", i,
		       errname(err), ret);
		if (err)
			continue;
		done++;
		SYSCHECK(pread(keep, back, len, (off_t)((size_t)i * len)));
		for (size_t k = 0; k < len; k++) {
			if (back[k] != (unsigned char)(1 + i)) {
				EXPECT(false,
				       "write %d done, but byte %zu of its block in the first "
				       "file is %#x, not %#x",
				       i, k, back[k], (unsigned char)(1 + i));
				break;
			}
		}
	}
	return done;
}

/*
 * fork(), under AddressSanitizer only once every other thread has slept for two looks 10 ms
 * apart (see UNDER_ASAN), so that none is inside the allocator. Elsewhere, fork() at once:
 * forking while the library's threads run is part of what the tests check.
 */
__attribute__((unused)) static pid_t fork_settled(void)
{
#ifdef UNDER_ASAN
	int quiet = 0;

	for (int i = 0; i < 500 && quiet < 2; i++) {
		quiet = others_asleep() ? quiet + 1 : 0;
		if (quiet < 2)
			usleep(10000);
	}
	if (quiet < 2)
		FAIL("fork_settled: a thread of this process kept running for 5 s");
#endif
	fflush(NULL);
	return fork();
}

/*
 * Run body in a child and turn its end into this process's exit status: its own exit code
 * when it exits (0, 1, 77), a failure when it is killed by a signal or outlives `seconds`.
 */
static int supervise(int (*body)(void), unsigned seconds)
{
	sigset_t chld, old;
	siginfo_t si;
	int status;
	pid_t pid, parent = getpid();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("POSIX_TEST_NO_FORK"))
		return body();
	seconds *= (unsigned)time_scale();
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	fflush(NULL);
	pid = fork();
	if (pid == -1) {
		fprintf(stderr, "FAIL %s: fork of the test body failed: %s\n", test_name(),
			strerror(errno));
		return 1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		exit(body());
	}

	struct timespec left = {seconds, 0};
	int64_t deadline = now_ms() + (int64_t)seconds * 1000;

	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		int64_t rem = deadline - now_ms();

		if (rem <= 0) {
			fprintf(stderr,
				"FAIL %s: the test did not finish within %u s (a request or a wait "
				"hung); killed\n",
				test_name(), seconds);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 1;
		}
		left.tv_sec = rem / 1000;
		left.tv_nsec = (rem % 1000) * 1000000L;
		sigtimedwait(&chld, &si, &left);
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "FAIL %s: the test was killed by signal %d (%s)\n", test_name(),
			WTERMSIG(status), strsignal(WTERMSIG(status)));
		return 1;
	}
	status = WEXITSTATUS(status);
	if (status == 0)
		printf("PASS %s\n", test_name());
	else if (status != 1 && status != 77) {
		fprintf(stderr, "FAIL %s: unexpected exit status %d\n", test_name(), status);
		return 1;
	}
	return status;
}

#define TEST_MAIN(body)                                                                            \
	int main(void)                                                                             \
	{                                                                                          \
		return supervise(body, TEST_TIMEOUT);                                              \
	}

#endif
