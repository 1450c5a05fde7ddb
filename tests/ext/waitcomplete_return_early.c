/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_return() may collect a request after its result is visible but before its
 * notification is out (a page-cached read completes inside aio_read(), and its signal is
 * sent afterwards by the library): it is claimed then all the same, and aio_waitcomplete()
 * never hands it out later. (Found by the fuzzer.)
 */
#include "ext.h"

#define N 200

static int test(void)
{
	static struct aiocb cbs[N];
	static char bufs[N][64];
	int fd = tmp_file_with(0, N * 64, pattern_byte), returned = 0;
	static bool early[N];
	struct aiocb *cb;
	sigset_t set;

	/* The signals stay pending: only when the library sends them matters. */
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	SYSCHECK(sigprocmask(SIG_BLOCK, &set, NULL));
	expect_nothing("before any request"); /* claim mode: every completion is kept */
	for (int i = 0; i < N; i++) {
		aiocb_prep(&cbs[i], fd, bufs[i], 64, (off_t)i * 64);
		cbs[i].aio_sigevent.sigev_notify = SIGEV_SIGNAL;
		cbs[i].aio_sigevent.sigev_signo = SIGRTMIN + 1;
		EXPECT_OK(aio_read(&cbs[i]));
		if (aio_error(&cbs[i]) != EINPROGRESS) {
			EXPECT(aio_return(&cbs[i]) == 64, "read %d: short", i);
			early[i] = true;
			returned++;
		}
	}
	for (int i = 0; i < N; i++)
		if (!early[i]) {
			/* Not done at once: claim it by aio_return once it is. */
			wait_done(&cbs[i], "a read that was not complete at once");
			EXPECT(aio_return(&cbs[i]) == 64, "read %d: short", i);
		}
	sleep_ms(200); /* time for every signal to be sent and its request listed */
	errno = 0;
	cb = (struct aiocb *)1;
	EXPECT(waitcomplete_ms(&cb, 0) == -1 && errno == EAGAIN && cb == NULL,
	       "aio_waitcomplete handed out %p although aio_return collected all %d reads "
	       "(%d of them before their signal was out): request %td", (void *)cb, N, returned,
	       cb ? cb - cbs : -1);
	close(fd);
	return 0;
}

TEST_MAIN(test)
