/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The io_uring engine: buffered file I/O, fsync, ttys and devices in one ring, with real
 * in-kernel cancellation; O_DIRECT, pipes and sockets through engine-kaio.c (see "The
 * native AIO part" below).
 *
 * One ring per process, and one thread of the library issues to it: the background thread
 * (notify.c). io_uring ties a request to the task that issued it: the kernel interrupts that
 * task's sleep to run completion work for it (an epoll_wait, poll, recv or sem_wait of the
 * program would end early with EINTR or a short count), copies cached data inside its
 * io_uring_enter (an aio_read of 16 MiB would hold the caller for milliseconds), raises
 * SIGPIPE in it for a write to a pipe or socket nobody reads, and cancels its requests when it
 * exits. None of that may reach a thread of the program, so program threads never enter the
 * ring to submit: their requests wait in a queue here and the background thread, which
 * blocks every signal and lives while any request is in the ring, takes them.
 *
 * A small read of cached data seldom comes here: the submitting call tries it itself first,
 * without the lock (req_try_now()). Nor does a buffered write to a regular file or block
 * device: it goes to the helper threads (helpers.c, which says why), which write each file's
 * in turn with pwrite(), as glibc does. Everything larger than
 * ENTER_COPY_MAX is issued with IOSQE_ASYNC, so that its copy runs on an io-wq worker rather
 * than in the background thread's enter.
 *
 * A request handed over must still reach the file its descriptor named at submission, even if
 * the program closes the descriptor right after (POSIX: as if the close had not yet
 * occurred) and another file takes the number. So the submitting call puts the file in the
 * ring's table of registered files, at the request's own index, and the request names that
 * slot (IOSQE_FIXED_FILE); the slot is emptied when the request completes, so the library
 * never keeps a file open that the program closed. Where the table is too small (it is
 * bounded by RLIMIT_NOFILE), the file's identity is checked before the request is issued.
 *
 * The program may close the ring's descriptor (ownfd.c). The background thread enters the
 * ring through a registered index (IORING_REGISTER_RING_FDS), not the number, so requests
 * already in the ring go on and complete; program threads stop using the number (no file
 * capture: the identity check instead; aio_cancel answers AIO_NOTCANCELED), waiters look every
 * 10 ms, and once the old ring holds nothing the background thread lets it go and makes a new
 * one (ring_renew()).
 *
 * The queue and the submission side are guarded by core.lock, the completion side by
 * core.reap_lock, so any thread may reap. Completions beyond the CQ's size are kept by the kernel
 * (IORING_FEAT_NODROP) and flushed when seen. The ring's memory is not inherited across fork
 * (MADV_DONTFORK): a child can never reap the parent's completions.
 */
#include <liburing.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#define SQ_ENTRIES 1024
#define CQ_ENTRIES 16384
/* The most one request may copy inside the background thread's io_uring_enter. */
#define ENTER_COPY_MAX (64 * 1024)

#define FILE_SLOTS 4096 /* the most; RLIMIT_NOFILE may allow fewer */
#define CAPTURE_BATCH 32 /* requests whose files one submission puts in the table at once */

/* liburing's internal flag for "enter through ring.enter_ring_fd, a registered index". */
#define RING_FLAG_REGISTERED 1
#ifndef IORING_REGISTER_USE_REGISTERED_RING
#define IORING_REGISTER_USE_REGISTERED_RING (1U << 31)
#endif

static struct io_uring ring;
static bool ring_up;       /* atomic: ring is set up (false while ring_renew() replaces it) */
static unsigned ring_peeks; /* threads reading the ring's memory without a lock; atomic */
static int ring_number = -1; /* atomic: ring.ring_fd, for readers that hold no lock */
static unsigned ring_gen;  /* counts the rings made, for ring_entered */
static unsigned in_ring;   /* requests issued to the ring and not yet reaped */
static TLS unsigned ring_entered; /* the background thread registered ring ring_gen + 1 */
static TLS int ring_index = -1;   /* and holds this registered index, or -1 */
/* Requests waiting for the background thread to issue them, oldest first. */
static FIFO(struct req) queue;
static unsigned nslots; /* registered file slots, one per request index below it */

