/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The native AIO engine, for where io_uring is refused (container seccomp profiles,
 * kernel.io_uring_disabled, kernels before 5.1).
 *
 * Regular files and block devices go to one native AIO context (io_submit). With O_DIRECT the
 * kernel does the I/O asynchronously. Buffered I/O would run synchronously inside io_submit,
 * so it is submitted with RWF_NOWAIT: the kernel serves it from the page cache at once, or
 * answers -EAGAIN (or a short count) where it would have to wait, and only that remainder
 * goes to the helper threads doing pread/pwrite (helpers.c), the one place threads do I/O.
 * Where the filesystem refuses RWF_NOWAIT for an operation (ext4 buffered writes, tmpfs) the
 * descriptor's requests of that kind go to the helpers directly once it has been seen.
 * aio_fsync is IOCB_CMD_FSYNC or IOCB_CMD_FDSYNC, run by the kernel's workqueue; a file whose
 * filesystem refuses those gets fsync(2) from a helper.
 *
 * Pipes, FIFOs, sockets, ttys and character devices go to the poll part (engine-poll.c).
 * The context signals an eventfd on every completion, and that eventfd sits in the poll
 * part's epoll set: a waiter sleeps on one descriptor for disk and network.
 *
 * A context holds a bounded number of requests (io_setup's nr counts against the system-wide
 * fs.aio-max-nr), so requests beyond it wait here, in a FIFO, and go to the kernel as
 * completions free slots: any number can be outstanding. The context starts small and is
 * replaced by one twice its size when requests back up (the old one drains, then goes); with
 * no context to be had at all, file requests go to the helpers.
 *
 * A request that waits here for a slot holds a duplicate of its descriptor (fdhold.c), shared
 * by all such requests on it and closed with the last, as one waiting for a helper does:
 * POSIX has a request the caller does not cancel complete "as if the close() had not yet
 * occurred", and the kernel's own reference ends when it answers -EAGAIN.
 *
 * Completions are taken straight from the context's completion ring, mapped in our memory
 * (as fio's userspace_reap does; the kernel reads the head we advance to free slots, and never
 * writes it unless io_getevents is called): no system call to see or take them. The eventfd
 * is read only where a waiter is about to sleep, not once per completion.
 *
 * Locks (their order is in internal.h): the FIFO, the count in the kernel and the
 * per-request records are guarded by core.lock. Ring slots are claimed with a compare-and-swap of its head, so the reaper and a
 * submitter may both take events.
 */
#include <fcntl.h>
#include <libaio.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "engine-poll.h"
#include "fdtab.h"
#include "internal.h"

#if HAVE_VALGRIND
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_DEFINED(addr, len) ((void)(addr), (void)(len))
#endif

/*
 * fs.aio-max-nr (65536 by default) is shared by the whole system and io_setup's nr counts
 * against it: a context starts at CTX_START requests and doubles, up to CTX_EVENTS, only when
 * requests wait for a slot. When none can be had at all, file requests go to the helpers
 * and io_setup is tried again at most once every CTX_RETRY_SEC.
 */
#define CTX_EVENTS 4096
#define CTX_START 128
#define CTX_EVENTS_MIN 16
#define CTX_RETRY_SEC 1
#define SUBMIT_BATCH 128
#define REAP_BATCH 256
#define INLINE_BATCH 32
/*
 * io_submit copies a page-cache hit inside the call: 16 MiB hold the caller for some 3.5 ms,
 * where glibc returns in microseconds whatever the size. So only buffered requests up to
 * INLINE_MAX bytes are tried with RWF_NOWAIT (a 4 KiB hit stays as fast as it can be), and
 * one submission lets the kernel copy INLINE_BUDGET bytes at most in all, so a list of many
 * mid-size requests cannot add up; the rest go to the helpers at once.
 */
#define INLINE_MAX (64 * 1024)
#define INLINE_BUDGET (4 * INLINE_MAX)
#define AIO_RING_MAGIC 0xa10a10a1

/* The header of the completion ring the kernel maps at the context's address (fs/aio.c). */
struct aio_ring {
	unsigned id;
	unsigned nr;
	unsigned head;
	unsigned tail;
	unsigned magic;
	unsigned compat_features;
	unsigned incompat_features;
	unsigned header_length;
	struct io_event io_events[];
};

enum where {
	K_NONE,
	K_FIFO,    /* waiting for a slot in the context */
	K_KERNEL,  /* in the context */
	K_HELPER,  /* with the helper threads (helpers.c) */
};

/* The engine's side of a request, found by the request's slot number. */
struct kreq {
	struct iocb iocb;
	struct req *r;
	struct kreq *prev, *next; /* FIFO */
	uint64_t done;            /* bytes moved by earlier pieces of a buffered request */
	int fd;                   /* the caller's descriptor, or the duplicate it holds */
	uint8_t where;
	bool nowait; /* its iocb carries RWF_NOWAIT */
	unsigned gen; /* K_KERNEL: the context it is in */
	bool held;   /* fd is the descriptor's duplicate */
};

/* What a descriptor is, looked at again when a request finds no other ahead of it. */
enum fd_flags {
	FD_KNOWN = 1 << 0,
	FD_DIRECT = 1 << 1,
	FD_SLOW_READ = 1 << 2, /* its filesystem refuses RWF_NOWAIT reads */
	FD_SLOW_WRITE = 1 << 3,
};

