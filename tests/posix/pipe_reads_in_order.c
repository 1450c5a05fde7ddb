/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads queued on a stream are served in submission order: 64 aio_reads are queued on an
 * empty pipe, then 64 distinct messages are written one at a time; read i gets message i, and
 * each message wakes read i and no other.
 */
#include "common.h"

#ifndef STREAM_KIND
#define STREAM_KIND "pipe"
#endif

#define NREQ 64
#define BUFSZ 128

static void make_pair(int fds[2])
{
#ifdef STREAM_DGRAM
	SYSCHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, fds));
#else
	SYSCHECK(pipe(fds));
#endif
}

static size_t message(int i, char *buf)
{
	/* Lengths differ, so a read that got another message shows. */
	int len = snprintf(buf, BUFSZ, "message %02d %.*s", i, i % 40,
			   "++++++++++++++++++++"
			   "++++++++++++++++++++");

	return (size_t)len;
}

static int test(void)
{
	static char bufs[NREQ][BUFSZ];
	struct aiocb r[NREQ];
	const struct aiocb *list[NREQ];
	int fds[2];

	make_pair(fds);
	for (int i = 0; i < NREQ; i++) {
		aiocb_prep(&r[i], fds[0], bufs[i], BUFSZ, 0);
		EXPECT_OK(aio_read(&r[i]));
	}
	for (int i = 0; i < NREQ; i++) {
		char msg[BUFSZ];
		size_t len = message(i, msg);
		int done = -1;

		write_all(fds[1], msg, len);
		/* Wait for whichever outstanding read completes first. */
		for (int j = 0; j < NREQ; j++)
			list[j] = j >= i ? &r[j] : NULL;
		int64_t deadline = now_ms() + WAIT_DONE_MS;

		while (done < 0) {
			struct timespec ts = {0, 100 * 1000000L};

			EXPECT(now_ms() < deadline, "message %d written: no read completed", i);
			aio_suspend(list, NREQ, &ts);
			for (int j = i; j < NREQ && done < 0; j++)
				if (aio_error(&r[j]) != EINPROGRESS)
					done = j;
		}
		EXPECT(done == i,
		       "message %d written to the " STREAM_KIND ": read %d completed (error %s, "
		       "\"%.*s\"), expected read %d",
		       i, done, errname(aio_error(&r[done])), (int)BUFSZ, bufs[done], i);
		expect_done_ok(&r[i], (ssize_t)len, "read " STREAM_KIND);
		EXPECT(memcmp(bufs[i], msg, len) == 0, "read %d got \"%.*s\", expected \"%s\"", i,
		       (int)len, bufs[i], msg);
	}
	close(fds[0]);
	close(fds[1]);
	return 0;
}

TEST_MAIN(test)