#if HAVE_LIBAIO
/*
 * The native AIO part. Going through the background thread costs the requests that need no
 * copy in it most:
 *  - io_uring completes an O_DIRECT read in the task that issued it (task work): with the
 *    background thread as that task, each took three thread hand-offs (the program wakes it
 *    to issue, the device's interrupt wakes it to complete, it wakes the program), and 4 KiB
 *    reads at one outstanding ran at 0.67x glibc. Native AIO completes from the interrupt
 *    into a ring and an eventfd that the waiting thread itself sleeps on, and ties nothing to
 *    a thread: no task work, no cancellation at its exit, no signal, no copy in the caller's
 *    time (the device moves the data). So engine-kaio.c serves them, issuing with RWF_NOWAIT
 *    so that io_submit never waits for the device's queue or the inode's lock in the
 *    program's call; what the kernel answers -EAGAIN comes back to the ring
 *    (uring_direct_back()). Its context is made at the first O_DIRECT request: a program
 *    without O_DIRECT takes nothing of fs.aio-max-nr, and with none left, the ring serves.
 *  - the background thread did every copy of a pipe's or socket's data, both directions, on
 *    one CPU (64 KiB transfers at 16 outstanding: 0.59x of two blocking threads on a pipe,
 *    0.50x on a socket; one outstanding, 0.37x and 0.30x). engine-kaio.c's poll part moves
 *    them without blocking in whichever thread finds the stream ready, the waiting one
 *    included, with SIGPIPE guarded there (engine-poll.c), as it does without io_uring.
 *    Named FIFOs, ttys and other devices stay in the ring (for_part()).
 * Its descriptors (an eventfd and an epoll set) are made at the first such request, in a call
 * of the program's.
 */
#endif
static bool part_up;    /* atomic: engine_kaio is initialised for them */
static bool part_tried; /* its init was tried */

/* engine_kaio, once it serves the io_uring engine; else NULL. */
static const struct engine *part(void)
{
#if HAVE_LIBAIO
	if (__atomic_load_n(&part_up, __ATOMIC_ACQUIRE))
		return &engine_kaio;
#endif
	return NULL;
}

/* The program closed the ring's descriptor: the number is not the library's any more. */
static bool ring_lost(void)
{
	return !__atomic_load_n(&ring_up, __ATOMIC_ACQUIRE) ||
	       ownfd_lost(__atomic_load_n(&ring_number, __ATOMIC_RELAXED));
}

/* The old ring holds nothing any more: time for ring_renew(). */
static bool renew_due(void)
{
	return __atomic_load_n(&ring_up, __ATOMIC_ACQUIRE) &&
	       ownfd_lost(__atomic_load_n(&ring_number, __ATOMIC_RELAXED)) &&
	       !__atomic_load_n(&in_ring, __ATOMIC_RELAXED);
}

/* Called with core.lock held: r waits for the background thread, behind the others. */
static void enqueue(struct req *r)
{
	LOCK_HELD();
	fifo_push_by(&queue, r, eng_next);
}

/* io_uring's answer to a call on the ring's number says the number is not the ring's. */
static void ring_check(int ret)
{
	if (ret == -EBADF || ret == -EOPNOTSUPP)
		ownfd_notice(ring.ring_fd);
}

/* A sparse table of registered files: kernels before 5.19 have none, and do without. */
static void slots_init(void)
{
	struct rlimit rl;
	unsigned n = FILE_SLOTS;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n)
		n = (unsigned)rl.rlim_cur;
	nslots = n && io_uring_register_files_sparse(&ring, n) == 0 ? n : 0;
}

static int uring_init(void)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL;
	p.cq_entries = CQ_ENTRIES;
	ret = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
	if (ret == -EINVAL) {
		/* Kernels before 5.18 know no SUBMIT_ALL. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
		p.cq_entries = CQ_ENTRIES;
		ret = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
	}
	if (ret < 0)
		return ret;
	if (!(p.features & IORING_FEAT_NODROP)) {
		/* Without it completions could be lost under load: refuse, fall back. */
		io_uring_queue_exit(&ring);
		return -ENOSYS;
	}
	ret = io_uring_ring_dontfork(&ring);
	if (ret == 0)
		ret = ownfd_track(ring.ring_fd, false);
	if (ret < 0) {
		io_uring_queue_exit(&ring);
		return ret;
	}
	slots_init();
	ring_gen++;
	__atomic_store_n(&ring_number, ring.ring_fd, __ATOMIC_RELAXED);
	__atomic_store_n(&ring_up, true, __ATOMIC_SEQ_CST);
	return 0;
}