struct kqueue {
	struct kreq *head, *tail;
};

struct fdinfo {
	dev_t dev; /* the filesystem the FD_SLOW_ flags were seen on */
	uint8_t flags;
};

/* A native AIO context. */
struct kctx {
	io_context_t id;       /* 0: none */
	struct aio_ring *ring; /* NULL: not a layout we know, ask the kernel; atomic */
	unsigned nr, inflight;
	unsigned gen;
};

static struct {
	/*
	 * Requests go to cur. After a growth, old holds what was in the smaller context until
	 * it drains, and is destroyed by the reaper (a reaper may be reading its ring).
	 */
	struct kctx cur, old;
	unsigned gens;
	unsigned old_peeks; /* threads looking at old's ring without a lock; atomic */
	long retry_at; /* CLOCK_MONOTONIC seconds before which io_setup is not tried again */
	int efd;
	bool efd_stale; /* requests in flight signal an eventfd the program closed */
	unsigned losses; /* ownfd_losses() when kaio_fds_check() last looked */
	struct kqueue fifo;
	struct kreq **slabs; /* records by request slot, REQ_SLAB at a time, like the requests */
	unsigned nslabs;
	struct fdtab fds; /* struct fdinfo by descriptor */
	bool submitting;
	FIFO(struct req) later; /* issued while submitting: taken by the same loop */
	uint64_t inline_left; /* of INLINE_BUDGET, for the submission under way */
} kaio = { .efd = -1, .fds = FDTAB_INIT(struct fdinfo) };

static void q_push(struct kqueue *q, struct kreq *k)
{
	dlist_push(q, k);
}

static void q_push_front(struct kqueue *q, struct kreq *k)
{
	dlist_push_front(q, k);
}

static void q_del(struct kqueue *q, struct kreq *k)
{
	dlist_remove(q, k);
	k->prev = k->next = NULL;
}

/* Called with core.lock held. The record of r; with grow, made if missing (NULL: no memory). */
static struct kreq *kreq_of(const struct req *r, bool grow)
{
	uint32_t slab = r->index / REQ_SLAB;

	LOCK_HELD();

	if (slab >= kaio.nslabs) {
		unsigned n = kaio.nslabs ? 2 * kaio.nslabs : 16;
		struct kreq **t;

		if (!grow)
			return NULL;
		while (n <= slab)
			n *= 2;
		t = realloc(kaio.slabs, n * sizeof(*t));
		if (!t)
			return NULL;
		memset(t + kaio.nslabs, 0, (n - kaio.nslabs) * sizeof(*t));
		kaio.slabs = t;
		kaio.nslabs = n;
	}
	if (!kaio.slabs[slab]) {
		if (!grow)
			return NULL;
		kaio.slabs[slab] = calloc(REQ_SLAB, sizeof(struct kreq));
		if (!kaio.slabs[slab])
			return NULL;
	}
	return &kaio.slabs[slab][r->index % REQ_SLAB];
}

static struct fdinfo *fdinfo_slot(int fd)
{
	return fdtab_get(&kaio.fds, fd);
}

/*
 * The descriptor's flags. Refreshed when nothing is ahead of r on its descriptor, the only
 * time the number may name another file; RWF_NOWAIT support belongs to the filesystem, so
 * what was seen of it is kept while the descriptor stays on the same one.
 */
static uint8_t fd_flags(const struct req *r)
{
	struct fdinfo *fi = fdinfo_slot(r->fd);
	uint8_t slow;
	struct stat64 st;

	if (!fi)
		return FD_KNOWN;
	if ((fi->flags & FD_KNOWN) && r->fd_prev)
		return fi->flags;
	slow = fi->flags & (FD_SLOW_READ | FD_SLOW_WRITE);
	if (slow && (fstat64(r->fd, &st) < 0 || st.st_dev != fi->dev))
		slow = 0;
	/* O_DIRECT comes with the descriptor's classification: no fcntl() of its own. */
	fi->flags = FD_KNOWN | slow | (fdq_direct(r) ? FD_DIRECT : 0);
	return fi->flags;
}

static void mark_slow(const struct req *r)
{
	struct fdinfo *fi = fdinfo_slot(r->fd);
	struct stat64 st;

	if (!fi || fstat64(r->fd, &st) < 0)
		return;
	if (st.st_dev != fi->dev)
		fi->flags &= (uint8_t) ~(FD_SLOW_READ | FD_SLOW_WRITE);
	fi->dev = st.st_dev;
	fi->flags |= r->op == OP_READ ? FD_SLOW_READ : FD_SLOW_WRITE;
}

/* Called with core.lock held: make k hold its descriptor's duplicate. */
static void hold(struct kreq *k)
{
	int d;

	LOCK_HELD();

	if (k->held)
		return;
	d = fdhold_get(k->r->fd);
	if (d < 0)
		return; /* no descriptor to spare: use the number, as glibc does */
	k->fd = d;
	k->held = true;
}

static void unhold(struct kreq *k)
{
	int d = k->fd;

	if (!k->held)
		return;
	k->held = false; /* before the close: a fork() meanwhile must not close the number again */
	k->fd = k->r->fd;
	fdhold_put(k->r->fd, d);
}

