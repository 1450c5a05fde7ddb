/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Claiming is done once, by whichever comes first: a request aio_return() collected is never
 * handed out by aio_waitcomplete(); an aiocb submitted again without aio_return() is handed
 * out once, for its new request; and requests that asked for a notification still get it,
 * exactly once (SIGEV_SIGNAL and SIGEV_THREAD).
 */
#include "ext.h"

static atomic_int signals, callbacks;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	atomic_fetch_add(&signals, 1);
}

static void on_done(union sigval v)
{
	(void)v;
	atomic_fetch_add(&callbacks, 1);
}

/*
 * The SIGEV_SIGNAL read's handler has no SA_RESTART, so it may end a wait with EINTR
 * (posixaio(7)) when it runs in this thread: wait again then, at most once per signal.
 */
static struct aiocb *claim_one_past_signal(ssize_t *ret, int *err, const char *what)
{
	for (int tries = 0;; tries++) {
		struct aiocb *cb = (struct aiocb *)1;

		errno = 0;
		*ret = waitcomplete_ms(&cb, WAIT_DONE_MS);
		*err = *ret < 0 ? errno : 0;
		if (*ret < 0 && *err == EINTR && tries < 1) {
			EXPECT(cb == NULL, "%s: *cbp is %p after EINTR, expected NULL", what,
			       (void *)cb);
			continue;
		}
		if (*ret < 0 && *err == EAGAIN)
			FAIL("%s: aio_waitcomplete found nothing within %d ms", what,
			     WAIT_DONE_MS);
		EXPECT(cb != NULL && cb != (struct aiocb *)1,
		       "%s: aio_waitcomplete returned %zd (%s) without an aiocb", what, *ret,
		       errname(*err));
		return cb;
	}
}

static int test(void)
{
	struct aiocb a, b, s, t, *cb;
	char ba[32], bb[32], bs[32], bt[32];
	int fd = tmp_file_with(0, 4096, pattern_byte);
	ssize_t ret;
	int err;

	/* a is collected by aio_return: only b comes out. */
	aiocb_prep(&a, fd, ba, sizeof(ba), 0);
	aiocb_prep(&b, fd, bb, sizeof(bb), 32);
	EXPECT_OK(aio_read(&a));
	expect_done_ok(&a, sizeof(ba), "read a");
	EXPECT_OK(aio_read(&b));
	cb = claim_one(&ret, &err, "read b");
	EXPECT(cb == &b, "handed out %p, expected b %p (a was returned)", (void *)cb, (void *)&b);
	expect_nothing("after b");

	/* a submitted twice without aio_return: handed out once. */
	EXPECT_OK(aio_read(&a));
	while (aio_error(&a) == EINPROGRESS)
		sleep_ms(1);
	EXPECT_OK(aio_read(&a));
	cb = claim_one(&ret, &err, "a resubmitted");
	EXPECT(cb == &a && ret == sizeof(ba), "resubmitted a: got %p %zd", (void *)cb, ret);
	expect_nothing("after the resubmitted a");

	/* Notifications come before the claim. */
	install_handler(SIGRTMIN, (void *)on_signal, SA_SIGINFO);
	aiocb_prep(&s, fd, bs, sizeof(bs), 64);
	s.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	s.aio_sigevent.sigev_signo = SIGRTMIN;
	aiocb_prep(&t, fd, bt, sizeof(bt), 96);
	t.aio_sigevent.sigev_notify = SIGEV_THREAD;
	t.aio_sigevent.sigev_notify_function = on_done;
	EXPECT_OK(aio_read(&s));
	EXPECT_OK(aio_read(&t));
	for (int i = 0; i < 2; i++) {
		cb = claim_one_past_signal(&ret, &err, "notified reads");
		EXPECT(cb == &s || cb == &t, "handed out a foreign aiocb");
		if (cb == &t)
			EXPECT(wait_counter(&callbacks, 1, WAIT_DONE_MS),
			       "SIGEV_THREAD read handed out, its callback never ran");
		if (cb == &s)
			EXPECT(wait_counter(&signals, 1, WAIT_DONE_MS),
			       "SIGEV_SIGNAL read handed out, its signal never came");
	}
	expect_nothing("after the notified reads");
	EXPECT(atomic_load(&signals) == 1 && atomic_load(&callbacks) == 1,
	       "signals %d callbacks %d, expected 1 and 1", atomic_load(&signals),
	       atomic_load(&callbacks));
	close(fd);
	return 0;
}

TEST_MAIN(test)
