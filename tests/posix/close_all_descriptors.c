/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program that closes every descriptor it did not open itself after its first AIO calls
 * (as daemons do) and reuses the numbers must see no difference: the library never reads,
 * writes or closes a number that is the program's now, and every request completes exactly
 * once, those already under way included. glibc's AIO holds no descriptors at all.
 *
 * Each round starts requests of every kind (a read of a file, large enough to be handed to
 * the library's thread; a callback; a read pending on a pipe of the program's), then takes
 * the library's numbers away one way a program does: close_range(2), a close(2) loop, or
 * dup2(2) of the program's pipes over them. Every freed number is then taken by a pipe of
 * the program's holding a marker. Then more requests, each waited for in a different way,
 * and the pending read gets its data. At the end no marker may have lost a byte, no pipe
 * may hold a byte the program did not write, and no request may be left in progress.
 *
 * Last, a vfork() child closes every descriptor before it exits, as a spawning program's
 * child does before exec: that is the child's table, not the parent's, and the parent's
 * library must keep its descriptors (it would leak them, making new ones each time).
 */
#include "common.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <pthread.h>
#include <sys/syscall.h>

#define MAXFD 96
#define LEN (256 * 1024)
#define MARK "program!"

static int base; /* numbers from here up are the library's or free */
static int mark_rd[MAXFD], mark_wr[MAXFD], nmark;
static char *file_data, *buf;
static int file_fd;
static int calls;
static pthread_mutex_t calls_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_done(union sigval sv)
{
	(void)sv;
	pthread_mutex_lock(&calls_lock);
	calls++;
	pthread_mutex_unlock(&calls_lock);
}

static int callbacks(void)
{
	int n;

	pthread_mutex_lock(&calls_lock);
	n = calls;
	pthread_mutex_unlock(&calls_lock);
	return n;
}

static void read_file(struct aiocb *cb, size_t len, off_t off, bool callback)
{
	aiocb_prep(cb, file_fd, buf, len, off);
	if (callback) {
		cb->aio_sigevent.sigev_notify = SIGEV_THREAD;
		cb->aio_sigevent.sigev_notify_function = on_done;
	}
	EXPECT_OK(aio_read(cb));
}

static void check_read(struct aiocb *cb, size_t len, off_t off, const char *what)
{
	expect_done_ok(cb, (ssize_t)len, what);
	EXPECT(memcmp(buf, file_data + off, len) == 0, "%s: wrong data", what);
}

/* Every number from base up that is free now becomes one end of a pipe holding a marker. */
static void take_numbers(void)
{
	for (;;) {
		int p[2];

		if (nmark >= MAXFD)
			return;
		SYSCHECK(pipe(p));
		if (p[0] >= base + MAXFD || p[1] >= base + MAXFD) {
			close(p[0]);
			close(p[1]);
			return;
		}
		SYSCHECK(write(p[1], MARK, sizeof(MARK)));
		mark_rd[nmark] = p[0];
		mark_wr[nmark++] = p[1];
	}
}

static void check_marks(const char *what)
{
	for (int i = 0; i < nmark; i++) {
		char got[sizeof(MARK) + 16];
		ssize_t n;

		SYSCHECK(fcntl(mark_rd[i], F_SETFL, O_NONBLOCK));
		n = read(mark_rd[i], got, sizeof(got));
		EXPECT(n == (ssize_t)sizeof(MARK) && memcmp(got, MARK, sizeof(MARK)) == 0,
		       "%s: the program's pipe at %d/%d holds %zd bytes, not its %zu-byte marker: "
		       "the library read or wrote a number that is not its own",
		       what, mark_rd[i], mark_wr[i], n, sizeof(MARK));
		SYSCHECK(write(mark_wr[i], MARK, sizeof(MARK)));
	}
}

static void lose_descriptors(int how)
{
	switch (how) {
	case 0:
		SYSCHECK(close_range((unsigned)base, ~0U, 0));
		break;
	case 1:
		for (int fd = base; fd < base + 4 * MAXFD; fd++)
			close(fd);
		break;
	default: {
		int p[2];

		/* The program's own pipe over every number: the library's are closed by it. */
		SYSCHECK(pipe(p));
		for (int fd = base; fd < base + 4 * MAXFD; fd++) {
			if (fd != p[0] && fd != p[1])
				SYSCHECK(dup2(fd % 2 ? p[1] : p[0], fd));
		}
		for (int fd = base; fd < base + 4 * MAXFD; fd++)
			close(fd);
		break;
	}
	}
}

