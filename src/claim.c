/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Claiming completions: posixaio_fd() and aio_waitcomplete(), the extensions that let one
 * event loop serve sockets and file AIO together.
 *
 * A request that is complete and notified moves to the claim list instead of being freed,
 * and leaves it when claimed: by aio_return(), by aio_waitcomplete(), or by the submission
 * of the same aiocb again. aio_return() claims without core.lock, by a compare-and-swap on the
 * request's claim word (its generation, and whether it is listed yet: aio_return() may come
 * between the result and the notification, and counts then too), so the hot path of a
 * program that never uses the extensions takes no lock more. Such a program never asked
 * either, so only its last CLAIM_KEEP completions are kept (they let a first
 * aio_waitcomplete() see a request that finished inside aio_read()). The first posixaio_fd()
 * or aio_waitcomplete() turns that limit off: from then on every completion waits for its
 * claim, as on FreeBSD.
 *
 * A read finished inside aio_read() with nothing to notify (SIGEV_NONE) gets no request at
 * all (claim_light()): its result goes straight into the aiocb without core.lock, so that
 * threads reading the page cache at once do not queue on the lock. aio_waitcomplete() alone
 * would miss it, so it is noted in a ring of the last LIGHT_KEEP such reads, whose entries
 * aio_return() claims as it claims a request; the aiocb's token names the entry (__abs_prio
 * below zero). Each thread takes its places in the ring LIGHT_RUN at a time, and a new run
 * when its own fell more than LIGHT_LAG places behind, so a read stays in the ring for at
 * least LIGHT_KEEP - LIGHT_LAG later ones. Claim mode turns this way off for good and lists
 * the ring's unclaimed entries as requests (light_import()); each entry then forwards claims
 * to its request.
 *
 * posixaio_fd() is an epoll instance holding an eventfd, whose counter is not zero while
 * unclaimed completions exist, and the engine's own descriptors (the io_uring ring, the
 * native AIO epoll set), which are readable while the kernel holds completions nobody has
 * collected yet. So it becomes readable without any thread of the library running; the
 * program's aio_waitcomplete() collects them.
 */
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"
#include "posixaio.h"

#define CLAIM_KEEP 256
#define LIGHT_KEEP 512
#define LIGHT_BUSY 1 /* an entry being written */
/*
 * A thread takes ring positions LIGHT_RUN at a time, so that the threads reading at once do
 * not share a cache line of the ring, nor the counter, at every read.
 */
#define LIGHT_RUN 8
#define LIGHT_LAG 64 /* how far behind the other threads a run may fall */
#define CACHE_LINE 64

/* A read that finished inside aio_read() and has no request (claim_light()). */
struct light {
	/* Atomic: 0 (claimed, or free), gen << 1 (unclaimed), gen << 1 | 1 (listed as the
	 * request slot, slot_gen), or LIGHT_BUSY. */
	uint64_t claim;
	uintptr_t cb;
	uint64_t seq; /* the order they finished in */
	uint32_t slot, slot_gen;
};

static struct light lights[LIGHT_KEEP] __attribute__((aligned(CACHE_LINE)));

/*
 * Read at every light read, written rarely: each on a line of its own, away from core's
 * fields that completions write.
 */
static struct {
	bool on; /* claim mode; atomic */
} __attribute__((aligned(CACHE_LINE))) mode;
static struct {
	uint64_t seq; /* the next ring position to hand out; atomic */
} __attribute__((aligned(CACHE_LINE))) light_pos;
static TLS uint64_t run_next, run_end; /* this thread's positions [run_next, run_end) */

/*
 * Called with core.lock held: the program closed the epoll set it was given, or the eventfd in
 * it (ownfd.c). Let go of both; the next posixaio_fd() makes new ones.
 */
static bool claim_fds_lost(void)
{
	LOCK_HELD();
	if (!__atomic_load_n(&core.claim_ready, __ATOMIC_ACQUIRE))
		return false;
	if (!ownfd_lost(core.claim_efd) && !ownfd_lost(core.claim_epfd))
		return false;
	__atomic_store_n(&core.claim_ready, 0, __ATOMIC_RELEASE);
	ownfd_close(core.claim_epfd);
	ownfd_close(core.claim_efd);
	core.claim_armed = false;
	return true;
}

