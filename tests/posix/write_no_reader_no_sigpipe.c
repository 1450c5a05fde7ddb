/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An aio_write to a pipe, FIFO or socket whose reader is gone completes with EPIPE (or a
 * partial count) and raises no SIGPIPE: glibc's worker threads block every signal, so a
 * program that leaves SIGPIPE at its default disposition lives on. Here SIGPIPE stays
 * SIG_DFL throughout: the library sending one would kill the test.
 *
 * Three rounds: SIGPIPE unblocked (the process must live); SIGPIPE blocked in this thread
 * (nothing may be left pending afterwards); and blocked with one the test raised itself
 * first (that one must still be pending, and only it). Cases: a pipe, a FIFO, a stream and a
 * seqpacket socketpair, a datagram socketpair (ECONNREFUSED there, still no signal), a
 * vectored write where the library has aio_writev, and a write pending on a full pipe when
 * the reader closes.
 *
 * The faults suite runs it again under tests/faults/inject.so with INJECT_NOSIGNAL=1, which
 * refuses the library's RWF_NOSIGNAL writes as a kernel before Linux 6.18 does; it then also
 * checks that the refusal happened.
 */
#include "common.h"

#include <dlfcn.h>
#include <sys/uio.h>

#define BIG (1024 * 1024)

static char *big;
static int (*writev_fn)(struct aiocb *);

/* The write's result: EPIPE (or what else is allowed), or a partial count. */
static void expect_broken(struct aiocb *w, int other_err, const char *what)
{
	int err = wait_done(w, what);
	ssize_t ret = aio_return(w);

	EXPECT((err == EPIPE || (other_err && err == other_err)) && ret == -1,
	       "%s: aio_error %s, aio_return %zd; expected EPIPE%s%s", what, errname(err), ret,
	       other_err ? " or " : "", other_err ? errname(other_err) : "");
}

static void write_to(int fd, int other_err, const char *what)
{
	struct aiocb w;

	aiocb_prep(&w, fd, big, 16, 0);
	EXPECT_OK(aio_write(&w));
	expect_broken(&w, other_err, what);
}

static void writev_to(int fd, const char *what)
{
	struct iovec v[2] = { { big, 8 }, { big + 8, 8 } };
	struct aiocb w;

	if (!writev_fn)
		return;
	aiocb_prep(&w, fd, v, 2, 0);
	EXPECT_OK(writev_fn(&w));
	expect_broken(&w, 0, what);
}

static void pipe_case(void)
{
	int p[2];

	SYSCHECK(pipe(p));
	close(p[0]);
	write_to(p[1], 0, "aio_write to a pipe with no reader");
	writev_to(p[1], "aio_writev to a pipe with no reader");
	close(p[1]);
}

static void fifo_case(void)
{
	char dir[4096], path[4200];
	int rfd, wfd;

	snprintf(dir, sizeof(dir), "%s/posixaio-fifo-XXXXXX", tmp_dir());
	if (!mkdtemp(dir))
		FAIL("mkdtemp in %s: %s", tmp_dir(), strerror(errno));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600) == -1) {
		fprintf(stderr, "note: mkfifo in %s: %s; FIFO case left out\n", tmp_dir(),
			strerror(errno));
		rmdir(dir);
		return;
	}
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	wfd = rfd >= 0 ? open(path, O_WRONLY) : -1;
	unlink(path);
	rmdir(dir);
	EXPECT(rfd >= 0 && wfd >= 0, "cannot open both ends of the FIFO: %s", strerror(errno));
	close(rfd);
	write_to(wfd, 0, "aio_write to a FIFO with no reader");
	writev_to(wfd, "aio_writev to a FIFO with no reader");
	close(wfd);
}

static void socket_case(int type, int other_err, const char *what, const char *whatv)
{
	int sv[2];

	SYSCHECK(socketpair(AF_UNIX, type, 0, sv));
	close(sv[1]);
	write_to(sv[0], other_err, what);
	if (whatv)
		writev_to(sv[0], whatv);
	close(sv[0]);
}

static void full_pipe_case(void)
{
	struct aiocb w;
	int p[2], err;
	ssize_t ret;

	/* More than the pipe holds: pending until the reader goes away. */
	SYSCHECK(pipe(p));
	aiocb_prep(&w, p[1], big, BIG, 0);
	EXPECT_OK(aio_write(&w));
	expect_pending(&w, "a 1 MiB aio_write on a pipe nobody reads");
	close(p[0]);
	err = wait_done(&w, "the pending write after the reader closed");
	ret = aio_return(&w);
	EXPECT((err == 0 && ret > 0 && ret < BIG) || (err == EPIPE && ret == -1),
	       "the pending write after the reader closed: aio_error %s, aio_return %zd; "
	       "expected a partial count or EPIPE",
	       errname(err), ret);
	close(p[1]);
}

static void all_cases(void)
{
	pipe_case();
	fifo_case();
	socket_case(SOCK_STREAM, 0, "aio_write to a stream socket whose peer closed",
		    "aio_writev to a stream socket whose peer closed");
	socket_case(SOCK_SEQPACKET, 0, "aio_write to a seqpacket socket whose peer closed", NULL);
	socket_case(SOCK_DGRAM, ECONNREFUSED, "aio_write to a datagram socket whose peer closed",
		    NULL);
	full_pipe_case();
}

static bool sigpipe_pending(void)
{
	sigset_t set;

	SYSCHECK(sigpending(&set));
	return sigismember(&set, SIGPIPE);
}

static int test(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t pipe_set;

	big = calloc(1, BIG);
	EXPECT(big, "malloc failed");
	writev_fn = (int (*)(struct aiocb *))dlsym(RTLD_DEFAULT, "aio_writev");
	if (!writev_fn)
		fprintf(stderr, "note: no aio_writev here (plain glibc); vectored cases left out\n");
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);

	/* Round 1: a SIGPIPE from the library would end the process here. */
	all_cases();

	/* Round 2: blocked, so one would stay pending instead. */
	SYSCHECK(pthread_sigmask(SIG_BLOCK, &pipe_set, NULL));
	EXPECT(!sigpipe_pending(), "SIGPIPE pending before round 2");
	all_cases();
	EXPECT(!sigpipe_pending(), "SIGPIPE is pending after aio_writes to broken pipes and "
	       "sockets with SIGPIPE blocked: the library raised it");

	/* Round 3: the program's own SIGPIPE is kept. */
	SYSCHECK(pthread_kill(pthread_self(), SIGPIPE));
	all_cases();
	EXPECT(sigpipe_pending(), "the SIGPIPE the test raised itself is no longer pending: the "
	       "library consumed a signal that was not its own");
	EXPECT(sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE, "sigtimedwait: %s",
	       strerror(errno));
	EXPECT(!sigpipe_pending(), "SIGPIPE still pending after the test took its own");
	SYSCHECK(pthread_sigmask(SIG_UNBLOCK, &pipe_set, NULL));
	free(big);

	if (getenv("INJECT_NOSIGNAL")) {
		long *(*counts)(void) = (long *(*)(void))dlsym(RTLD_DEFAULT, "inject_counts");

		EXPECT(counts, "INJECT_NOSIGNAL is set but tests/faults/inject.so is not loaded");
		EXPECT(counts && counts()[2] > 0,
		       "the injector refused no RWF_NOSIGNAL write: the case it stands for (a "
		       "kernel before 6.18) was not exercised");
	}
	return 0;
}

TEST_MAIN(test)