static void round_trip(int how, int pipe_rd, int pipe_wr)
{
	static const char *names[] = { "close_range", "close loop", "dup2 over" };
	struct aiocb before, pending, after[3];
	const struct aiocb *list[1];
	char pbuf[16] = { 0 };
	char what[96];
	int err, cb0;

	/* Requests that are out when the descriptors go. */
	cb0 = callbacks();
	read_file(&before, LEN, 4096, true);
	aiocb_prep(&pending, pipe_rd, pbuf, sizeof(pbuf), 0);
	EXPECT_OK(aio_read(&pending));
	list[0] = &pending;
	{
		struct timespec ts = { 0, 5 * 1000000L };

		EXPECT(aio_suspend(list, 1, &ts) == -1 && errno == EAGAIN,
		       "%s: a read of an empty pipe did not wait", names[how]);
	}
	lose_descriptors(how);
	nmark = 0;
	take_numbers();
	EXPECT(nmark > 0, "no number was free to take");

	/* Finished, or cancelled if the library lost the file it held for it: never lost. */
	snprintf(what, sizeof(what), "%s: the read out when the descriptors went", names[how]);
	if (wait_done(&before, what) == ECANCELED)
		EXPECT(aio_return(&before) == -1, "%s: cancelled, yet a count", what);
	else
		check_read(&before, LEN, 4096, what);

	/* New requests, waited for by aio_suspend, by aio_error, and by a callback. */
	read_file(&after[0], LEN, 8192, false);
	snprintf(what, sizeof(what), "%s: a read after", names[how]);
	check_read(&after[0], LEN, 8192, what);
	read_file(&after[1], 512, 100, false);
	while (aio_error(&after[1]) == EINPROGRESS)
		sleep_ms(1);
	check_read(&after[1], 512, 100, what);
	read_file(&after[2], LEN, 0, true);
	check_read(&after[2], LEN, 0, what);
	for (int64_t end = now_ms() + WAIT_DONE_MS; callbacks() < cb0 + 2 && now_ms() < end;)
		sleep_ms(1);
	EXPECT(callbacks() == cb0 + 2, "%s: %d callbacks of 2 ran", names[how], callbacks() - cb0);

	/* The read that was pending finishes with its data, or was cancelled: never lost. */
	SYSCHECK(write(pipe_wr, "pipe-data", 9));
	snprintf(what, sizeof(what), "%s: the pipe read pending when the descriptors went",
		 names[how]);
	err = wait_done(&pending, what);
	if (err == 0) {
		EXPECT(aio_return(&pending) == 9 && memcmp(pbuf, "pipe-data", 9) == 0,
		       "%s: wrong result", what);
	} else {
		char drain[16];

		EXPECT(err == ECANCELED && aio_return(&pending) == -1, "%s: aio_error %s", what,
		       errname(err));
		SYSCHECK(fcntl(pipe_rd, F_SETFL, O_NONBLOCK));
		EXPECT(read(pipe_rd, drain, sizeof(drain)) == 9, "%s: cancelled, yet it took data",
		       what);
		SYSCHECK(fcntl(pipe_rd, F_SETFL, 0));
	}
	snprintf(what, sizeof(what), "after %s", names[how]);
	check_marks(what);
}

static int open_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Apart, so that vfork() shares no variable of the caller's frame. */
static __attribute__((noinline)) void child_closes_all(void)
{
	pid_t pid = vfork();

	if (pid == 0) {
		close_range(3, ~0U, 0);
		_exit(0);
	}
	SYSCHECK(pid);
	SYSCHECK(waitpid(pid, NULL, 0));
}

static void vfork_children_close_all(void)
{
	struct aiocb cb;
	int before, after;

	read_file(&cb, 512, 0, false);
	check_read(&cb, 512, 0, "before the vfork children");
	before = open_count();
	if (before < 0) {
		fprintf(stderr, "*** %s: no /proc/self/fd here: the vfork part is not run ***\n",
			test_name());
		return;
	}
	for (int i = 0; i < 20; i++) {
		child_closes_all();
		read_file(&cb, 512, 512, false);
		check_read(&cb, 512, 512, "after a vfork child closed its descriptors");
	}
	after = open_count();
	EXPECT(after == before,
	       "%d descriptors open before 20 vfork children closed theirs, %d after: the library "
	       "took the child's close for its own",
	       before, after);
}

static int body(void)
{
	int p[2];

	file_data = malloc(4 * LEN);
	buf = malloc(LEN);
	if (!file_data || !buf)
		FAIL("out of memory");
	for (size_t i = 0; i < 4 * LEN; i++)
		file_data[i] = (char)(i * 7 + 3);
	file_fd = tmp_file(O_RDWR);
	SYSCHECK(write(file_fd, file_data, 4 * LEN));
	SYSCHECK(pipe(p));
	base = (p[0] > p[1] ? p[0] : p[1]) + 1;
	if (file_fd >= base)
		FAIL("descriptor layout unexpected");

	for (int round = 0; round < 2; round++) {
		for (int how = 0; how < 3; how++) {
			round_trip(how, p[0], p[1]);
			/* The markers go before the next round takes its numbers away. */
			for (int i = 0; i < nmark; i++) {
				close(mark_rd[i]);
				close(mark_wr[i]);
			}
			nmark = 0;
		}
	}
	vfork_children_close_all();
	printf("library descriptors closed 6 times: no request lost, no program pipe touched\n");
	return 0;
}

TEST_MAIN(body)