/*
 * Called with core.lock held, by the background thread, before it enters the ring: enter it
 * through a registered index, which the program cannot close. Kernels before 5.18 have none:
 * the number then.
 */
static void ring_enter_prepare(void)
{
	int ret;

	LOCK_HELD();

	if (ring_entered == ring_gen + 1)
		return;
	if (ring_index >= 0) {
		/* The ring it holds was replaced (ring_renew()): let the old one go. */
		struct io_uring_rsrc_update up = { .offset = (__u32)ring_index };

		syscall(__NR_io_uring_register, ring_index,
			IORING_UNREGISTER_RING_FDS | IORING_REGISTER_USE_REGISTERED_RING, &up, 1);
		ring_index = -1;
	}
	ring_entered = ring_gen + 1;
	/* A registration of an earlier background thread died with it. */
	ring.int_flags &= (__u8)~RING_FLAG_REGISTERED;
	ring.enter_ring_fd = ring.ring_fd;
	if (ownfd_use(ring.ring_fd)) {
		ret = io_uring_register_ring_fd(&ring);
		ownfd_done();
		if (ret == 1)
			ring_index = ring.enter_ring_fd;
		else
			ring_check(ret);
	}
}

/* Requests in the old ring when the program closed its number are failed from here on. */
static bool ring_enterable(void)
{
	return ring_up && (!ownfd_lost(ring.ring_fd) || (ring.int_flags & RING_FLAG_REGISTERED));
}

/*
 * Called with core.lock held: the old ring goes, and with it the files its table holds for
 * requests still queued (the background thread could not enter it to issue them): those
 * are cancelled, as a close() of their descriptors would have allowed.
 */
static void queue_drop_held(void)
{
	struct req *q = fifo_take(&queue), *held = NULL;

	LOCK_HELD();

	while (q) {
		struct req *next = q->eng_next;

		if (q->flags & RF_HOLDS_FILE) {
			q->flags &= (uint8_t)~RF_HOLDS_FILE;
			q->flags |= RF_CANCEL;
			q->next = held;
			held = q;
		} else {
			enqueue(q);
		}
		q = next;
	}
	while (held) {
		struct req *next = held->next;

		req_complete(held, -ECANCELED);
		held = next;
	}
}

/* Called with core.lock held: no ring could be made; what waits for one fails. */
static void queue_fail(void)
{
	struct req *r;

	LOCK_HELD();

	while ((r = fifo_pop_by(&queue, eng_next)))
		req_complete(r, -EAGAIN);
}

/*
 * Called with core.reap_lock held, in a call of the program's (ownfd.c: a thread of the library
 * makes no descriptor): the program closed the ring's number and the old ring holds nothing
 * any more. Let it go (without closing the number, which is the program's) and make a new
 * one; the background thread drops its registration of the old one when it next enters.
 * Requests queued meanwhile wait for it; if none can be made, they fail with EAGAIN.
 * Submission (core.lock), reaping (core.reap_lock) and the lock-free look of
 * uring_has_completions() (ring_peeks) are all kept out meanwhile.
 */
static void ring_renew(void)
{
	int fd;

	core_lock();
	if (!renew_due()) {
		core_unlock();
		return;
	}
	for (struct req *q = queue.head; q && ring_enterable(); q = q->eng_next) {
		if (q->flags & RF_HOLDS_FILE) {
			/* Its file is in the old ring's table: issued there first. */
			core_unlock();
			return;
		}
	}
	queue_drop_held();
	__atomic_store_n(&ring_up, false, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&ring_peeks, __ATOMIC_SEQ_CST))
		sched_yield(); /* a few loads: never long */
	fd = ring.ring_fd;
	__atomic_store_n(&ring_number, -1, __ATOMIC_RELAXED);
	ring.int_flags &= (__u8)~RING_FLAG_REGISTERED;
	ring.ring_fd = -1; /* io_uring_queue_exit() closes it: not the program's number */
	ring.enter_ring_fd = -1;
	io_uring_queue_exit(&ring);
	ownfd_close(fd); /* lost: forgotten, not closed */
	memset(&ring, 0, sizeof(ring));
	nslots = 0;
	if (uring_init() < 0)
		queue_fail();
	else if (!fifo_empty(&queue))
		bg_wake();
	core_unlock();
}

