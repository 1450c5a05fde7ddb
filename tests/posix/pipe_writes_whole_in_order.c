/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes queued on a stream arrive whole and in submission order: 64 aio_writes of 64 KiB
 * (more than a pipe holds) are queued on a pipe, a reader thread reads everything; each write
 * returns its full length and the reader sees block 0, block 1, ... without interleaving.
 */
#include "common.h"

#ifndef STREAM_KIND
#define STREAM_KIND "pipe"
#endif

#define NREQ 64
#define BLK (64 * 1024)
#define TOTAL ((size_t)NREQ * BLK)

static int fds[2];
static unsigned char *received;

static unsigned char block_byte(size_t block, size_t k)
{
	return (unsigned char)(block * 73 + k * 11 + (k >> 9) + 1);
}

static void *reader(void *arg)
{
	(void)arg;
	read_all(fds[0], received, TOTAL);
	return NULL;
}

static void make_pair(void)
{
#ifdef STREAM_SOCKET
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
#else
	SYSCHECK(pipe(fds));
#endif
}

static int test(void)
{
	static struct aiocb w[NREQ];
	unsigned char *blocks;
	pthread_t th;

	make_pair();
	blocks = malloc(TOTAL);
	received = calloc(1, TOTAL);
	EXPECT(blocks && received, "malloc failed");
	for (size_t b = 0; b < NREQ; b++)
		for (size_t k = 0; k < BLK; k++)
			blocks[b * BLK + k] = block_byte(b, k);
	for (int i = 0; i < NREQ; i++) {
		aiocb_prep(&w[i], fds[1], blocks + (size_t)i * BLK, BLK, 0);
		EXPECT_OK(aio_write(&w[i]));
	}
	EXPECT(pthread_create(&th, NULL, reader, NULL) == 0, "pthread_create failed");
	for (int i = 0; i < NREQ; i++)
		expect_done_ok(&w[i], BLK, "64 KiB aio_write on a " STREAM_KIND);
	pthread_join(th, NULL);

	for (size_t off = 0; off < TOTAL; off++) {
		size_t b = off / BLK, k = off % BLK;

		if (received[off] == block_byte(b, k))
			continue;
		/* Name the write whose bytes are here instead, if any. */
		long from = -1;

		for (size_t c = 0; c < NREQ; c++)
			if (memcmp(received + off, blocks + c * BLK + k, 64) == 0)
				from = (long)c;
		FAIL("byte %zu of the " STREAM_KIND " stream (write %zu, byte %zu) is wrong: "
		     "expected write %zu's data, it looks like write %ld's",
		     off, b, k, b, from);
	}
	free(blocks);
	free(received);
	close(fds[0]);
	close(fds[1]);
	return 0;
}

TEST_MAIN(test)