static void prep(struct kreq *k)
{
	struct iovec one;
	struct req_view v;
	long long off;

	if (req_view(k->r, k->done, &one, &v) < 0)
		v.iovcnt = 0; /* no memory to go on: it ends with what it moved */
	off = v.off < 0 ? (long long)k->done : v.off;
	/* A plain buffer as PREAD/PWRITE (one is on this stack), an array as PREADV/PWRITEV. */
	switch (v.op) {
	case OP_READ:
		if (v.iov == &one)
			io_prep_pread(&k->iocb, k->fd, one.iov_base, one.iov_len, off);
		else
			io_prep_preadv(&k->iocb, k->fd, v.iov, v.iovcnt, off);
		break;
	case OP_WRITE:
		if (v.iov == &one)
			io_prep_pwrite(&k->iocb, k->fd, one.iov_base, one.iov_len, off);
		else
			io_prep_pwritev(&k->iocb, k->fd, v.iov, v.iovcnt, off);
		break;
	case OP_FSYNC:
		io_prep_fsync(&k->iocb, k->fd);
		break;
	default:
		io_prep_fdsync(&k->iocb, k->fd);
		break;
	}
	k->iocb.aio_rw_flags = k->nowait ? RWF_NOWAIT : 0;
	k->iocb.data = k;
}

static struct kctx *ctx_of(const struct kreq *k);

/* Called with core.lock held. The result of r, counting its earlier pieces. */
static void finish(struct kreq *k, int64_t res)
{
	LOCK_HELD();
	if (k->done)
		res = (int64_t)k->done + (res > 0 ? res : 0);
	k->where = K_NONE;
	unhold(k);
	req_complete(k->r, res);
}

/* Called with core.lock held: what would block goes to the helper threads. */
static void helper_queue(struct kreq *k)
{
	LOCK_HELD();
	k->nowait = false;
	k->where = K_HELPER;
	helpers_queue(k->r, k->done, k->held ? k->fd : -1); /* the duplicate goes with it */
	k->held = false;
	k->fd = k->r->fd;
}

/* k is an O_DIRECT request of the io_uring engine's (engine-uring.c's native AIO part). */
static bool for_ring(const struct kreq *k)
{
	return k->r->flags & RF_KAIO;
}

/* Called with core.lock held: what would block goes back to the io_uring engine's ring. */
static void ring_queue(struct kreq *k)
{
	uint64_t done = k->done;
	int held = k->held ? k->fd : -1;

	LOCK_HELD();
	k->where = K_NONE;
	k->nowait = false;
	k->held = false; /* the duplicate goes with it */
	k->fd = k->r->fd;
	k->done = 0;
	uring_direct_back(k->r, done, held);
}

/* Called with core.lock held: io_submit refused k with err. */
static void refused(struct kreq *k, int err)
{
	const struct req *r = k->r;

	LOCK_HELD();

	/* (-EAGAIN never comes here: kick() keeps the request for the next reap.) */
	if (k->nowait && for_ring(k) && (err == -EOPNOTSUPP || err == -EINVAL)) {
		ring_queue(k);
		return;
	}

	if (k->nowait && (err == -EOPNOTSUPP || err == -EINVAL)) {
		/* No RWF_NOWAIT for this file (tmpfs, procfs, ...): a helper gives the answer. */
		if (err == -EOPNOTSUPP)
			mark_slow(r);
		helper_queue(k);
		return;
	}
	if ((r->op == OP_FSYNC || r->op == OP_FDSYNC) && err == -EINVAL) {
		helper_queue(k); /* no fsync iocbs for this file: fsync(2) says what it says */
		return;
	}
	finish(k, err);
}

/* Would a RWF_NOWAIT attempt that ended with res go on, by helper or resubmission? */
static bool would_go_on(const struct kreq *k, long res, uint64_t left)
{
	return res == -EAGAIN || res == -EOPNOTSUPP ||
	       (res == -EINVAL && k->r->op == OP_WRITE) || (res > 0 && (uint64_t)res < left);
}

/* Called with core.lock held: the kernel finished k with res. */
static void event(struct kreq *k, long res)
{
	uint64_t left = k->r->vec && res <= 0 ? 1 : req_len(k->r) - k->done;

	LOCK_HELD();

	__atomic_sub_fetch(&ctx_of(k)->inflight, 1, __ATOMIC_RELAXED);
	k->where = K_NONE;
	if (k->nowait && !k->held && would_go_on(k, res, left) && !fdq_same_file(k->r)) {
		/*
		 * The kernel let go of the file, and its descriptor was closed and the number
		 * reused meanwhile: going on by number would touch the new file.
		 */
		k->r->flags |= RF_CANCEL;
		finish(k, res > 0 ? res : -ECANCELED);
		return;
	}
	if (k->nowait) {
		if (res == -EAGAIN || res == -EOPNOTSUPP ||
		    (res == -EINVAL && k->r->op == OP_WRITE)) {
			if (for_ring(k)) {
				ring_queue(k); /* it would have waited in the caller's io_submit */
				return;
			}
			/* It would block, or buffered writes cannot be tried without blocking. */
			if (res == -EOPNOTSUPP)
				mark_slow(k->r);
			helper_queue(k);
			return;
		}
		if (res > 0 && (uint64_t)res < left) {
			/* Part of it was cached: the rest may be, or a helper waits for it. */
			k->done += (uint64_t)res;
			prep(k);
			k->where = K_FIFO;
			q_push_front(&kaio.fifo, k);
			return;
		}
	}
	finish(k, res);
}