/*
 * Called with core.lock held: the one way into the table of registered files. Put fds[0..n)
 * in the slots from first (-1 empties one). How many the kernel filled, or -errno; -ENXIO
 * when the ring is lost (its whole table goes with it at ring_renew()).
 */
static int slots_update(unsigned first, int *fds, unsigned n)
{
	int ret;

	LOCK_HELD();
	if (ring_lost() || !ownfd_use(ring.ring_fd))
		return -ENXIO;
	ret = io_uring_register_files_update(&ring, first, fds, n);
	ownfd_done();
	return ret;
}

/*
 * Called with core.lock held, in the thread that hands r over: hold the file fd (r's
 * descriptor, or a duplicate of it) names now. 0, or -EBADF for a descriptor that names
 * nothing.
 */
static int capture(struct req *r, int fd)
{
	int ret;

	LOCK_HELD();

	if (r->flags & RF_HOLDS_FILE)
		return 0;
	if (r->index < nslots) {
		ret = slots_update(r->index, &fd, 1);
		if (ret == 1) {
			r->flags |= RF_HOLDS_FILE;
			return 0;
		}
		if (ret == -EBADF && fcntl(fd, F_GETFD) < 0)
			return ret;
		ring_check(ret);
	}
	/* No slot: know the file now, to recognise it when the request is issued. */
	if (r->fdq)
		fdq_kind(r);
	return 0;
}

/* May r's file go in the table by capture_all()'s one call? */
static bool batchable(const struct req *r)
{
	return r->index < nslots && !(r->flags & RF_HOLDS_FILE);
}

/*
 * Called with core.lock held: capture() each of rs[0..n), with their files. Requests in
 * consecutive slots, ascending or descending (a lio_listio()'s, mostly: slots freed together
 * come back in reverse), are put in the table by one system call: ten reads of one file made
 * ten, inside the program's call. Each request's answer in err[].
 */
static void capture_all(struct req **rs, unsigned n, int *err)
{
	int fds[CAPTURE_BATCH];

	LOCK_HELD();
	assert(n <= CAPTURE_BATCH);

	for (unsigned i = 0, len; i < n; i += len) {
		uint32_t first = rs[i]->index, base = first;
		int d = 1, done = 0;

		if (i + 1 < n && rs[i + 1]->index + 1 == first)
			d = -1;
		for (len = 0; i + len < n; len++) {
			const struct req *r = rs[i + len];

			if (r->index != first + (uint32_t)d * len || !batchable(r))
				break;
		}
		if (len > 1) {
			base = d > 0 ? first : first - (len - 1);
			for (unsigned j = 0; j < len; j++)
				fds[rs[i + j]->index - base] = rs[i + j]->fd;
			done = slots_update(base, fds, len);
		}
		if (!len)
			len = 1;
		/*
		 * The kernel fills the slots upwards and stops at the first descriptor it refuses
		 * (-EBADF, perhaps a request's): capture() tells that one and the rest one by one.
		 */
		for (unsigned j = 0; j < len; j++) {
			struct req *r = rs[i + j];

			if (done > 0 && r->index - base < (uint32_t)done) {
				r->flags |= RF_HOLDS_FILE;
				err[i + j] = 0;
			} else {
				err[i + j] = capture(r, r->fd);
			}
		}
	}
}

/*
 * Called with core.lock held: r is complete for good, or leaves the engine without having been
 * issued; its slot lets go of the file. A stream write that goes on keeps it.
 */
static void uring_retire(struct req *r)
{
	int none = -1;

	LOCK_HELD();

	if (!(r->flags & RF_HOLDS_FILE))
		return;
	r->flags &= (uint8_t)~RF_HOLDS_FILE;
	ring_check(slots_update(r->index, &none, 1));
}

