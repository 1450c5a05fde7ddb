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
#include "posixaio.h"

#define LIO_BATCH 64

/*
 * Without core.lock: a reference is taken only by one who holds another (with core.lock), so
 * the last one let go frees the list. The caller of lio_listio() lets go of its own as it
 * returns: under core.lock, that met the background thread issuing the members it had just
 * woken it for (a lio_listio(LIO_NOWAIT) of ten reads waited for its io_uring_enter).
 */
void lio_put(struct lio *l)
{
	if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(l);
}

/*
 * Called with core.lock held when a member's own notification is out (or, for the guard, when
 * every member has started). The list's sigevent goes to the background thread, never to
 * the caller of lio_listio(LIO_NOWAIT) before it returns (req_hold()).
 */
void lio_member_notified(struct lio *l)
{
	LOCK_HELD();
	if (__atomic_sub_fetch(&l->members, 1, __ATOMIC_ACQ_REL) == 0 &&
	    sev_needs_thread(&l->sev)) {
		__atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
		req_hold(&l->queued_by);
		fifo_push(&core.bg_lios, l);
		bg_wake();
	}
	lio_put(l);
}

/* LIO_WAIT is over when every member is complete. */
static bool lio_idle(void *arg)
{
	struct lio *l = arg;

	return __atomic_load_n(&l->pending, __ATOMIC_ACQUIRE) == 0;
}

static int by_list_place(const void *a, const void *b)
{
	const struct req *x = *(struct req *const *)a, *y = *(struct req *const *)b;

	return x->lio_index < y->lio_index ? -1 : x->lio_index > y->lio_index;
}

/* Put held members back in list order: requests on a file complete in any order. */
static struct req *in_list_order(struct req *held)
{
	struct req **v, *r;
	size_t n = 0, i;

	for (r = held; r; r = r->next)
		n++;
	if (n < 2 || !(v = malloc(n * sizeof(*v))))
		return held; /* no memory: completion order will do */
	for (i = 0, r = held; r; r = r->next)
		v[i++] = r;
	qsort(v, n, sizeof(*v), by_list_place);
	for (i = 0; i < n; i++)
		v[i]->next = i + 1 < n ? v[i + 1] : NULL;
	held = v[0];
	free(v);
	return held;
}

/*
 * After LIO_WAIT: deliver, from the caller's thread and in list order (as glibc's one
 * thread per descriptor happens to), the notifications of the members that finished while
 * it waited; members finishing later (after EINTR) notify as usual.
 */
static void lio_deliver_held(struct lio *l)
{
	core_lock();
	l->hold = false;
	req_deliver(in_list_order(fifo_take(&l->held)), NULL);
	core_unlock();
}

static void lio_cancelled(void *arg)
{
	lio_deliver_held(arg);
	lio_put(arg);
}

/* A cancellation point: a cancelled caller lets go of the list on the way out. */
static int lio_wait(struct lio *l)
{
	int err;

	pthread_cleanup_push(lio_cancelled, l);
	err = wait_for(lio_idle, l, NULL);
	pthread_cleanup_pop(0);
	return err;
}

/* A member refused before it started: its aiocb says so (err is -errno). */
static void member_fail(struct aiocb *cb, int err)
{
	cb->__return_value = -1;
	__atomic_store_n(&cb->__error_code, -err, __ATOMIC_RELEASE);
}

/* The operation a member asks for (with libposixaio's own opcodes), or -1. */
static int lio_op(const struct aiocb *cb)
{
	switch (cb->aio_lio_opcode) {
	case LIO_READ:
		return OP_READ;
	case LIO_WRITE:
		return OP_WRITE;
	case LIO_READV:
		return OP_READ | OP_VEC;
	case LIO_WRITEV:
		return OP_WRITE | OP_VEC;
	case LIO_FSYNC:
		return OP_FSYNC;
	case LIO_FDSYNC:
		return OP_FDSYNC;
	default:
		return -1;
	}
}

/*
 * Members req_try_now() tried before the call took core.lock, in list order: at most LIO_TRY
 * of them, TRY_NOW_MAX bytes in all.
 */
#define LIO_TRY 32
struct lio_tried {
	unsigned n, next;
	int index[LIO_TRY];
	int64_t res[LIO_TRY];
};

/* Without core.lock: try the list's small plain reads at once (req_try_now()). */
static void try_members(struct aiocb *const list[], int nent, int off64, struct lio_tried *t)
{
	size_t budget = TRY_NOW_MAX;
	struct sev sev;
	int64_t res;

	t->n = t->next = 0;
	for (int i = 0; i < nent && budget && t->n < LIO_TRY; i++) {
		struct aiocb *cb = list[i];

		if (cb && lio_op(cb) == OP_WRITE)
			break; /* the reads after a write of the list wait for it where they overlap */
		if (!cb || lio_op(cb) != OP_READ || aiocb_check(cb, OP_READ | off64, &sev))
			continue;
		if (req_try_now(cb, OP_READ | off64, &budget, &res) || res < 0) {
			t->index[t->n] = i;
			t->res[t->n++] = res;
		}
	}
}