static void events(struct io_event *ev, int n)
{
	for (int i = 0; i < n; i++)
		event(ev[i].data, (long)ev[i].res);
}

static bool ring_ready(const struct kctx *c)
{
	const struct aio_ring *ring = __atomic_load_n(&c->ring, __ATOMIC_SEQ_CST);

	return ring && __atomic_load_n(&ring->head, __ATOMIC_RELAXED) !=
			       __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
}

/*
 * ring_ready() for the old context, from any thread, lock or not: the reaper may destroy it
 * (and so unmap its ring) meanwhile, so it waits for the lookers (ctx_retire_old).
 */
static bool old_ready(void)
{
	bool ready;

	__atomic_add_fetch(&kaio.old_peeks, 1, __ATOMIC_SEQ_CST);
	ready = ring_ready(&kaio.old);
	__atomic_sub_fetch(&kaio.old_peeks, 1, __ATOMIC_SEQ_CST);
	return ready;
}

/* Every context has its ring in our memory: completions can be seen without a syscall. */
static bool rings_known(void)
{
	return (!__atomic_load_n(&kaio.cur.id, __ATOMIC_RELAXED) ||
		__atomic_load_n(&kaio.cur.ring, __ATOMIC_RELAXED)) &&
	       (!__atomic_load_n(&kaio.old.id, __ATOMIC_RELAXED) ||
		__atomic_load_n(&kaio.old.ring, __ATOMIC_RELAXED));
}

/* Up to max completions of c, from any thread: a slot is ours once head moved past it. */
static int take_ctx(struct kctx *c, struct io_event *ev, int max)
{
	struct aio_ring *ring = __atomic_load_n(&c->ring, __ATOMIC_ACQUIRE);
	struct timespec zero = { 0, 0 };
	io_context_t id = __atomic_load_n(&c->id, __ATOMIC_ACQUIRE);
	int n = 0;

	if (!id || max <= 0)
		return 0;
	if (!ring)
		return io_getevents(id, 0, max, ev, &zero);
	while (n < max) {
		unsigned head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);

		if (head == tail || head >= ring->nr)
			break;
		ev[n] = ring->io_events[head];
		if (__atomic_compare_exchange_n(&ring->head, &head, (head + 1) % ring->nr, false,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			n++;
	}
	return n;
}

/* Completions of both contexts. */
static int take(struct io_event *ev, int max)
{
	int n = take_ctx(&kaio.cur, ev, max);

	if (n < 0)
		n = 0;
	if (n < max) {
		int m = take_ctx(&kaio.old, ev + n, max - n);

		n += m > 0 ? m : 0;
	}
	return n;
}

static long mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long)ts.tv_sec;
}

/* Map c's completion ring if its layout is one we know. */
static void ctx_map(struct kctx *c)
{
	struct aio_ring *ring = (struct aio_ring *)c->id;

	c->ring = NULL;
	if (ring->magic == AIO_RING_MAGIC && ring->header_length == sizeof(*ring) &&
	    !ring->incompat_features) {
		long page = sysconf(_SC_PAGESIZE);
		size_t len = sizeof(*ring) + ring->nr * sizeof(struct io_event);

		len = (len + (size_t)page - 1) & ~((size_t)page - 1);
		/* A child gets no context: it need not carry the parent's ring either. */
		madvise(ring, len, MADV_DONTFORK);
		/* memcheck maps the ring for the nr asked, the kernel for about twice as many. */
		VALGRIND_MAKE_MEM_DEFINED(ring, len);
		__atomic_store_n(&c->ring, ring, __ATOMIC_RELEASE);
	}
}

/*
 * Called with core.lock held (or at init): a context of nr requests, halving down to min while
 * the system budget refuses. 0 or -errno; a refusal is not tried again for CTX_RETRY_SEC.
 */
static int ctx_new(struct kctx *c, unsigned nr, unsigned min)
{
	io_context_t id = 0;
	int ret;

	for (;;) {
		ret = io_setup((int)nr, &id);
		if (ret != -EAGAIN || nr <= min)
			break;
		nr /= 2;
	}
	if (ret < 0) {
		kaio.retry_at = mono_sec() + CTX_RETRY_SEC;
		return ret;
	}
	memset(c, 0, sizeof(*c));
	c->nr = nr;
	c->gen = ++kaio.gens;
	__atomic_store_n(&c->id, id, __ATOMIC_RELEASE);
	ctx_map(c);
	return 0;
}

/* Called with core.lock held. Field by field: a reaper reads id and ring without core.lock. */
static void ctx_set(struct kctx *dst, const struct kctx *src)
{
	LOCK_HELD();
	__atomic_store_n(&dst->ring, src->ring, __ATOMIC_RELEASE);
	__atomic_store_n(&dst->id, src->id, __ATOMIC_RELEASE);
	__atomic_store_n(&dst->inflight, src->inflight, __ATOMIC_RELAXED);
	dst->nr = src->nr;
	dst->gen = src->gen;
}