/* Called with core.lock held, by the background thread: hand the kernel what the SQ holds. */
static void flush(void)
{
	LOCK_HELD();
	for (int tries = 0; io_uring_sq_ready(&ring) > 0 && tries < 16; tries++) {
		int ret = io_uring_submit(&ring);

		if (ret >= 0 || ret == -EINTR)
			continue;
		/* -EAGAIN, -EBUSY: no resources now. The background thread tries again soon. */
		sq_pending_set(SQP_RING, true);
		return;
	}
	sq_pending_set(SQP_RING, io_uring_sq_ready(&ring) > 0);
}

static void prep(struct io_uring_sqe *sqe, struct req *r)
{
	struct iovec one;
	struct req_view v;
	uint64_t off;
	bool rd;

	if (req_view(r, r->moved, &one, &v) < 0)
		v.iovcnt = 0; /* no memory to go on: it ends with what it moved */
	off = v.off < 0 ? (uint64_t)-1 : (uint64_t)v.off;
	rd = v.op == OP_READ;
	switch (v.op) {
	case OP_READ:
	case OP_WRITE:
		/*
		 * One path: a plain buffer goes as READ/WRITE (one is on this stack, which the
		 * ring never reads), an array as READV/WRITEV.
		 */
		if (v.iov == &one)
			io_uring_prep_rw(rd ? IORING_OP_READ : IORING_OP_WRITE, sqe, v.fd,
					 one.iov_base, (unsigned)one.iov_len, off);
		else
			io_uring_prep_rw(rd ? IORING_OP_READV : IORING_OP_WRITEV, sqe, v.fd, v.iov,
					 (unsigned)v.iovcnt, off);
		/*
		 * A tty (and other devices) may block in write() whatever io_uring asks, which
		 * would stall the background thread's io_uring_enter(): send those to a worker.
		 * A large copy runs on a worker too, not inside the background thread's enter.
		 */
		if ((!rd && fdq_device(r)) || (v.iov == &one && one.iov_len > ENTER_COPY_MAX))
			sqe->flags |= IOSQE_ASYNC;
		break;
	case OP_FSYNC:
		io_uring_prep_fsync(sqe, v.fd, 0);
		break;
	case OP_FDSYNC:
		io_uring_prep_fsync(sqe, v.fd, IORING_FSYNC_DATASYNC);
		break;
	}
	if (r->flags & RF_HOLDS_FILE) {
		sqe->fd = (int)r->index;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
	io_uring_sqe_set_data(sqe, r);
}

/*
 * Called with core.lock held: the program closed the ring's number before the background thread
 * could register the ring. The requests wait for ring_renew(); one whose file is in the old
 * ring's table has lost it with the ring, and is cancelled.
 */
static void wait_for_renew(struct req **reqs, unsigned n)
{
	LOCK_HELD();
	for (unsigned i = 0; i < n; i++) {
		if (reqs[i]->flags & RF_HOLDS_FILE) {
			reqs[i]->flags &= (uint8_t)~RF_HOLDS_FILE;
			reqs[i]->flags |= RF_CANCEL;
			req_complete(reqs[i], -ECANCELED);
		} else {
			enqueue(reqs[i]);
		}
	}
}

/* Called with core.lock held, by the background thread: put reqs in the ring. */
static void issue(struct req **reqs, unsigned n)
{
	LOCK_HELD();
	if (!ring_up) {
		wait_for_renew(reqs, n); /* a call of the program's makes the next ring */
		return;
	}
	ring_enter_prepare();
	if (!ring_enterable()) {
		wait_for_renew(reqs, n);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe;

		sqe = io_uring_get_sqe(&ring);
		if (!sqe) {
			flush();
			sqe = io_uring_get_sqe(&ring);
		}
		if (!sqe) {
			req_complete(reqs[i], -EAGAIN);
			continue;
		}
		if (!(reqs[i]->flags & RF_HOLDS_FILE) && !fdq_same_file(reqs[i])) {
			/* Closed since, and the number names another file now. */
			reqs[i]->flags |= RF_CANCEL;
			req_complete(reqs[i], -ECANCELED);
			continue;
		}
		prep(sqe, reqs[i]);
		__atomic_add_fetch(&in_ring, 1, __ATOMIC_RELAXED);
	}
	flush();
}

/* Called with core.lock held: a buffered write of a regular file or block device. */
static bool for_helpers(struct req *r)
{
	int kind;

	LOCK_HELD();
	if (r->op != OP_WRITE || !r->fdq)
		return false;
	kind = fdq_kind(r);
	return (kind == FDK_FILE || kind == FDK_APPEND) && !fdq_direct(r);
}

#if HAVE_LIBAIO
/*
 * Called with core.lock held: does r go to engine-kaio.c? An O_DIRECT read or write of a file
 * or block device, and a read or write of a socket or a pipe from pipe(2). Not a named FIFO,
 * which refuses RWF_NOWAIT: the poll part would open a second description of it (another
 * reader or writer, which the program's peer could notice), nor a tty or other device.
 */
static bool for_part(struct req *r)
{
	bool stream;
	int kind;

	LOCK_HELD();
	if ((r->op != OP_READ && r->op != OP_WRITE) || !r->fdq)
		return false;
	kind = fdq_kind(r);
	stream = kind == FDK_STREAM && fdq_nowait_stream(r);
	if (!stream && (kind != FDK_FILE || !fdq_direct(r)))
		return false;
	if (!part_tried && ownfd_may_open()) {
		part_tried = true;
		if (kaio_init_part() == 0) {
			__atomic_store_n(&part_up, true, __ATOMIC_RELEASE);
			claim_engine_fds();
			/*
			 * Threads asleep on the ring alone must watch these too: the background
			 * thread (for up to a second) and a waiter leading (the background thread
			 * leaves to it what it watches, looking once a millisecond).
			 */
			if (core.bg_running)
				bg_wake();
			waiters_wake();
		}
	}
	return part() && (stream || kaio_direct_ready());
}

/* Called with core.lock held: engine-kaio.c takes n requests. */
static void part_submit(struct req **reqs, unsigned n)
{
	LOCK_HELD();
	for (unsigned i = 0; i < n; i++)
		reqs[i]->flags |= RF_KAIO;
	engine_kaio.submit(reqs, n);
}
#endif

/*
 * Called with core.lock held: the requests in cap, for the ring, take their files (together)
 * and are handed over in their order: issued at the end of uring_submit() (into reqs, k of
 * them so far) in the background thread, else queued for it.
 */
static void hand_over(struct req **cap, unsigned nc, struct req **reqs, unsigned *k,
		      bool *queued)
{
	int err[CAPTURE_BATCH];

	LOCK_HELD();
	capture_all(cap, nc, err);
	for (unsigned i = 0; i < nc; i++) {
		if (err[i]) {
			req_complete(cap[i], err[i]);
		} else if (bg_self()) {
			reqs[(*k)++] = cap[i]; /* the issuing thread itself: no need to queue */
		} else {
			enqueue(cap[i]);
			*queued = true;
		}
	}
}

/*
 * Called with core.lock held, from any thread: requests wait for the background thread, which
 * a thread of the program never is.
 */
static void uring_submit(struct req **reqs, unsigned n)
{
#if HAVE_LIBAIO
	struct req *to_part[32];
	unsigned nd = 0;
#endif
	struct req *cap[CAPTURE_BATCH];
	bool queued = false;
	unsigned k = 0, nc = 0;

	LOCK_HELD();

	if (!__atomic_load_n(&ring_up, __ATOMIC_ACQUIRE) && ownfd_may_open() && uring_init() < 0) {
		for (unsigned i = 0; i < n; i++)
			req_complete(reqs[i], -EAGAIN); /* the ring is gone, none could be made */
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct req *r = reqs[i];

		if (for_helpers(r)) {
			/* Ring requests before it go first, as they came. */
			hand_over(cap, nc, reqs, &k, &queued);
			nc = 0;
			helpers_queue(r, r->moved, -1);
			continue;
		}
#if HAVE_LIBAIO
		if (for_part(r)) {
			hand_over(cap, nc, reqs, &k, &queued);
			nc = 0;
			to_part[nd++] = r;
			if (nd == sizeof(to_part) / sizeof(to_part[0])) {
				part_submit(to_part, nd);
				nd = 0;
			}
			continue;
		}
#endif
		if (!(r->flags & RF_RING)) {
			if (bg_start() < 0) {
				req_complete(r, -EAGAIN); /* no thread could be made to issue it */
				continue;
			}
			req_bg_hold(r, RF_RING);
		}
		cap[nc++] = r;
		if (nc == CAPTURE_BATCH) {
			hand_over(cap, nc, reqs, &k, &queued);
			nc = 0;
		}
	}
	hand_over(cap, nc, reqs, &k, &queued);
#if HAVE_LIBAIO
	if (nd || (part() && (__atomic_load_n(&core.sq_pending, __ATOMIC_RELAXED) & SQP_KAIO)))
		part_submit(to_part, nd);
#endif
	if (k)
		issue(reqs, k);
	else if (queued || (__atomic_load_n(&core.sq_pending, __ATOMIC_RELAXED) & SQP_RING))
		bg_wake();
}

void uring_direct_back(struct req *r, uint64_t done, int held)
{
	int err;

	LOCK_HELD();
	r->flags &= (uint8_t)~RF_KAIO;
	r->moved += done;
	err = r->flags & RF_RING ? 0 : bg_start();
	if (!err) {
		if (!(r->flags & RF_RING))
			req_bg_hold(r, RF_RING);
		err = capture(r, held >= 0 ? held : r->fd);
	}
	/* Not captured (no slot): issue() checks the number still names its file. */
	if (held >= 0)
		fdhold_put(r->fd, held);
	if (err) {
		req_complete(r, err);
	} else if (bg_self()) {
		issue(&r, 1);
	} else {
		enqueue(r);
		bg_wake();
	}
}

/* Called with core.lock held, by the background thread: issue what program threads queued. */
static void uring_issue(void)
{
	struct req *batch[64];

	LOCK_HELD();

	if (ring_up) {
		ring_enter_prepare();
		if (!ring_enterable())
			return; /* what is queued waits for ring_renew() */
	}
	if (__atomic_load_n(&core.sq_pending, __ATOMIC_RELAXED) & SQP_RING)
		flush();
	while (!fifo_empty(&queue)) {
		unsigned n = 0;

		while (n < 64 && (batch[n] = fifo_pop_by(&queue, eng_next)))
			n++;
		issue(batch, n);
	}
}

/* Called with core.lock held: take r out of the queue if it waits there. */
static bool unqueue(struct req *r)
{
	LOCK_HELD();
	return fifo_remove_by(&queue, r, eng_next);
}

/* Called with core.lock held, so r cannot complete and be reused meanwhile. */
static int uring_cancel(struct req *r)
{
	struct io_uring_sync_cancel_reg reg;
	int ret;

	LOCK_HELD();

	if (helpers_have(r))
		return helpers_cancel(r);
	if (r->flags & RF_KAIO) {
		assert(part());
		return part()->cancel(r);
	}
	if (unqueue(r)) {
		req_complete(r, -ECANCELED);
		return 0;
	}
	if (ring_lost() || !ownfd_use(ring.ring_fd))
		return -EALREADY; /* only the background thread may enter the old ring now */
	memset(&reg, 0, sizeof(reg));
	reg.addr = (uint64_t)(uintptr_t)r;
	reg.fd = -1;
	reg.timeout.tv_sec = 0;
	reg.timeout.tv_nsec = 0;
	ret = io_uring_register_sync_cancel(&ring, &reg);
	ownfd_done();
	ring_check(ret);
	if (ret == 0 || ret == -ENOENT)
		return ret;
	return -EALREADY; /* running (-EALREADY, -ETIME), or a kernel without sync cancel */
}

/*
 * Called with core.lock held before r is accepted: a request the ring will serve needs the
 * background thread, and a call that cannot have one fails with EAGAIN rather than accept a
 * request nobody would issue.
 */
static int uring_reserve(struct req *r)
{
	LOCK_HELD();
	if (helpers_reserve(r->fd) < 0)
		return -ENOMEM;
	if (part()) {
		if (part()->reserve(r) < 0)
			return -ENOMEM;
#if HAVE_LIBAIO
		/*
		 * Native AIO's, most likely: no background thread, which would only wake for its
		 * completions and take them from the waiting thread. One needed after all (the
		 * number names another file now, or the kernel answers -EAGAIN) is started then.
		 */
		if (kaio_direct_fd(r->fd))
			return 0;
#endif
	}
	return bg_start();
}

static bool uring_has_completions(void)
{
	bool ret = false;

	__atomic_fetch_add(&ring_peeks, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ring_up, __ATOMIC_SEQ_CST)) {
		unsigned flags = IO_URING_READ_ONCE(*ring.sq.kflags);
		/* Lock-free: another thread may be advancing the head as we read it. */
		unsigned tail = __atomic_load_n(ring.cq.ktail, __ATOMIC_ACQUIRE);
		unsigned head = __atomic_load_n(ring.cq.khead, __ATOMIC_RELAXED);

		ret = tail != head || (flags & IORING_SQ_CQ_OVERFLOW);
	}
	__atomic_fetch_sub(&ring_peeks, 1, __ATOMIC_SEQ_CST);
	/* A call of the program's replaces a ring the program closed, from its reap. */
	if (ret || (ownfd_may_open() && renew_due()))
		return true;
	return part() && part()->has_completions();
}