/* Called with core.lock held: set the eventfd's counter (want) or clear it. */
static void claim_fd_set(bool want)
{
	uint64_t v = 1;

	LOCK_HELD();

	if (!__atomic_load_n(&core.claim_ready, __ATOMIC_ACQUIRE) || want == core.claim_armed ||
	    claim_fds_lost())
		return;
	if (!ownfd_use(core.claim_efd))
		return;
	if (want ? write(core.claim_efd, &v, sizeof(v)) : read(core.claim_efd, &v, sizeof(v))) {
		/* Neither fails on a non-blocking eventfd in the state claim_armed says. */
	}
	ownfd_done();
	core.claim_armed = want;
	if (!want && core.eng->quiet)
		core.eng->quiet();
}

/* Called with core.lock held: the eventfd's counter follows whether anything is unclaimed. */
static void claim_fd_update(void)
{
	claim_fd_set(__atomic_load_n(&core.unclaimed, __ATOMIC_ACQUIRE) > 0);
}

/*
 * Lock-free: does posixaio_fd() watch the engine's descriptors? A reaper about to take a
 * report from one of them that vanishes as it is taken (a stream's one-shot readiness in
 * the poll part's epoll set) must then keep the descriptor readable: see claim_expect().
 */
bool claim_watching(void)
{
	return __atomic_load_n(&core.claim_ready, __ATOMIC_ACQUIRE);
}

/*
 * Called with core.lock held, before taking such a report: the eventfd shows a completion on
 * its way, so that posixaio_fd() does not stop being readable between the report leaving the
 * engine's set and the completion it makes being listed (a program's poll() then select()
 * of it would see it readable, then not). claim_expected() puts the counter right once the
 * completions made are listed (req_finish_deferred()); a report that made none leaves
 * posixaio_fd() readable for that moment, as the report itself did.
 */
void claim_expect(void)
{
	claim_fd_set(true);
}

void claim_expected(void)
{
	claim_fd_update();
}

static uint64_t listed(const struct req *r)
{
	return (uint64_t)r->gen << 1 | 1;
}

static bool claim_mode(void)
{
	return __atomic_load_n(&mode.on, __ATOMIC_ACQUIRE);
}

/*
 * The count of unclaimed entries is kept in claim mode only: before, nobody reads it, and
 * aio_return() would update a line of core that the notifying thread updates too, for every
 * request. Turning claim mode on counts the list; a claim that raced the switch leaves the
 * count one too high, which the list emptying puts right.
 */
static void unclaimed_dec(void)
{
	if (claim_mode())
		__atomic_sub_fetch(&core.unclaimed, 1, __ATOMIC_ACQ_REL);
}

