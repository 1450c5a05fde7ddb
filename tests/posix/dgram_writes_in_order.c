/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes queued on a datagram socket are sent in submission order: 64 aio_writes of distinct
 * datagrams (more than the receive queue holds, so some wait) arrive as datagram 0, 1, ...
 */
#include "common.h"

#define NREQ 64

static int test(void)
{
	static struct aiocb w[NREQ];
	static char msgs[NREQ][64];
	int sv[2];

	SYSCHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	for (int i = 0; i < NREQ; i++) {
		int len = snprintf(msgs[i], sizeof(msgs[i]), "datagram %02d %.*s", i, i % 30,
				   "::::::::::::::::::::::::::::::");

		aiocb_prep(&w[i], sv[0], msgs[i], (size_t)len, 0);
		EXPECT_OK(aio_write(&w[i]));
	}
	for (int i = 0; i < NREQ; i++) {
		char buf[128];
		ssize_t n;

		do
			n = recv(sv[1], buf, sizeof(buf), 0);
		while (n == -1 && errno == EINTR);
		EXPECT(n >= 0, "recv: %s", strerror(errno));
		EXPECT((size_t)n == strlen(msgs[i]) && memcmp(buf, msgs[i], (size_t)n) == 0,
		       "datagram %d received is \"%.*s\", expected \"%s\"", i, (int)n, buf,
		       msgs[i]);
	}
	for (int i = 0; i < NREQ; i++)
		expect_done_ok(&w[i], (ssize_t)strlen(msgs[i]), "a datagram aio_write");
	close(sv[0]);
	close(sv[1]);
	return 0;
}

TEST_MAIN(test)
