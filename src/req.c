/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Request lifecycle: the slabs requests live in, the token an aiocb keeps to find its
 * request in O(1), and the one completion path every engine reports through.
 *
 * A request is freed as soon as its result is published and its notification sent, not at
 * aio_return(): the aiocb then holds only the result, so the caller may free or reuse it at
 * once, and a program that never calls aio_return() leaks nothing. The token in the aiocb
 * (slot number and generation, in glibc's __abs_prio and __policy fields) goes stale when the
 * slot is reused, and req_lookup() checks both, so no stale or forged aiocb reaches a
 * request that is not its own.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#if HAVE_VALGRIND
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_DEFINED(addr, len) ((void)(addr), (void)(len))
#endif

/* Requests finished by this thread while it held core.lock, in order: notified when it lets go. */
static TLS FIFO(struct req) tl_done;
/*
 * Set inside aio_read()/aio_write()/aio_fsync()/lio_listio(): what completes there is
 * notified by the background thread, not by the caller's own thread before the call
 * returns (a signal queued to the process would reach the caller inside the call), unless
 * the caller blocks the signal (signals_for_later()).
 */
static TLS uint8_t tl_notify_later;

bool req_in_submit(void)
{
	return tl_notify_later & NOTIFY_LATER_SIGNALS;
}

uint8_t req_notify_later(uint8_t mode)
{
	uint8_t old = tl_notify_later;

	tl_notify_later = mode;
	return old;
}

/*
 * A signal queued for the background thread from inside a submitting call goes out only
 * once that call has returned. The call wakes the background thread on its way out (an
 * eventfd write), and the kernel gives a process's signal to whichever thread it lets
 * through on that thread's next return to user space: sent as soon as the background thread
 * woke, it often reached the caller while the write itself returned, a handler run inside
 * aio_read(). So the entry remembers the caller's count of returns, which the caller raises
 * as the last thing it does (req_call_return()); the background thread leaves the entry
 * queued until it has moved. The thread state is never freed, and its count only grows,
 * whichever thread owns it next.
 */
static TLS struct tstate *tl_holding;

/* Called with core.lock held: hold h until the calling thread returns from this call. */
void req_hold(struct hold *h)
{
	struct tstate *t;

	LOCK_HELD();
	h->ts = NULL;
	if (!(tl_notify_later & NOTIFY_LATER_SIGNALS) || !(t = tstate_get()))
		return; /* no memory for a thread state: sent as soon as the thread can */
	h->ts = t;
	h->returns = __atomic_load_n(&t->returns, __ATOMIC_RELAXED);
	tl_holding = t;
}

/* Is the call that queued h still running? */
bool req_held(const struct hold *h)
{
	return h->ts && __atomic_load_n(&h->ts->returns, __ATOMIC_ACQUIRE) == h->returns;
}

/*
 * The last thing a submitting call does, after its last system call: let go of what it held.
 * A handler can still reach the thread in the few instructions left before it returns, but
 * only through an interrupt landing there as the background thread sends, after the
 * background thread saw this store.
 */
void req_call_return(void)
{
	struct tstate *t = tl_holding;

	if (!t)
		return;
	tl_holding = NULL;
	__atomic_add_fetch(&t->returns, 1, __ATOMIC_RELEASE);
}

/*
 * The slab table is read without core.lock by aio_return() (claim.c): a grown table is
 * published whole and the old one kept, never freed while the process lives (they sum to
 * less than the newest).
 */
static struct req **retired[32];
static unsigned nretired;

static int slab_grow(void)
{
	struct req *s;
	uint32_t i, base;

	if (core.nslabs == core.cap_slabs) {
		uint32_t cap = core.cap_slabs ? 2 * core.cap_slabs : 16;
		struct req **n;

		if (nretired == sizeof(retired) / sizeof(retired[0]))
			return -ENOMEM;
		n = malloc(cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		if (core.nslabs)
			memcpy(n, core.slabs, core.nslabs * sizeof(*n));
		if (core.slabs)
			retired[nretired++] = core.slabs;
		__atomic_store_n(&core.slabs, n, __ATOMIC_RELEASE);
		core.cap_slabs = cap;
	}
	s = calloc(REQ_SLAB, sizeof(*s));
	if (!s)
		return -ENOMEM;
	base = core.nslabs * REQ_SLAB;
	for (i = REQ_SLAB; i-- > 0;) {
		s[i].index = base + i;
		s[i].gen = 1;
		s[i].next = core.free;
		core.free = &s[i];
	}
	core.slabs[core.nslabs] = s;
	__atomic_store_n(&core.nslabs, core.nslabs + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Without core.lock: the slot of that index, or NULL. Its fields may change meanwhile. */
struct req *req_at(uint32_t index)
{
	uint32_t nslabs = __atomic_load_n(&core.nslabs, __ATOMIC_ACQUIRE);
	struct req **slabs = __atomic_load_n(&core.slabs, __ATOMIC_ACQUIRE);

	if (index >= nslabs * REQ_SLAB)
		return NULL;
	return &slabs[index / REQ_SLAB][index % REQ_SLAB];
}

/*
 * Without core.lock: the slot cb's token names, or NULL (also for a read that finished inside
 * aio_read() without a request, whose token is below zero: claim.c).
 */
struct req *req_slot(const struct aiocb *cb)
{
	if (cb->__abs_prio <= 0)
		return NULL;
	return req_at((uint32_t)cb->__abs_prio - 1);
}

/* Called with core.lock held. NULL when memory is exhausted. */
struct req *req_alloc(void)
{
	struct req *r;
	uint32_t index, gen;

	LOCK_HELD();

	if (!core.free && slab_grow() < 0)
		return NULL;
	r = core.free;
	core.free = r->next;
	index = r->index;
	gen = r->gen;
	memset(r, 0, offsetof(struct req, claim));
	r->index = index;
	r->gen = gen;
	return r;
}

/* Called with core.lock held. */
void req_free(struct req *r)
{
	LOCK_HELD();
	assert(!(r->flags & RF_BG_REASONS));
	free(r->iov);
	r->iov = NULL;
	__atomic_store_n(&r->claim_cb, 0, __ATOMIC_RELAXED); /* read by aio_return(), unlocked */
	r->state = REQ_FREE;
	r->cb = NULL;
	if (++r->gen == 0)
		r->gen = 1;
	r->next = core.free;
	core.free = r;
}

void req_set_token(struct req *r)
{
	r->cb->__abs_prio = (int)(r->index + 1);
	r->cb->__policy = (int)r->gen;
}

/* Called with core.lock held: the live request this aiocb was submitted as, or NULL. */
struct req *req_lookup(const struct aiocb *cb)
{
	struct req *r = req_slot(cb);

	LOCK_HELD();

	if (!r || r->gen != (uint32_t)cb->__policy || r->cb != cb || r->state == REQ_FREE || r->state == REQ_DONE ||
	    r->state == REQ_CLAIM)
		return NULL;
	return r;
}

/*
 * Called with core.lock held: r gives the background thread a reason to run (one of
 * RF_BG_REASONS), until req_bg_drop() of the same reason. The one place a request's
 * reasons change, so that every one taken is given back exactly once.
 */
void req_bg_hold(struct req *r, uint8_t reason)
{
	LOCK_HELD();
	assert(reason & RF_BG_REASONS);
	assert(!(r->flags & reason));
	r->flags |= reason;
	bg_get();
}

/* Called with core.lock held: r no longer needs the background thread for reason, if it did. */
void req_bg_drop(struct req *r, uint8_t reason)
{
	LOCK_HELD();
	if (!(r->flags & reason))
		return;
	r->flags &= (uint8_t)~reason;
	bg_put(1);
}

/* Called with core.lock held: hand requests to the engine. */
void req_issue(struct req **reqs, unsigned n)
{
	unsigned i;

	LOCK_HELD();

	for (i = 0; i < n; i++) {
		struct req *r = reqs[i];

		r->state = REQ_LIVE;
		/* A stream write may come back short and need continuing. */
		if (r->op == OP_WRITE && !(r->flags & RF_BG) && r->fdq &&
		    fdq_kind(r) == FDK_STREAM)
			req_bg_hold(r, RF_BG);
	}
	STAT_ADD(submitted, n);
	core.eng->submit(reqs, n);
}

/*
 * Issue requests that waited in the library (held, or to go on after a short write or
 * their thread's exit). One whose descriptor now names another file is cancelled, as
 * POSIX's close() allows: it must never touch the new file.
 */
static void issue_again(struct req **reqs, unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		if ((reqs[i]->flags & RF_HOLDS_FILE) || fdq_same_file(reqs[i])) {
			reqs[k++] = reqs[i];
			continue;
		}
		reqs[i]->flags |= RF_CANCEL;
		reqs[i]->state = REQ_LIVE;
		req_complete(reqs[i], -ECANCELED);
	}
	if (k)
		req_issue(reqs, k);
}

static void reissue(struct req *r)
{
	issue_again(&r, 1);
}

/* A write on a stream is done whole, as write(2) on a blocking descriptor would. */
static bool write_continues(struct req *r, int64_t res)
{
	if (r->op != OP_WRITE || res <= 0 || (r->flags & RF_CANCEL))
		return false;
	if (r->moved + (uint64_t)res >= req_len(r))
		return false;
	return fdq_kind(r) == FDK_STREAM;
}

/* The kernel filled the first n bytes of the read's buffers behind valgrind's back. */
static void mark_defined(const struct req *r, uint64_t n)
{
	const struct iovec *v = (const struct iovec *)r->cb->aio_buf;

	if (!r->vec) {
		VALGRIND_MAKE_MEM_DEFINED((const void *)r->cb->aio_buf, n);
		return;
	}
	for (size_t i = 0; n && i < r->cb->aio_nbytes; i++) {
		size_t len = v[i].iov_len < n ? v[i].iov_len : n;

		VALGRIND_MAKE_MEM_DEFINED(v[i].iov_base, len);
		n -= len;
	}
}

static void publish(struct req *r, int64_t res)
{
	struct aiocb *cb = r->cb;

	if (r->op == OP_READ && res > 0)
		mark_defined(r, (uint64_t)res);
	cb->__return_value = res < 0 ? -1 : (ssize_t)res;
	if (sev_needs_thread(&r->sev))
		__atomic_store_n(&r->notify_gen, r->gen, __ATOMIC_RELAXED);
	__atomic_store_n(&cb->__error_code, res < 0 ? (int)-res : 0, __ATOMIC_RELEASE);
}

/* Called with core.lock held. */
static void req_finish_locked(struct req *r, int64_t res)
{
	struct req *ready[FDQ_READY_MAX];
	unsigned nready = 0;

	LOCK_HELD();

	if (r->state != REQ_LIVE && r->state != REQ_HELD)
		return; /* a second report for the same request: never complete twice */
	if (write_continues(r, res)) {
		r->moved += (uint64_t)res;
		reissue(r);
		return;
	}
	if (res == -ESPIPE && r->offset >= 0 && (r->flags & RF_CANCEL)) {
		res = -ECANCELED; /* nothing moved, and the program asked to cancel it */
	} else if (res == -ESPIPE && r->offset >= 0) {
		/*
		 * A socket refuses an offset other than 0 (a pipe ignores it): offsets mean
		 * nothing on a stream, so go on from the current position, as glibc does.
		 */
		r->offset = -1;
		reissue(r);
		return;
	}
	if ((r->flags & RF_CANCEL) && res == -EINTR)
		res = -ECANCELED;
	/*
	 * What moved before counts, as write(2) returns what it moved before an error; but a
	 * request cancelled (its file was closed while it went on) is not a short success.
	 */
	if (r->moved && res != -ECANCELED)
		res = (int64_t)r->moved + (res > 0 ? res : 0);
	if (res == -ECANCELED)
		STAT_INC(cancelled);
	STAT_INC(completed);

	if (core.eng->retire)
		core.eng->retire(r);
	req_bg_drop(r, RF_BG);
	req_bg_drop(r, RF_RING);
	if (r->fdq)
		fdq_retire(r, ready, &nready);
	r->state = REQ_DONE;
	claim_publish(r);
	publish(r, res);
	if (r->watch)
		cancel_watch_done(r, res);
	if (r->lio) {
		if (res < 0)
			__atomic_store_n(&r->lio->failed, true, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&r->lio->pending, 1, __ATOMIC_ACQ_REL);
	}
	fifo_push(&tl_done, r);
	if (nready)
		issue_again(ready, nready);
}

/*
 * Completions that arrive while this thread is already finishing one (a held request
 * cancelled on its turn, a submission failing at once) wait here, so that a long queue
 * unwinds in a loop and never as deep recursion.
 */
static TLS bool tl_finishing;
static TLS FIFO(struct req) tl_later;

/* Called with core.lock held. */
static void finish(struct req *r, int64_t res)
{
	LOCK_HELD();
	if (tl_finishing) {
		r->res = res;
		fifo_push(&tl_later, r);
		return;
	}
	tl_finishing = true;
	req_finish_locked(r, res);
	while ((r = fifo_pop(&tl_later)))
		req_finish_locked(r, r->res);
	tl_finishing = false;
}

/* The one way a request completes: res is the byte count or -errno. */
void req_complete(struct req *r, int64_t res)
{
	if (core_locked()) {
		finish(r, res);
		return;
	}
	core_lock();
	finish(r, res);
	core_unlock();
}

/*
 * Called with core.lock held, once r's own notification is out: let go of it. A list's
 * notification follows the last of its members' own.
 */
void req_notified(struct req *r)
{
	LOCK_HELD();
	__atomic_store_n(&r->notify_gen, 0, __ATOMIC_RELEASE);
	req_bg_drop(r, RF_NOTIFY);
	if (r->lio)
		lio_member_notified(r->lio);
	r->lio = NULL;
	claim_push(r);
}

/*
 * Called with core.lock held. Members of a LIO_WAIT list whose caller still waits are handed
 * to it: it delivers their notifications itself once every member is complete, so that
 * they neither interrupt its own wait nor arrive after lio_listio() returned. The rest of
 * the list is returned.
 */
static struct req *hold_for_lio_waiters(struct req *list)
{
	struct req *keep = NULL, **tail = &keep, *r, *next;

	LOCK_HELD();

	for (r = list; r; r = next) {
		next = r->next;
		r->next = NULL;
		if (r->lio && r->lio->hold && sev_needs_thread(&r->sev)) {
			fifo_push(&r->lio->held, r);
			continue;
		}
		*tail = r;
		tail = &r->next;
	}
	return keep;
}

/*
 * Could a signal queued now run its handler on the calling thread? Only if the thread lets it
 * through: a signal it blocks goes to another thread, or waits for sigwaitinfo() or an
 * unblock, which the caller can only do after the call returned. mask: the thread's signal
 * mask, read at the first signal (a system call) and kept by the caller for the next.
 */
static bool signal_reaches_caller(const struct sev *s, sigset_t *mask, bool *have_mask)
{
	if (!*have_mask) {
		if (pthread_sigmask(SIG_BLOCK, NULL, mask))
			return true;
		*have_mask = true;
	}
	return sigismember(mask, s->signo) != 1;
}

/*
 * Called with core.lock held: take out of list the requests whose signal would reach the
 * caller inside the submitting call, and queue them for the background thread, which sends
 * them once the call has returned (req_hold()). A signal the caller blocks is sent now, by
 * the caller: handing it over cost the caller an eventfd write and the two threads a wake-up
 * and the lock, per request. Not when notifications are queued already: they go first. A
 * callback runs on a pool thread anyway, so it is handed over at once.
 */
static struct req *signals_for_later(struct req *list, uint8_t mode)
{
	struct req *keep = NULL, **tail = &keep, *r, *next;
	bool queued = false, have_mask = false;
	bool ahead = !fifo_empty(&core.bg_reqs) || !fifo_empty(&core.bg_lios);
	sigset_t mask;

	LOCK_HELD();

	for (r = list; r; r = next) {
		bool sig = r->sev.notify == SIGEV_SIGNAL || r->sev.notify == SIGEV_THREAD_ID;

		next = r->next;
		r->next = NULL;
		if (sig ? (mode & NOTIFY_LATER_SIGNALS) && sev_needs_thread(&r->sev) &&
				  (ahead || queued || signal_reaches_caller(&r->sev, &mask, &have_mask))
			: r->sev.notify == SIGEV_THREAD && (mode & NOTIFY_LATER_CALLBACKS)) {
			if (sig)
				req_hold(&r->queued_by);
			else
				r->queued_by.ts = NULL; /* a callback runs on a pool thread */
			fifo_push(&core.bg_reqs, r);
			queued = true;
			continue;
		}
		*tail = r;
		tail = &r->next;
	}
	if (queued)
		bg_wake();
	return keep;
}

/*
 * Called with core.lock held: deliver the sigevents of reqs, then of lios, outside the lock
 * (they are system calls and may create threads), then let go of each and wake waiters.
 * The one delivery loop, for a thread's own completions, a LIO_WAIT caller's members and
 * the background thread's queue. Lists come only from that queue, which holds a reference
 * and a reason for the background thread for each.
 */
void req_deliver(struct req *reqs, struct lio *lios)
{
	struct req *r, *next;
	struct lio *l, *lnext;
	bool any = false;

	LOCK_HELD();

	for (r = reqs; r && !any; r = r->next)
		any = sev_needs_thread(&r->sev);
	for (l = lios; l && !any; l = l->next)
		any = sev_needs_thread(&l->sev);
	/*
	 * Nothing to send (SIGEV_NONE): the lock stays held, saving a round trip on it per
	 * batch, and no other thread sees these requests done but not yet claimable.
	 */
	if (any) {
		core_drop();
		for (r = reqs; r; r = r->next)
			sev_deliver(&r->sev);
		for (l = lios; l; l = l->next)
			sev_deliver(&l->sev);
		core_retake();
	}
	/* Members first: a list they complete joins the background queue behind them. */
	for (r = reqs; r; r = next) {
		next = r->next;
		req_notified(r);
	}
	for (l = lios; l; l = lnext) {
		lnext = l->next;
		bg_put(1);
		lio_put(l);
	}
	waiters_wake();
}

/* Called with core.lock held, from core_unlock(): notify what this thread finished, then free. */
void req_finish_deferred(void)
{
	LOCK_HELD();
	while (!fifo_empty(&tl_done)) {
		struct req *list = hold_for_lio_waiters(fifo_take(&tl_done));

		/* Once exit() has begun the background thread delivers nothing more. */
		if (tl_notify_later && core.bg_running &&
		    !__atomic_load_n(&core.exiting, __ATOMIC_ACQUIRE))
			list = signals_for_later(list, tl_notify_later);
		req_deliver(list, NULL);
	}
}

/*
 * In a forked child: the parent's lio_listio() lists in flight, each once, from the background
 * thread's queue and from their members. Their refs are cleared as they are found.
 */
static struct lio *parent_lists(void)
{
	struct lio *all = fifo_take(&core.bg_lios), *l;

	for (l = all; l; l = l->next)
		l->refs = 0;
	for (uint32_t i = 0; i < core.nslabs; i++) {
		for (uint32_t j = 0; j < REQ_SLAB; j++) {
			l = core.slabs[i][j].lio;
			if (l && l->refs) {
				l->refs = 0;
				l->next = all;
				all = l;
			}
		}
	}
	return all;
}

void req_fork_child(void)
{
	struct lio *l = parent_lists();

	/* The parent's requests and lists are not the child's: let their memory go. */
	while (l) {
		struct lio *next = l->next;

		free(l);
		l = next;
	}
	for (uint32_t i = 0; i < core.nslabs; i++)
		free(core.slabs[i]);
	free(core.slabs);
	core.slabs = NULL;
	while (nretired)
		free(retired[--nretired]);
	core.nslabs = core.cap_slabs = 0;
	core.free = NULL;
	fifo_init(&tl_done);
	fifo_init(&tl_later);
	tl_finishing = false;
}

uint64_t req_len(const struct req *r)
{
	const struct iovec *v = (const struct iovec *)r->cb->aio_buf;
	uint64_t sum = 0;

	if (!r->vec)
		return r->cb->aio_nbytes;
	for (size_t i = 0; i < r->cb->aio_nbytes; i++)
		sum += v[i].iov_len;
	return sum;
}

int req_view(struct req *r, uint64_t moved, struct iovec *one, struct req_view *v)
{
	int n = 0;

	v->fd = r->fd;
	v->op = r->op;
	v->len = r->vec ? 0 : r->cb->aio_nbytes;
	v->off = r->offset < 0 ? -1 : r->offset + (int64_t)moved;
	v->iov = one;
	v->iovcnt = 0;
	if (r->op != OP_READ && r->op != OP_WRITE)
		return 0;
	n = req_span(r, moved, one, &v->iov);
	if (n < 0)
		return n;
	if (v->iov == one && one->iov_len > MAX_RW)
		one->iov_len = MAX_RW;
	v->iovcnt = n;
	return 0;
}

int req_span(struct req *r, uint64_t done, struct iovec *one, const struct iovec **iov)
{
	const struct iovec *v = (const struct iovec *)r->cb->aio_buf;
	size_t n = r->cb->aio_nbytes, i = 0;
	struct iovec *copy;

	if (!r->vec) {
		one->iov_base = req_buf(r, done);
		one->iov_len = r->cb->aio_nbytes - done;
		*iov = one;
		return 1;
	}
	if (!done) {
		*iov = v;
		return (int)n;
	}
	/* Read only after the kernel took the array once: its addresses are the caller's. */
	while (i < n && done >= v[i].iov_len)
		done -= v[i++].iov_len;
	if (i == n)
		return 0;
	copy = realloc(r->iov, (n - i) * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, v + i, (n - i) * sizeof(*copy));
	copy[0].iov_base = (char *)copy[0].iov_base + done;
	copy[0].iov_len -= done;
	r->iov = copy;
	*iov = copy;
	return (int)(n - i);
}