static struct kctx *ctx_of(const struct kreq *k)
{
	return k->gen == kaio.cur.gen ? &kaio.cur : &kaio.old;
}

/*
 * Called with core.lock held: requests wait for a slot in cur. Move to a context twice its size,
 * leaving cur to drain as old; one growth at a time. True when there is room now.
 */
static bool ctx_grow(void)
{
	struct kctx c;

	LOCK_HELD();

	if (kaio.old.id || kaio.cur.nr >= CTX_EVENTS || mono_sec() < kaio.retry_at)
		return false;
	if (ctx_new(&c, kaio.cur.nr * 2, kaio.cur.nr * 2) < 0)
		return false;
	ctx_set(&kaio.old, &kaio.cur);
	ctx_set(&kaio.cur, &c);
	return true;
}

/*
 * Called with core.lock held: no context yet (the budget was used up, or the io_uring engine's
 * first O_DIRECT request): try again, not often. Made aside and published field by field, as
 * ctx_grow() does: reapers read kaio.cur without core.lock.
 */
static bool ctx_have(void)
{
	struct kctx c;

	LOCK_HELD();
	if (kaio.cur.id)
		return true;
	if (mono_sec() < kaio.retry_at || ctx_new(&c, CTX_START, CTX_EVENTS_MIN) < 0)
		return false;
	ctx_set(&kaio.cur, &c);
	return true;
}

/* Called with core.reap_lock and core.lock held: the old context drained, let it go. */
static void ctx_retire_old(void)
{
	static const struct kctx none;

	if (!kaio.old.id || kaio.old.inflight)
		return;
	__atomic_store_n(&kaio.old.ring, NULL, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&kaio.old_peeks, __ATOMIC_SEQ_CST))
		sched_yield(); /* a load and a compare: never long */
	io_destroy(kaio.old.id);
	ctx_set(&kaio.old, &none);
}

static void rearm_eventfd(void);
static void kaio_fds_check(void);

#define KAIO_FLAG_RESFD (1 << 0) /* the kernel's IOCB_FLAG_RESFD: libaio.h has no name for it */

/*
 * Called with core.lock held: the request at the head of the FIFO waits with a duplicate the
 * program closed (ownfd.c). The number may name another file now: fail it.
 */
static bool fifo_lost_head(void)
{
	struct kreq *k = kaio.fifo.head;

	LOCK_HELD();

	if (!ownfd_lost(k->fd))
		return false;
	q_del(&kaio.fifo, k);
	k->where = K_NONE;
	k->r->flags |= RF_CANCEL;
	finish(k, -ECANCELED);
	return true;
}

/*
 * Called with core.lock held: give the kernel what the FIFO holds, as far as the context has
 * room. A buffered request is answered inside io_submit: taking those answers now makes a
 * page-cache hit visible before aio_read returns, and hands what would block to a helper
 * while the caller's descriptor is surely still open.
 */
static void kick(void)
{
	struct io_event ev[INLINE_BATCH];
	struct iocb *batch[SUBMIT_BATCH];
	bool took = false;

	LOCK_HELD();

	while (kaio.fifo.head && (kaio.cur.inflight < kaio.cur.nr || ctx_grow())) {
		unsigned n = 0, room = kaio.cur.nr - kaio.cur.inflight;
		struct kreq *k;
		int ret;

		if (fifo_lost_head())
			continue;
		/* The eventfd and duplicates the iocbs name stay the library's until submitted. */
		ownfd_enter();
		for (k = kaio.fifo.head; k && n < SUBMIT_BATCH && n < room; k = k->next) {
			if (ownfd_lost(k->fd))
				break; /* failed when it reaches the head */
			/* Named now: the program may have closed the eventfd since prep(). */
			if (kaio.efd >= 0 && !ownfd_lost(kaio.efd))
				io_set_eventfd(&k->iocb, kaio.efd);
			else
				k->iocb.u.c.flags &= ~(unsigned)KAIO_FLAG_RESFD;
			batch[n++] = &k->iocb;
		}
		ret = io_submit(kaio.cur.id, (long)n, batch);
		ownfd_done();
		if (ret == -EAGAIN || ret == 0) {
			/* Short of kernel memory: what is queued goes at the next reap. */
			sq_pending_set(SQP_KAIO, true);
			return;
		}
		if (ret < 0) {
			k = kaio.fifo.head;
			q_del(&kaio.fifo, k);
			k->where = K_NONE;
			refused(k, ret);
			continue;
		}
		for (int i = 0; i < ret; i++) {
			k = kaio.fifo.head;
			q_del(&kaio.fifo, k);
			k->where = K_KERNEL;
			k->gen = kaio.cur.gen;
		}
		__atomic_add_fetch(&kaio.cur.inflight, (unsigned)ret, __ATOMIC_RELAXED);
		while ((ret = take(ev, INLINE_BATCH)) > 0) {
			events(ev, ret);
			took = true;
		}
	}
	sq_pending_set(SQP_KAIO, false);
	/*
	 * The kernel signalled the eventfd for each answer taken here, and nothing else would
	 * clear it while no waiter sleeps: posixaio_fd() would poll readable, with nothing to
	 * claim, for as long as a helper works on what was answered -EAGAIN. Only once that
	 * descriptor exists: elsewhere a waiter clears it before it sleeps.
	 */
	if (took && rings_known() && claim_watching())
		rearm_eventfd();
}

