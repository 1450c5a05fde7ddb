/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A SIGEV_THREAD function may call the AIO functions itself: each collects its request with
 * aio_return and submits the next read (a chain of 200 file reads and of 200 pipe reads),
 * with no deadlock and every result right.
 */
#include "common.h"

#define CHAIN 200

struct chain {
	struct aiocb cb;
	int fd;
	int next;
	bool pipe;
	unsigned char byte;
	atomic_int done, bad;
};

static void step(union sigval v);

static void submit(struct chain *c)
{
	aiocb_prep(&c->cb, c->fd, &c->byte, 1, c->pipe ? 0 : c->next);
	c->cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
	c->cb.aio_sigevent.sigev_notify_function = step;
	c->cb.aio_sigevent.sigev_value.sival_ptr = c;
	if (aio_read(&c->cb) != 0)
		atomic_fetch_add(&c->bad, 1);
}

static void step(union sigval v)
{
	struct chain *c = v.sival_ptr;
	unsigned char want = c->pipe ? (unsigned char)c->next : pattern_byte((size_t)c->next);

	if (aio_error(&c->cb) != 0 || aio_return(&c->cb) != 1 || c->byte != want)
		atomic_fetch_add(&c->bad, 1);
	if (++c->next == CHAIN) {
		atomic_store(&c->done, 1);
		return;
	}
	submit(c);
}

static int test(void)
{
	static struct chain file, pipe_chain;
	unsigned char feed[CHAIN];
	int p[2];

	file.fd = tmp_file_with(0, CHAIN, pattern_byte);
	SYSCHECK(pipe(p));
	pipe_chain.fd = p[0];
	pipe_chain.pipe = true;
	submit(&file);
	submit(&pipe_chain);
	for (int i = 0; i < CHAIN; i++)
		feed[i] = (unsigned char)i;
	write_all(p[1], feed, CHAIN);
	EXPECT(wait_counter(&file.done, 1, 5000), "the file chain stopped at step %d", file.next);
	EXPECT(wait_counter(&pipe_chain.done, 1, 5000), "the pipe chain stopped at step %d",
	       pipe_chain.next);
	EXPECT(atomic_load(&file.bad) == 0, "%d steps of the file chain went wrong",
	       atomic_load(&file.bad));
	EXPECT(atomic_load(&pipe_chain.bad) == 0, "%d steps of the pipe chain went wrong",
	       atomic_load(&pipe_chain.bad));
	close(file.fd);
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
