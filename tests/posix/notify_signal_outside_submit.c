/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A completion signal never runs its handler inside the call that submitted the request, even
 * when the request finished there (a small read of a file the page cache holds): the program
 * may not have recorded the request yet. Checked for SIGEV_SIGNAL, SIGEV_THREAD_ID to the
 * calling thread and a lio_listio(LIO_NOWAIT) list's own signal, with the signal let through
 * in that thread, over many reads.
 *
 * With the signal blocked in the calling thread the handler cannot run there, so the library
 * sends it from the call itself: it is pending when aio_read() returns, for every read that
 * finished inside the call, and it still comes once per request with SI_ASYNCIO. glibc sends
 * every signal from its own thread later, so on glibc only the arrival is checked.
 */
#include "common.h"

#include <dlfcn.h>

#define ROUNDS 300

static struct aiocb cb;
static volatile sig_atomic_t inside;
static atomic_int handled, inside_hits;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (inside)
		atomic_fetch_add(&inside_hits, 1);
	if (si->si_code == SI_ASYNCIO && si->si_value.sival_ptr == &cb)
		atomic_fetch_add(&handled, 1);
}

static void prep(int fd, char *buf, int sig, int notify, int round)
{
	aiocb_prep(&cb, fd, buf, 512, (off_t)(round % 8) * 512);
	cb.aio_sigevent.sigev_notify = notify;
	cb.aio_sigevent.sigev_signo = sig;
	cb.aio_sigevent.sigev_value.sival_ptr = &cb;
	if (notify == SIGEV_THREAD_ID)
		cb.aio_sigevent.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
}

/*
 * The signal let through: its handler runs after aio_read() returned, once per read. With
 * list, the read is a lio_listio(LIO_NOWAIT) list's one member, without a sigevent of its
 * own, and the signal is the list's.
 */
static void let_through(int fd, int sig, int notify, bool list, const char *what)
{
	struct aiocb *members[1] = {&cb};
	struct sigevent lsig;
	char buf[512];

	atomic_store(&handled, 0);
	atomic_store(&inside_hits, 0);
	for (int i = 0; i < ROUNDS; i++) {
		prep(fd, buf, sig, notify, i);
		if (list) {
			lsig = cb.aio_sigevent;
			cb.aio_sigevent.sigev_notify = SIGEV_NONE;
			cb.aio_lio_opcode = LIO_READ;
		}
		inside = 1;
		if (list)
			EXPECT_OK(lio_listio(LIO_NOWAIT, members, 1, &lsig));
		else
			EXPECT_OK(aio_read(&cb));
		inside = 0;
		EXPECT(wait_counter(&handled, i + 1, WAIT_DONE_MS), "%s: read %d: no signal", what,
		       i + 1);
		EXPECT(aio_error(&cb) == 0 && aio_return(&cb) == 512, "%s: read %d failed", what,
		       i + 1);
	}
	EXPECT(atomic_load(&inside_hits) == 0,
	       "%s: the handler ran inside the submitting call for %d of %d reads", what,
	       atomic_load(&inside_hits), ROUNDS);
	EXPECT(atomic_load(&handled) == ROUNDS, "%s: %d signals for %d reads", what,
	       atomic_load(&handled), ROUNDS);
}

/* The signal blocked here: collected with sigtimedwait, pending at return with the library. */
static void blocked(int fd, int sig, int notify, bool library, const char *what)
{
	struct timespec limit = {5 * time_scale(), 0}, none = {0, 0};
	int finished_inside = 0;
	char buf[512];
	sigset_t set, pending;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, sig);
	SYSCHECK(pthread_sigmask(SIG_BLOCK, &set, NULL));
	for (int i = 0; i < ROUNDS; i++) {
		prep(fd, buf, sig, notify, i);
		EXPECT_OK(aio_read(&cb));
		if (aio_error(&cb) != EINPROGRESS) {
			finished_inside++;
			SYSCHECK(sigpending(&pending));
			EXPECT(!library || sigismember(&pending, sig) == 1,
			       "%s: read %d finished inside aio_read() but its signal was not pending "
			       "when the call returned",
			       what, i + 1);
		}
		EXPECT(sigtimedwait(&set, &si, &limit) == sig, "%s: read %d: no signal: %s", what,
		       i + 1, errname(errno));
		EXPECT(si.si_code == SI_ASYNCIO && si.si_value.sival_ptr == &cb,
		       "%s: read %d: si_code %d, si_value %p", what, i + 1, si.si_code,
		       si.si_value.sival_ptr);
		EXPECT(aio_error(&cb) == 0 && aio_return(&cb) == 512, "%s: read %d failed", what,
		       i + 1);
	}
	EXPECT(sigtimedwait(&set, &si, &none) == -1, "%s: a signal more than one per read", what);
	EXPECT(!library || finished_inside > 0,
	       "%s: none of %d reads of a cached file finished inside aio_read()", what, ROUNDS);
	SYSCHECK(pthread_sigmask(SIG_UNBLOCK, &set, NULL));
}

static int test(void)
{
	SKIP_UNDER_TSAN("when a queued signal reaches its handler (it defers them)");
	int sig = SIGRTMIN + 3, fd = tmp_file_with(0, 4096, pattern_byte);
	bool library = dlsym(RTLD_DEFAULT, "posixaio_engine") != NULL;
	char warm[4096];

	/* Every read below finds its bytes in the page cache. */
	SYSCHECK(pread(fd, warm, sizeof(warm), 0));
	install_handler(sig, on_signal, SA_SIGINFO);
	let_through(fd, sig, SIGEV_SIGNAL, false, "SIGEV_SIGNAL let through");
	let_through(fd, sig, SIGEV_SIGNAL, true, "lio_listio(LIO_NOWAIT) list signal let through");
	blocked(fd, sig, SIGEV_SIGNAL, library, "SIGEV_SIGNAL blocked");
	/* glibc sends no SIGEV_THREAD_ID signal at all (notify_thread_id). */
	if (library) {
		let_through(fd, sig, SIGEV_THREAD_ID, false, "SIGEV_THREAD_ID let through");
		blocked(fd, sig, SIGEV_THREAD_ID, library, "SIGEV_THREAD_ID blocked");
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