/*
 * Called with core.lock held. Start every member; false when one could not start. off64 is
 * OP_OFF64 when the members are struct aiocb64 (lio_listio64()), else 0.
 */
static bool start_members(struct aiocb *const list[], int nent, struct lio *l, int off64,
			  struct lio_tried *t)
{
	struct req *stack[LIO_BATCH], **ready = stack;
	unsigned cap = LIO_BATCH, n = 0;
	bool ok = true;

	LOCK_HELD();

	if (nent > LIO_BATCH) {
		struct req **big = malloc((size_t)nent * sizeof(*big));

		if (big) {
			ready = big;
			cap = (unsigned)nent;
		}
	}
	for (int i = 0; i < nent; i++) {
		struct aiocb *cb = list[i];
		const int64_t *tried = NULL;
		struct sev sev;
		int op, err;

		if (t->next < t->n && t->index[t->next] == i)
			tried = &t->res[t->next++];
		if (!cb || cb->aio_lio_opcode == LIO_NOP)
			continue;
		op = lio_op(cb);
		err = op < 0 ? -EINVAL : aiocb_check(cb, op | off64, &sev);
		if (!err && (op == OP_FSYNC || op == OP_FDSYNC) && !fsync_fd_ok(cb->aio_fildes))
			err = -EBADF;
		l->place = (uint32_t)i;
		if (!err)
			err = req_start(cb, op | off64, &sev, l, tried, ready, &n);
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

static int listio(int mode, struct aiocb *const list[], int nent, struct sigevent *sig,
		  int off64)
{
	struct sev lsev = { .notify = SIGEV_NONE };
	struct lio_tried tried;
	struct lio *l;
	bool ok, failed;
	int cs, err = 0;

	if ((mode != LIO_WAIT && mode != LIO_NOWAIT) || nent < 0)
		return ret_errno(-EINVAL);
	/* POSIX: the list's sigevent means something only with LIO_NOWAIT. */
	if (mode == LIO_NOWAIT && sig && sev_copy(&lsev, sig))
		return ret_errno(-EINVAL);
	err = engine_get();
	if (err)
		return ret_errno(err);
	l = calloc(1, sizeof(*l));
	if (!l)
		return ret_errno(-EAGAIN);
	l->pending = 1;
	l->members = 1;
	l->refs = 2; /* the caller, and the guard's share of lio_member_notified() */
	l->sev = lsev;
	l->hold = mode == LIO_WAIT;

	/* A cancellation point (LIO_WAIT) only while it sleeps for its members. */
	cs = nocancel_begin();
	req_notify_later(mode == LIO_NOWAIT ? NOTIFY_LATER_SIGNALS : NOTIFY_NOW);
	try_members(list, nent, off64, &tried);
	core_lock();
	if (sev_needs_thread(&lsev) && bg_start() < 0) {
		/* Nothing could send the list's notification: start nothing. */
		core_unlock();
		req_notify_later(NOTIFY_NOW);
		nocancel_end(cs);
		free(l);
		req_call_return();
		return ret_errno(-EAGAIN);
	}
	if (sev_needs_thread(&lsev))
		bg_get();
	ok = start_members(list, nent, l, off64, &tried);
	__atomic_sub_fetch(&l->pending, 1, __ATOMIC_ACQ_REL);
	lio_member_notified(l); /* the guard */
	core_unlock();
	reap(false);
	req_notify_later(NOTIFY_NOW);
	if (mode == LIO_WAIT) {
		nocancel_end(cs);
		err = lio_wait(l);
		cs = nocancel_begin();
		lio_deliver_held(l);
	}
	/*
	 * Members' results, captured as they completed: their callbacks may have freed or
	 * reused the list and its aiocbs by now.
	 */
	failed = __atomic_load_n(&l->failed, __ATOMIC_RELAXED);
	lio_put(l);
	nocancel_end(cs);
	req_call_return();
	if (err)
		return ret_errno(err);
	if (!ok || (mode == LIO_WAIT && failed))
		return ret_errno(-EIO);
	return 0;
}

EXPORT int lio_listio(int mode, struct aiocb *const list[], int nent, struct sigevent *sig)
{
	int saved = errno;

	return (int)errno_kept(listio(mode, list, nent, sig, 0), saved);
}

/* The members are struct aiocb64: where off_t has 32 bits, their offsets are not (aio.c). */
#ifdef __OFF_T_MATCHES_OFF64_T
EXPORT int lio_listio64(int mode, struct aiocb64 *const list[], int nent, struct sigevent *sig)
	__attribute__((alias("lio_listio")));
#else
EXPORT int lio_listio64(int mode, struct aiocb64 *const list[], int nent, struct sigevent *sig)
{
	int saved = errno;

	return (int)errno_kept(listio(mode, (struct aiocb *const *)list, nent, sig, OP_OFF64),
			       saved);
}
#endif