/* Called with core.lock held: claim r if it still waits in the list. True when this did. */
static bool claim_listed(struct req *r)
{
	uint64_t want = listed(r);

	LOCK_HELD();

	if (!__atomic_compare_exchange_n(&r->claim, &want, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return false;
	unclaimed_dec();
	return true;
}

/* Called with core.lock held: take r off the head of the list and free it. */
static void claim_drop_head(void)
{
	struct req *r = fifo_pop(&core.claims);

	LOCK_HELD();

	core.nclaim--;
	claim_listed(r);
	if (fifo_empty(&core.claims))
		__atomic_store_n(&core.unclaimed, 0, __ATOMIC_RELEASE);
	req_free(r);
}

static bool claimed(struct req *r)
{
	return __atomic_load_n(&r->claim, __ATOMIC_ACQUIRE) == 0;
}

/* Called with core.lock held: free what was claimed in the middle of the list. */
static void claim_compact(void)
{
	struct req **p = &core.claims.head, *r, *last = NULL;

	LOCK_HELD();

	while ((r = *p)) {
		if (!claimed(r)) {
			last = r;
			p = &r->next;
			continue;
		}
		*p = r->next;
		core.nclaim--;
		req_free(r);
	}
	core.claims.tail = last;
}

/* Called with core.lock held: r's result is about to be published. */
void claim_publish(struct req *r)
{
	LOCK_HELD();
	__atomic_store_n(&r->claim_cb, (uintptr_t)r->cb, __ATOMIC_RELAXED);
	__atomic_store_n(&r->claim, (uint64_t)r->gen << 1, __ATOMIC_RELEASE);
}

/* Called with core.lock held: r is complete and notified. */
void claim_push(struct req *r)
{
	uint64_t published = (uint64_t)r->gen << 1;

	LOCK_HELD();

	if (!__atomic_compare_exchange_n(&r->claim, &published, listed(r), false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* aio_return() (or a resubmission) claimed it before its notification was out. */
		req_free(r);
		return;
	}
	r->state = REQ_CLAIM;
	fifo_push(&core.claims, r);
	core.nclaim++;
	if (!mode.on) {
		while (core.claims.head && (claimed(core.claims.head) || core.nclaim > CLAIM_KEEP))
			claim_drop_head();
		return;
	}
	__atomic_add_fetch(&core.unclaimed, 1, __ATOMIC_ACQ_REL);
	while (core.claims.head && claimed(core.claims.head))
		claim_drop_head();
	/* Claimed entries behind one the program keeps: do not let them pile up. */
	if (core.nclaim > 2 * __atomic_load_n(&core.unclaimed, __ATOMIC_RELAXED) + CLAIM_KEEP)
		claim_compact();
	claim_fd_update();
}

/*
 * Without core.lock: claim the ring entry cb's token names. True when the entry was listed as
 * a request: *r and *gen then name that request, to be claimed as any other.
 */
static bool light_claim(const struct aiocb *cb, struct req **r, uint64_t *gen)
{
	unsigned i = (unsigned)(-1 - cb->__abs_prio);
	struct light *l;
	uint64_t v;

	if (i >= LIGHT_KEEP)
		return false;
	l = &lights[i];
	v = __atomic_load_n(&l->claim, __ATOMIC_ACQUIRE);
	do {
		if (v >> 1 != *gen)
			return false; /* claimed already, or the entry went on to another read */
		if (v & 1) {
			*r = req_at(__atomic_load_n(&l->slot, __ATOMIC_RELAXED));
			*gen = __atomic_load_n(&l->slot_gen, __ATOMIC_RELAXED);
			return *r != NULL;
		}
	} while (!__atomic_compare_exchange_n(&l->claim, &v, 0, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return false;
}

/* aio_return() and resubmission: cb's completion, if it waits, is claimed. */
void claim_release(const struct aiocb *cb, bool locked)
{
	struct req *r = NULL;
	uint64_t gen = (uint32_t)cb->__policy, v;

	if (cb->__abs_prio < 0) {
		if (!gen || !light_claim(cb, &r, &gen))
			return;
	} else {
		r = req_slot(cb);
	}
	if (!r || !gen || __atomic_load_n(&r->claim_cb, __ATOMIC_RELAXED) != (uintptr_t)cb)
		return;
	v = __atomic_load_n(&r->claim, __ATOMIC_ACQUIRE);
	do {
		if (!v || v >> 1 != gen)
			return; /* claimed already, or the slot went on to another request */
	} while (!__atomic_compare_exchange_n(&r->claim, &v, 0, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	if (!(v & 1) || !claim_mode())
		return; /* not listed yet: claim_push() will see it claimed and free it */
	/* The entry stays in the list until someone holding core.lock passes by. */
	if (__atomic_sub_fetch(&core.unclaimed, 1, __ATOMIC_ACQ_REL) != 0 ||
	    !__atomic_load_n(&core.claim_ready, __ATOMIC_ACQUIRE))
		return;
	if (locked) {
		claim_fd_update();
		return;
	}
	/*
	 * aio_return() is async-signal-safe: a handler that interrupted this thread inside the
	 * library may not take core.lock. The eventfd stays set (posixaio_fd() reports once more
	 * than needed) until the next pass with core.lock held clears it.
	 */
	if (core_inside())
		return;
	core_lock();
	claim_fd_update();
	core_unlock();
}

/* Called with core.lock held: the oldest unclaimed completion's aiocb, now claimed, or NULL. */
static struct aiocb *claim_pop(void)
{
	LOCK_HELD();
	while (core.claims.head) {
		struct req *r = core.claims.head;
		struct aiocb *cb = r->cb;
		bool mine = claim_listed(r);

		claim_drop_head();
		if (mine) {
			claim_fd_update();
			return cb;
		}
	}
	return NULL;
}

/*
 * Called with core.lock held, in claim mode: list the ring's unclaimed reads as requests,
 * oldest first. The number listed. An entry still being written is listed by its writer,
 * which looks at the mode once it is written. With no memory for a request, an entry stays
 * out of the list (aio_return() still claims it).
 */
static unsigned light_import(void)
{
	struct light *order[LIGHT_KEEP];
	unsigned n = 0, listed_n = 0;

	LOCK_HELD();

	for (unsigned i = 0; i < LIGHT_KEEP; i++) {
		uint64_t v = __atomic_load_n(&lights[i].claim, __ATOMIC_SEQ_CST);
		uint64_t seq = __atomic_load_n(&lights[i].seq, __ATOMIC_RELAXED);
		unsigned j = n;

		if (v <= LIGHT_BUSY || (v & 1))
			continue;
		/* Insertion by finishing order (a writer going round may change seq: no matter). */
		while (j > 0 && __atomic_load_n(&order[j - 1]->seq, __ATOMIC_RELAXED) > seq) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = &lights[i];
		n++;
	}
	for (unsigned i = 0; i < n; i++) {
		struct light *l = order[i];
		uint64_t v = __atomic_load_n(&l->claim, __ATOMIC_ACQUIRE);
		struct req *r;

		if (v <= LIGHT_BUSY || (v & 1))
			continue;
		r = req_alloc();
		if (!r)
			break;
		r->cb = (struct aiocb *)__atomic_load_n(&l->cb, __ATOMIC_RELAXED);
		r->state = REQ_CLAIM;
		__atomic_store_n(&r->claim_cb, (uintptr_t)r->cb, __ATOMIC_RELAXED);
		__atomic_store_n(&r->claim, listed(r), __ATOMIC_RELEASE);
		__atomic_store_n(&l->slot, r->index, __ATOMIC_RELAXED);
		__atomic_store_n(&l->slot_gen, r->gen, __ATOMIC_RELAXED);
		if (!__atomic_compare_exchange_n(&l->claim, &v, v | 1, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&r->claim, 0, __ATOMIC_RELAXED); /* aio_return() came first */
			req_free(r);
			continue;
		}
		fifo_push(&core.claims, r);
		core.nclaim++;
		listed_n++;
	}
	return listed_n;
}

/*
 * Without core.lock, in aio_read(), for a read that finished there and has nothing to notify:
 * publish res in cb without a request. False when it must have one after all (claim mode,
 * or its ring entry is being written by a thread that went round the ring meanwhile).
 */
bool claim_light(struct aiocb *cb, ssize_t res)
{
	uint64_t seq, v;
	struct light *l;
	uint32_t gen;

	if (claim_mode())
		return false;
	/*
	 * A run this thread was held up in has fallen behind the other threads: its places
	 * would leave the ring at once. Take a new one.
	 */
	if (run_next == run_end ||
	    __atomic_load_n(&light_pos.seq, __ATOMIC_RELAXED) - run_next > LIGHT_LAG) {
		run_next = __atomic_fetch_add(&light_pos.seq, LIGHT_RUN, __ATOMIC_RELAXED);
		run_end = run_next + LIGHT_RUN;
	}
	seq = run_next++;
	gen = (uint32_t)seq;
	l = &lights[seq % LIGHT_KEEP];
	if (!gen)
		return false;
	/* Mostly the entry was claimed: try that first, one trip for the cache line. */
	v = 0;
	if (!__atomic_compare_exchange_n(&l->claim, &v, LIGHT_BUSY, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		/*
		 * The entry may hold a read newer than this one, if this thread was held up
		 * since it took seq: keep that, and take the slow way.
		 */
		if ((v & 1) || (int32_t)((uint32_t)(v >> 1) - gen) > 0 ||
		    !__atomic_compare_exchange_n(&l->claim, &v, LIGHT_BUSY, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return false;
	}
	claim_release(cb, false); /* its completion before this one, if nobody claimed it */
	__atomic_store_n(&l->cb, (uintptr_t)cb, __ATOMIC_RELAXED);
	__atomic_store_n(&l->seq, seq, __ATOMIC_RELAXED);
	cb->__return_value = res;
	cb->__abs_prio = -1 - (int)(seq % LIGHT_KEEP);
	cb->__policy = (int)gen;
	__atomic_store_n(&l->claim, (uint64_t)gen << 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cb->__error_code, 0, __ATOMIC_RELEASE);
	if (__atomic_load_n(&mode.on, __ATOMIC_SEQ_CST)) {
		/* Claim mode came on meanwhile and may not have seen this entry. */
		core_lock();
		__atomic_add_fetch(&core.unclaimed, light_import(), __ATOMIC_ACQ_REL);
		claim_fd_update();
		core_unlock();
	}
	return true;
}

/* Called with core.lock held: from now on every completion waits for its claim. */
void claim_mode_on(void)
{
	unsigned n = 0;

	LOCK_HELD();

	if (mode.on)
		return;
	/* Sequentially consistent, against claim_light()'s entry and its look at the mode. */
	__atomic_store_n(&mode.on, true, __ATOMIC_SEQ_CST);
	light_import();
	for (struct req *r = core.claims.head; r; r = r->next)
		n += !claimed(r);
	__atomic_store_n(&core.unclaimed, n, __ATOMIC_RELEASE);
}

static bool claim_waiting(void *arg)
{
	(void)arg;
	return __atomic_load_n(&core.unclaimed, __ATOMIC_ACQUIRE) > 0;
}

/*
 * Reaps blocking: when posixaio_fd() turned readable because the kernel holds a completion
 * (or a stream's readiness) that another thread is collecting right now, a zero-timeout
 * aio_waitcomplete() waits the moment that thread needs to list it, rather than answer EAGAIN
 * for a completion that is there. That thread may already have emptied the ring or drained
 * the stream, so that reap() finds nothing to wait for: then wait for its reap_lock anyway.
 */
static struct aiocb *claim_take(void)
{
	struct aiocb *cb;

	reap(true);
	core_lock();
	cb = claim_pop();
	core_unlock();
	if (cb)
		return cb;
	reap_settle();
	core_lock();
	cb = claim_pop();
	core_unlock();
	return cb;
}

static ssize_t claim_result(struct aiocb *cb)
{
	int err = __atomic_load_n(&cb->__error_code, __ATOMIC_ACQUIRE);

	if (err)
		return ret_errno(-err);
	return cb->__return_value;
}

/*
 * A cancellation point only where it sleeps (wait_until()): taking a completion updates
 * posixaio_fd()'s eventfd with core.lock held, with cancellation disabled.
 */
EXPORT ssize_t aio_waitcomplete(struct aiocb **cbp, struct timespec *timeout)
{
	struct timespec deadline, left;
	struct aiocb *cb;
	int saved = errno, err, cs;

	if (!cbp)
		return ret_errno(-EINVAL);
	*cbp = NULL;
	err = timeout ? wait_deadline(timeout, &deadline) : 0;
	if (!err)
		err = engine_get();
	if (err)
		return ret_errno(err);
	cs = nocancel_begin();
	core_lock();
	claim_mode_on();
	core_unlock();
	while (!(cb = claim_take())) {
		/* A zero timeout polls: no wait set up for it. */
		if (timeout && !wait_time_left(&deadline, &left)) {
			nocancel_end(cs);
			return ret_errno(-EAGAIN);
		}
		/* Another thread may take what woke us: look again, to the same deadline. */
		nocancel_end(cs);
		err = wait_until(claim_waiting, NULL, timeout ? &deadline : NULL);
		cs = nocancel_begin();
		if (err && err != -EAGAIN) {
			nocancel_end(cs);
			return ret_errno(err);
		}
	}
	nocancel_end(cs);
	*cbp = cb;
	return errno_kept(claim_result(cb), saved); /* -1: the request's own error */
}

/* What posixaio.h calls for aio_waitcomplete() in a program built with -D_TIME_BITS=64. */
#if __TIMESIZE == 32
EXPORT ssize_t __aio_waitcomplete_time64(struct aiocb **cbp, struct timespec_time64 *timeout)
{
	struct timespec ts;

	if (timeout && timespec_from_time64(timeout, &ts))
		ts = (struct timespec){ 0, -1 };
	return aio_waitcomplete(cbp, timeout ? &ts : NULL);
}
#else
EXPORT ssize_t __aio_waitcomplete_time64(struct aiocb **cbp, struct timespec *timeout)
	__attribute__((alias("aio_waitcomplete")));
#endif

/* Called with core.lock held: epfd watches the engine's descriptors (again: EEXIST is fine). */
static int watch_engine(int epfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct pollfd pfd[4];
	int n = core.eng->pollfds(pfd, 4);

	LOCK_HELD();
	for (int i = 0; i < n; i++) {
		ev.data.fd = pfd[i].fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, pfd[i].fd, &ev) < 0 && errno != EEXIST)
			return -errno;
	}
	return 0;
}

/*
 * Called with core.lock held: the engine has a descriptor more to wait on (the io_uring
 * engine's native AIO part came up). posixaio_fd()'s set watches it too.
 */
void claim_engine_fds(void)
{
	LOCK_HELD();
	if (__atomic_load_n(&core.claim_ready, __ATOMIC_ACQUIRE) && ownfd_use(core.claim_epfd)) {
		watch_engine(core.claim_epfd); /* failing, it stays as it was */
		ownfd_done();
	}
}

static int claim_fds_open(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int efd, epfd, n;

	efd = ownfd_new(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), false);
	if (efd < 0)
		return efd;
	epfd = ownfd_new(epoll_create1(EPOLL_CLOEXEC), false);
	if (epfd < 0) {
		ownfd_close(efd);
		return epfd;
	}
	ev.data.fd = efd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev) < 0)
		goto fail;
	n = watch_engine(epfd);
	if (n < 0) {
		errno = -n;
		goto fail;
	}
	core.claim_efd = efd;
	core.claim_epfd = epfd;
	core.claim_armed = false;
	__atomic_store_n(&core.claim_ready, 1, __ATOMIC_RELEASE);
	claim_fd_update();
	return 0;
fail:
	n = -errno;
	ownfd_close(epfd);
	ownfd_close(efd);
	return n;
}

/* No cancellation point: its eventfd is updated with core.lock held. */
EXPORT int posixaio_fd(void)
{
	int saved = errno, err = engine_get(), cs;

	if (err)
		return ret_errno(err);
	cs = nocancel_begin();
	core_lock();
	claim_mode_on();
	claim_fds_lost();
	if (!core.claim_ready)
		err = claim_fds_open();
	core_unlock();
	nocancel_end(cs);
	/* Out of descriptors or memory says so; anything else may pass: try again. */
	if (err && err != -EMFILE && err != -ENFILE && err != -ENOMEM)
		err = -EAGAIN;
	return (int)errno_kept(err ? ret_errno(err) : core.claim_epfd, saved);
}

/* The child starts without claims; posixaio_fd() gives it descriptors of its own. */
void claim_fork_child(void)
{
	if (core.claim_ready) {
		ownfd_close(core.claim_epfd);
		ownfd_close(core.claim_efd);
	}
	fifo_init(&core.claims);
	memset(lights, 0, sizeof(lights)); /* the parent's reads */
	core.nclaim = 0;
	core.unclaimed = 0;
	mode.on = false;
	core.claim_armed = false;
	core.claim_ready = 0;
}
