/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Once a member's notification is out, its aiocb belongs to the program again. The
 * SIGEV_THREAD callbacks of a lio_listio(LIO_WAIT) whose members all succeed unmap the list
 * and its aiocbs (the last one to run), or re-arm their aiocb: lio_listio still returns 0,
 * and never reads the list after the callbacks were dispatched.
 *
 * glibc reads the list then, and crashes when a callback was quick enough to unmap it first:
 * in about one round of 200 here. Without the library it runs GLIBC_ROUNDS unmapping rounds,
 * so that the 'glibc' suite shows the crash every time rather than every other run.
 */
#include <semaphore.h>
#include <sys/mman.h>

#include "common.h"

#include <dlfcn.h>

#define ROUNDS 200
#define GLIBC_ROUNDS 5000
#define MEMBERS 4

struct block {
	struct aiocb *list[MEMBERS];
	struct aiocb cbs[MEMBERS];
	char buf[MEMBERS][64];
};

static sem_t ran;
static atomic_int left;
static long size;
static int fd;

static void unmap_last(union sigval v)
{
	if (atomic_fetch_sub(&left, 1) == 1) {
		munmap(v.sival_ptr, (size_t)size);
		sem_post(&ran);
	}
}

static void rearm(union sigval v)
{
	struct aiocb *cb = v.sival_ptr;

	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
	if (aio_read(cb) != 0)
		abort();
	if (atomic_fetch_sub(&left, 1) == 1)
		sem_post(&ran);
}

static void wait_callbacks(int round)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5 * time_scale();
	EXPECT(sem_timedwait(&ran, &ts) == 0, "round %d: the callbacks never all ran", round);
}

static void prep(struct block *b, void (*fn)(union sigval), bool value_is_block)
{
	for (int m = 0; m < MEMBERS; m++) {
		struct aiocb *cb = &b->cbs[m];

		aiocb_prep(cb, fd, b->buf[m], sizeof(b->buf[m]), m * 64);
		cb->aio_lio_opcode = LIO_READ;
		cb->aio_sigevent.sigev_notify = SIGEV_THREAD;
		cb->aio_sigevent.sigev_notify_function = fn;
		cb->aio_sigevent.sigev_value.sival_ptr = value_is_block ? (void *)b : (void *)cb;
		b->list[m] = cb;
	}
	atomic_store(&left, MEMBERS);
}

static int test(void)
{
	static struct block kept;
	int unmap_rounds = dlsym(RTLD_DEFAULT, "posixaio_engine") ? ROUNDS : GLIBC_ROUNDS;

	size = (long)sizeof(struct block);
	fd = tmp_file_with(0, 4096, pattern_byte);
	sem_init(&ran, 0, 0);
	for (int i = 0; i < unmap_rounds; i++) {
		struct block *b = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		EXPECT(b != MAP_FAILED, "mmap failed: %s", strerror(errno));
		prep(b, unmap_last, true);
		EXPECT_OK(lio_listio(LIO_WAIT, b->list, MEMBERS, NULL));
		wait_callbacks(i);
	}
	for (int i = 0; i < ROUNDS; i++) {
		prep(&kept, rearm, false);
		EXPECT_OK(lio_listio(LIO_WAIT, kept.list, MEMBERS, NULL));
		wait_callbacks(i);
		for (int m = 0; m < MEMBERS; m++)
			expect_done_ok(&kept.cbs[m], 64, "a re-armed member");
	}
	return 0;
}

TEST_MAIN(test)