/* Called with core.reap_lock held. */
static void ring_reap(void)
{
	if (ownfd_may_open() && renew_due())
		ring_renew();
	for (int rounds = 0; rounds < 64; rounds++) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		if (!ring_up)
			return;
		/*
		 * Flushing overflow enters the ring: the background thread's to do, with core.lock
		 * held as for any entry (a program call may be renewing the ring).
		 */
		if ((IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW) && bg_self()) {
			core_lock();
			if (ring_enterable()) {
				ring_enter_prepare();
				io_uring_get_events(&ring);
			}
			core_unlock();
		}
		if (!io_uring_cq_ready(&ring))
			return;
		core_lock();
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			struct req *r = io_uring_cqe_get_data(cqe);

			n++;
			if (r) {
				__atomic_sub_fetch(&in_ring, 1, __ATOMIC_RELAXED);
				req_complete(r, cqe->res);
			}
		}
		core_unlock();
		/*
		 * Only now, their notifications out and their completions listed for claiming:
		 * the ring descriptor stays readable until then, so posixaio_fd() does not go
		 * quiet in between. core.reap_lock keeps any other thread from taking them again.
		 */
		io_uring_cq_advance(&ring, n);
	}
}

/* Called with core.reap_lock held. */
static void uring_reap(void)
{
	ring_reap();
	if (part())
		part()->reap();
}