bool kaio_direct_ready(void)
{
	LOCK_HELD();
	return ctx_have();
}

bool kaio_direct_fd(int fd)
{
	const struct fdinfo *fi = fd >= 0 ? fdtab_find(&kaio.fds, fd) : NULL;

	LOCK_HELD();
	return fi && (fi->flags & (FD_KNOWN | FD_DIRECT)) == (FD_KNOWN | FD_DIRECT);
}

static bool is_stream(const struct req *r)
{
	return (r->op == OP_READ || r->op == OP_WRITE) && r->fdq && fdq_kind(r) == FDK_STREAM;
}

/*
 * May buffered r be tried inside io_submit? Not a vectored one: its size is known only by
 * reading the caller's array, which must not be read before the kernel took it.
 */
static bool inline_ok(struct req *r)
{
	struct iovec one;
	struct req_view v;

	req_view(r, 0, &one, &v); /* a plain request needs no memory */
	if (v.iov != &one || v.len > INLINE_MAX || v.len > kaio.inline_left)
		return false;
	kaio.inline_left -= v.len;
	return true;
}

/* Called with core.lock held. */
static void route(struct req *r)
{
	struct kreq *k;
	uint8_t fl;

	LOCK_HELD();

	if (is_stream(r)) {
		poll_submit(r);
		return;
	}
	k = kreq_of(r, true);
	if (!k) {
		req_complete(r, -EAGAIN);
		return;
	}
	k->r = r;
	k->fd = r->fd;
	k->held = false;
	k->done = 0;
	k->nowait = false;
	if (!ctx_have()) {
		helper_queue(k); /* no context to be had: a helper does it, fsync included */
		return;
	}
	if (r->op == OP_READ || r->op == OP_WRITE) {
		fl = fd_flags(r);
		/*
		 * An O_DIRECT request for the io_uring engine may not wait in the caller's
		 * io_submit for the device's queue or the inode's lock: the ring takes it then.
		 */
		k->nowait = (fl & FD_DIRECT) && (r->flags & RF_KAIO);
		if (!(fl & FD_DIRECT)) {
			/* A read req_try_now() found not cached would not be now either. */
			if ((fl & (r->op == OP_READ ? FD_SLOW_READ : FD_SLOW_WRITE)) ||
			    (r->flags & RF_TRIED) || !inline_ok(r)) {
				helper_queue(k);
				return;
			}
			k->nowait = true;
		}
	}
	if (kaio.fifo.head || kaio.cur.inflight >= kaio.cur.nr)
		hold(k); /* it waits for a slot */
	prep(k);
	k->where = K_FIFO;
	q_push(&kaio.fifo, k);
}

/*
 * Called with core.lock held. A request that completes here lets the core issue the next one on
 * its descriptor from inside this call: that one is queued and taken by the outermost loop
 * instead of a nested call, so the stack stays flat however many requests a descriptor has
 * queued behind each other.
 */
static void later_add(struct req **reqs, unsigned n)
{
	LOCK_HELD();
	for (unsigned i = 0; i < n; i++)
		fifo_push_by(&kaio.later, reqs[i], eng_next);
}

static void pump(void)
{
	if (kaio.submitting)
		return;
	kaio.submitting = true;
	kaio.inline_left = INLINE_BUDGET;
	do {
		struct req *r;

		while ((r = fifo_pop_by(&kaio.later, eng_next)))
			route(r);
		kick();
	} while (!fifo_empty(&kaio.later));
	kaio.submitting = false;
}

/* Called with core.lock held. */
static void kaio_submit(struct req **reqs, unsigned n)
{
	LOCK_HELD();
	kaio_fds_check();
	later_add(reqs, n);
	pump();
}

/* Called with core.lock held. */
static int kaio_cancel(struct req *r)
{
	struct io_event ev;
	struct kreq *k;
	int ret;

	LOCK_HELD();

	if (r->state != REQ_LIVE)
		return -ENOENT;
	if (is_stream(r))
		return poll_cancel(r);
	k = kreq_of(r, false);
	if (!k || k->r != r)
		return -ENOENT;
	switch (k->where) {
	case K_FIFO:
		if (k->done)
			return -EALREADY; /* part of it is in the buffer or the file already */
		q_del(&kaio.fifo, k);
		finish(k, -ECANCELED);
		return 0;
	case K_KERNEL:
		/* Only a few drivers can cancel (not files): their completion follows. */
		ret = io_cancel(ctx_of(k)->id, &k->iocb, &ev);
		return ret == 0 || ret == -EINPROGRESS ? 0 : -EALREADY;
	case K_HELPER:
		return helpers_cancel(r);
	default:
		return -ENOENT;
	}
}

