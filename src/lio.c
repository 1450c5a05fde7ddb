/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lio_listio(): a batch of requests issued to the engine together (one io_uring_enter for
 * up to a submission queue's worth), with its own sigevent that fires once, after every
 * member's result is visible. Each member's own aio_sigevent is honoured too, as glibc does.
 *
 * The list's count of pending members starts at one, a guard held while members are still
 * being started, so that members completing early cannot fire the notification before the
 * last one is queued. The list lives until its last member and its caller let go (refs).
 */
#include <stdlib.h>

#include "internal.h"

#define LIO_BATCH 64

/* Called with g.lock held. */
void lio_put(struct lio *l)
{
	if (--l->refs == 0)
		free(l);
}

static bool lio_idle(void *arg)
{
	struct lio *l = arg;

	return __atomic_load_n(&l->pending, __ATOMIC_ACQUIRE) == 0;
}

static void lio_release(void *arg)
{
	g_lock();
	lio_put(arg);
	g_unlock();
}

/* A cancellation point: a cancelled caller lets go of the list on the way out. */
static int lio_wait(struct lio *l)
{
	int err;

	pthread_cleanup_push(lio_release, l);
	err = wait_for(lio_idle, l, NULL);
	pthread_cleanup_pop(0);
	return err;
}

static void member_fail(struct aiocb *cb, int err)
{
	cb->__return_value = -1;
	__atomic_store_n(&cb->__error_code, err, __ATOMIC_RELEASE);
}

/* Called with g.lock held. Start every member; false when one could not start. */
static bool start_members(struct aiocb *const list[], int nent, struct lio *l)
{
	struct req *stack[LIO_BATCH], **ready = stack;
	unsigned cap = LIO_BATCH, n = 0;
	bool ok = true;

	if (nent > LIO_BATCH) {
		struct req **big = malloc((size_t)nent * sizeof(*big));

		if (big) {
			ready = big;
			cap = (unsigned)nent;
		}
	}
	for (int i = 0; i < nent; i++) {
		struct aiocb *cb = list[i];
		struct sev sev;
		int op, err;

		if (!cb || cb->aio_lio_opcode == LIO_NOP)
			continue;
		if (cb->aio_lio_opcode == LIO_READ)
			op = OP_READ;
		else if (cb->aio_lio_opcode == LIO_WRITE)
			op = OP_WRITE;
		else
			op = -1;
		err = op < 0 ? EINVAL : aiocb_check(cb, op, &sev);
		if (!err)
			err = req_start(cb, op, &sev, l, ready, &n);
		if (err) {
			member_fail(cb, err);
			ok = false;
		}
		if (n == cap) {
			req_issue(ready, n);
			n = 0;
		}
	}
	if (n)
		req_issue(ready, n);
	if (ready != stack)
		free(ready);
	return ok;
}

static bool any_failed(struct aiocb *const list[], int nent)
{
	for (int i = 0; i < nent; i++) {
		struct aiocb *cb = list[i];

		if (cb && cb->aio_lio_opcode != LIO_NOP && cb->__error_code != 0)
			return true;
	}
	return false;
}

EXPORT int lio_listio(int mode, struct aiocb *const list[], int nent, struct sigevent *sig)
{
	struct sev lsev = { .notify = SIGEV_NONE };
	struct lio *l;
	bool ok, fire;
	int err = 0;

	if ((mode != LIO_WAIT && mode != LIO_NOWAIT) || nent < 0) {
		errno = EINVAL;
		return -1;
	}
	/* POSIX: the list's sigevent means something only with LIO_NOWAIT. */
	if (mode == LIO_NOWAIT && sig && sev_copy(&lsev, sig)) {
		errno = EINVAL;
		return -1;
	}
	err = engine_get();
	if (err) {
		errno = err;
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		errno = EAGAIN;
		return -1;
	}
	l->pending = 1;
	l->refs = 1;
	l->sev = lsev;

	g_lock();
	ok = start_members(list, nent, l);
	if (sev_needs_thread(&lsev))
		bg_get();
	fire = __atomic_sub_fetch(&l->pending, 1, __ATOMIC_ACQ_REL) == 0;
	g_unlock();

	if (fire && sev_needs_thread(&lsev)) {
		/* Every member finished (or failed) while the list was being started. */
		sev_deliver(&lsev);
		g_lock();
		bg_put(1);
		g_unlock();
	}
	reap(false);
	if (mode == LIO_WAIT)
		err = lio_wait(l);
	lio_release(l);
	if (err) {
		errno = err;
		return -1;
	}
	if (!ok || (mode == LIO_WAIT && any_failed(list, nent))) {
		errno = EIO;
		return -1;
	}
	return 0;
}

EXPORT int lio_listio64(int mode, struct aiocb64 *const list[], int nent, struct sigevent *sig)
	__attribute__((alias("lio_listio")));