static int uring_pollfds(struct pollfd *pfd, int max)
{
	int n = 0;

	if (max >= 1 && !ring_lost()) {
		pfd[0].fd = __atomic_load_n(&ring_number, __ATOMIC_RELAXED);
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		n = 1;
	}
	if (part())
		n += part()->pollfds(pfd + n, max - n);
	return n;
}

/* The old ring still holds requests the program can no longer be woken for by number. */
static bool uring_poll_short(void)
{
	if (__atomic_load_n(&ring_up, __ATOMIC_ACQUIRE) &&
	    ownfd_lost(__atomic_load_n(&ring_number, __ATOMIC_RELAXED)) &&
	    __atomic_load_n(&in_ring, __ATOMIC_RELAXED))
		return true;
	return part() && part()->poll_short();
}

static bool uring_others_serve(void)
{
	return part() && part()->others_serve();
}

static void uring_quiet(void)
{
	if (part())
		part()->quiet();
}

static void uring_fork_child(void)
{
	if (part())
		part()->fork_child();
	part_up = false;
	part_tried = false;
	/* The mappings are gone (MADV_DONTFORK); only the descriptor came across. */
	if (ring_up)
		ownfd_close(ring.ring_fd);
	memset(&ring, 0, sizeof(ring));
	ring_up = false;
	ring_peeks = 0;
	ring_number = -1;
	fifo_init(&queue);
	nslots = 0;
	in_ring = 0;
	ring_entered = 0;
	ring_index = -1;
}

const struct engine engine_uring = {
	.name = "io_uring",
	.init = uring_init,
	.submit = uring_submit,
	.issue = uring_issue,
	.cancel = uring_cancel,
	.has_completions = uring_has_completions,
	.reap = uring_reap,
	.pollfds = uring_pollfds,
	.reserve = uring_reserve,
	.retire = uring_retire,
	.quiet = uring_quiet,
	.poll_short = uring_poll_short,
	.others_serve = uring_others_serve,
	.fork_child = uring_fork_child,
};