static bool kaio_has_completions(void)
{
	/* The program closed a descriptor of the library's: the reaper looks at it. */
	if (ownfd_losses() != __atomic_load_n(&kaio.losses, __ATOMIC_RELAXED) || poll_lost())
		return true;
	struct pollfd p = { .fd = poll_fd(), .events = POLLIN, .revents = 0 };

	/* An old context that drained waits for a reaper to destroy it. */
	if (__atomic_load_n(&kaio.old.id, __ATOMIC_RELAXED) &&
	    !__atomic_load_n(&kaio.old.inflight, __ATOMIC_RELAXED))
		return true;
	if (!rings_known())
		return p.fd >= 0 && !poll_lost() && poll(&p, 1, 0) > 0;
	return ring_ready(&kaio.cur) || old_ready() || poll_has_completions();
}

static void drain_eventfd(void)
{
	uint64_t v;

	if (!ownfd_use(kaio.efd))
		return;
	if (read(kaio.efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: clear already */
	}
	ownfd_done();
}

/* Clear the eventfd, and signal it again if the ring still holds completions. */
static void rearm_eventfd(void)
{
	static const uint64_t one = 1;

	drain_eventfd();
	if (!ownfd_use(kaio.efd))
		return;
	if ((ring_ready(&kaio.cur) || old_ready()) && write(kaio.efd, &one, sizeof(one)) < 0) {
		/* cannot fail short of a full counter, which wakes the sleeper as well */
	}
	ownfd_done();
}

/* Called with core.lock held: what route() will need for r exists. */
static int kaio_reserve(struct req *r)
{
	LOCK_HELD();
	if (!kreq_of(r, true) || !fdinfo_slot(r->fd) || poll_reserve(r->fd) < 0 ||
	    helpers_reserve(r->fd) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * Called with core.lock held: the program closed the eventfd the context signals, or the epoll
 * set (ownfd.c). Forget the numbers, make new ones; requests in flight signal the old
 * eventfd, so sleepers look every 10 ms until they are all in (kaio_poll_short()).
 */
static void kaio_fds_check(void)
{
	bool efd_lost = kaio.efd < 0 || ownfd_lost(kaio.efd);
	unsigned losses = ownfd_losses();

	LOCK_HELD();

	/* Every request that named the lost eventfd is in: completions wake sleepers again. */
	if (kaio.efd_stale && !kaio.cur.inflight && !kaio.old.inflight)
		__atomic_store_n(&kaio.efd_stale, false, __ATOMIC_RELAXED);

	if (losses == kaio.losses && !efd_lost && !poll_lost())
		return;
	__atomic_store_n(&kaio.losses, losses, __ATOMIC_RELAXED);
	if (efd_lost && kaio.efd >= 0) {
		ownfd_close(kaio.efd); /* lost: forgotten, not closed */
		__atomic_store_n(&kaio.efd, -1, __ATOMIC_RELAXED);
		__atomic_store_n(&kaio.efd_stale, true, __ATOMIC_RELAXED);
	}
	/* New descriptors only in a call of the program's (ownfd.c); until then, look often. */
	if (!ownfd_may_open()) {
		__atomic_store_n(&kaio.losses, losses - 1, __ATOMIC_RELAXED); /* not done yet */
		poll_renew(-1);
		return;
	}
	if (kaio.efd < 0) {
		int efd = ownfd_new(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), true);

		__atomic_store_n(&kaio.efd, efd < 0 ? -1 : efd, __ATOMIC_RELAXED);
	}
	poll_renew(kaio.efd);
}

/* Lock-free: a stale answer costs at most one more short nap, or one long one. */
static bool kaio_poll_short(void)
{
	bool stale = __atomic_load_n(&kaio.efd_stale, __ATOMIC_RELAXED) &&
		     (__atomic_load_n(&kaio.cur.inflight, __ATOMIC_RELAXED) ||
		      __atomic_load_n(&kaio.old.inflight, __ATOMIC_RELAXED));

	return stale || __atomic_load_n(&kaio.efd, __ATOMIC_RELAXED) < 0 || poll_lost() ||
	       ownfd_losses() != __atomic_load_n(&kaio.losses, __ATOMIC_RELAXED);
}

/* Called with core.reap_lock held, without core.lock. */
static void kaio_reap(void)
{
	static struct io_event ev[REAP_BATCH]; /* guarded by core.reap_lock */
	bool again = true, expecting = false;

	if (kaio_poll_short()) {
		core_lock();
		kaio_fds_check();
		core_unlock();
	}

	for (int rounds = 0; rounds < 64; rounds++) {
		int n = take(ev, REAP_BATCH);

		if (n <= 0) {
			/*
			 * The eventfd showed in the epoll set: clear it, then look once more. Not
			 * from a submitting call: streams found ready would move inside it, any
			 * size (engine-poll.c moves at most SUBMIT_MOVE_MAX there).
			 */
			if (!again || req_in_submit() || !poll_reap())
				break;
			/*
			 * posixaio_fd() watches the eventfd: a completion that arrives now loses
			 * its report to the drain and is listed only by the next take().
			 */
			if (claim_watching()) {
				core_lock();
				claim_expect();
				core_unlock();
				expecting = true;
			}
			drain_eventfd();
			again = false;
			continue;
		}
		core_lock();
		kaio.submitting = true; /* what completions issue waits for pump() */
		events(ev, n);
		kaio.submitting = false;
		pump(); /* and slots were freed */
		core_unlock();
	}
	if (!rings_known())
		drain_eventfd();
	if (__atomic_load_n(&kaio.old.id, __ATOMIC_RELAXED)) {
		core_lock();
		ctx_retire_old();
		core_unlock();
	}
	if (expecting) {
		core_lock();
		claim_expected();
		core_unlock();
	}
}

/*
 * posixaio_fd() has nothing left to claim: the eventfd in its epoll set must not stay set
 * by completions taken since (submission takes them too, without clearing it).
 */
static void kaio_quiet(void)
{
	if (rings_known())
		rearm_eventfd(); /* (without the ring in user memory, every reap clears it) */
}

/*
 * Called where a waiter is about to sleep on the epoll set. The eventfd is cleared here, once
 * per sleep rather than once per completion; what the ring holds already must still end the
 * sleep at once, so it is signalled again then.
 */
static int kaio_pollfds(struct pollfd *pfd, int max)
{
	bool leader = __atomic_load_n(&core.leader, __ATOMIC_RELAXED);
	bool look_soon = false; /* core.bg_look_soon is the background thread's alone */

	if (max < 1 || poll_lost())
		return 0;
	/*
	 * The background thread leaves to program threads what they serve, and looks again
	 * within HOLD_LOOK_MS, taking it over if they went away: everything while one leads a
	 * wait (it sleeps on these descriptors and reaps what wakes it; the background thread
	 * woke with it for each completion and took it from the waiter, 3 futex calls per
	 * O_DIRECT read), and streams while one looked at them since the last time (the two
	 * threads took turns at core.lock for each transfer: a socketpair with 16 outstanding
	 * moved 1900 MB/s against 2800). The context's completions still wake it at once.
	 */
	if (bg_self() && (leader || poll_served_lately())) {
		look_soon = core.bg_look_soon = true;
		if (leader)
			return 0;
	}
	/*
	 * Serving the io_uring engine, lingering with nothing that needs it: the O_DIRECT
	 * completions are for the threads waiting for them (woken for each, it took them from
	 * fio at QD32: 0.8x), the streams its own; the first stream to wait wakes it.
	 */
	if (bg_self() && core.eng != &engine_kaio &&
	    !__atomic_load_n(&core.bg_needed, __ATOMIC_RELAXED) &&
	    (look_soon || poll_bg_leaves()))
		return 0;
	if (rings_known())
		rearm_eventfd();
	pfd[0].fd = look_soon ? __atomic_load_n(&kaio.efd, __ATOMIC_RELAXED) : poll_fd();
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	return 1;
}

/* Lock-free: what made kaio_pollfds() leave descriptors to program threads still holds. */
static bool kaio_others_serve(void)
{
	return __atomic_load_n(&core.leader, __ATOMIC_RELAXED) || poll_served_lately();
}

/* The eventfd the context signals and the poll part's epoll set, which holds it. */
int kaio_init_part(void)
{
	int ret;

	kaio.efd = ownfd_new(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), true);
	if (kaio.efd < 0) {
		ret = kaio.efd;
		kaio.efd = -1;
		return ret;
	}
	ret = poll_init(kaio.efd);
	if (ret) {
		ownfd_close(kaio.efd);
		kaio.efd = -1;
	}
	return ret;
}

static int kaio_init(void)
{
	int ret;

	/*
	 * With the system's budget used up, the engine still starts: file requests go to the
	 * helpers until a context can be had. Nothing is said on stderr: the program's output
	 * is its own, and only speed differs. Only a kernel without native AIO stops it here.
	 */
	ret = ctx_new(&kaio.cur, CTX_START, CTX_EVENTS_MIN);
	if (ret < 0 && ret != -EAGAIN)
		return ret;
	ret = kaio_init_part();
	if (ret) {
		if (kaio.cur.id)
			io_destroy(kaio.cur.id);
		memset(&kaio.cur, 0, sizeof(kaio.cur));
	}
	return ret;
}

static void kaio_fork_child(void)
{
	/*
	 * The context is the parent's (the child's mm has none; io_destroy would not find it)
	 * and so are the requests the records describe. Helper threads do not exist here.
	 */
	poll_fork_child();
	ownfd_close(kaio.efd);
	fdtab_clear(&kaio.fds);
	for (unsigned i = 0; i < kaio.nslabs; i++) {
		for (unsigned j = 0; kaio.slabs[i] && j < REQ_SLAB; j++) {
			struct kreq *k = &kaio.slabs[i][j];

			if (k->held)
				fdhold_fork_forget(k->r->fd, k->fd);
		}
		free(kaio.slabs[i]);
	}
	free(kaio.slabs);
	memset(&kaio, 0, sizeof(kaio));
	kaio.efd = -1;
	kaio.fds.esize = sizeof(struct fdinfo);
}

const struct engine engine_kaio = {
	.name = "kaio",
	.init = kaio_init,
	.submit = kaio_submit,
	.cancel = kaio_cancel,
	.has_completions = kaio_has_completions,
	.reap = kaio_reap,
	.pollfds = kaio_pollfds,
	.reserve = kaio_reserve,
	.quiet = kaio_quiet,
	.poll_short = kaio_poll_short,
	.others_serve = kaio_others_serve,
	.fork_child = kaio_fork_child,
};
