/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The io_uring engine: every descriptor type, real in-kernel cancellation.
 *
 * One ring per process. Its submission side is guarded by g.lock and its completion side by
 * g.reap_lock, so any thread may submit and any may reap. Completions beyond the CQ's size
 * are kept by the kernel (IORING_FEAT_NODROP) and flushed when seen. The ring's memory is not
 * inherited across fork (MADV_DONTFORK): a child can never reap the parent's completions.
 */
#include <liburing.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define SQ_ENTRIES 1024
#define CQ_ENTRIES 16384
#define MAX_RW 0x7ffff000UL /* what read(2) and write(2) move at most in one call */

static struct io_uring ring;

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
	if (ret < 0) {
		io_uring_queue_exit(&ring);
		return ret;
	}
	return 0;
}

/* Called with g.lock held: hand the kernel what the SQ holds. */
static void flush(void)
{
	for (int tries = 0; io_uring_sq_ready(&ring) > 0 && tries < 16; tries++) {
		int ret = io_uring_submit(&ring);

		if (ret >= 0 || ret == -EINTR)
			continue;
		/* -EAGAIN, -EBUSY: no resources now. What is queued goes at the next reap. */
		__atomic_store_n(&g.sq_pending, true, __ATOMIC_RELAXED);
		return;
	}
	__atomic_store_n(&g.sq_pending, io_uring_sq_ready(&ring) > 0, __ATOMIC_RELAXED);
}

/* A vectored read or write: one READV or WRITEV for whatever is left of it. */
static void prep_vec(struct io_uring_sqe *sqe, struct req *r, uint64_t off)
{
	struct iovec one;
	const struct iovec *iov;
	int n = req_span(r, r->done, &one, &iov);

	if (n < 0)
		n = 0; /* no memory to go on: it ends with what it moved */
	if (r->op == OP_READ)
		io_uring_prep_readv(sqe, r->fd, iov, (unsigned)n, off);
	else
		io_uring_prep_writev(sqe, r->fd, iov, (unsigned)n, off);
}

static void prep(struct io_uring_sqe *sqe, struct req *r)
{
	struct aiocb *cb = r->cb;
	uint64_t left = cb->aio_nbytes - r->done;
	unsigned len = (unsigned)(left > MAX_RW ? MAX_RW : left);
	void *buf = req_buf(r, r->done);
	uint64_t off = r->offset < 0 ? (uint64_t)-1 : (uint64_t)r->offset + r->done;

	switch (r->op) {
	case OP_READ:
		if (r->vec)
			prep_vec(sqe, r, off);
		else
			io_uring_prep_read(sqe, r->fd, buf, len, off);
		break;
	case OP_WRITE:
		if (r->vec)
			prep_vec(sqe, r, off);
		else
			io_uring_prep_write(sqe, r->fd, buf, len, off);
		/*
		 * A tty (and other devices) may block in write() whatever io_uring asks, which
		 * would stall io_uring_enter() and so the caller: send those to a worker.
		 */
		if (fdq_device(r))
			sqe->flags |= IOSQE_ASYNC;
		break;
	case OP_FSYNC:
		io_uring_prep_fsync(sqe, r->fd, 0);
		break;
	case OP_FDSYNC:
		io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
		break;
	}
	io_uring_sqe_set_data(sqe, r);
}

/* Called with g.lock held. */
static void uring_submit(struct req **reqs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		if (!sqe) {
			flush();
			sqe = io_uring_get_sqe(&ring);
		}
		if (!sqe) {
			req_complete(reqs[i], -EAGAIN);
			continue;
		}
		prep(sqe, reqs[i]);
	}
	flush();
}

/* Called with g.lock held, so r cannot complete and be reused meanwhile. */
static int uring_cancel(struct req *r)
{
	struct io_uring_sync_cancel_reg reg;
	int ret;

	memset(&reg, 0, sizeof(reg));
	reg.addr = (uint64_t)(uintptr_t)r;
	reg.fd = -1;
	reg.timeout.tv_sec = 0;
	reg.timeout.tv_nsec = 0;
	ret = io_uring_register_sync_cancel(&ring, &reg);
	if (ret == 0 || ret == -ENOENT)
		return ret;
	return -EALREADY; /* running (-EALREADY, -ETIME), or a kernel without sync cancel */
}

static bool uring_has_completions(void)
{
	unsigned flags = IO_URING_READ_ONCE(*ring.sq.kflags);
	/* Lock-free: another thread may be advancing the head as we read it. */
	unsigned tail = __atomic_load_n(ring.cq.ktail, __ATOMIC_ACQUIRE);
	unsigned head = __atomic_load_n(ring.cq.khead, __ATOMIC_RELAXED);

	return tail != head || (flags & IORING_SQ_CQ_OVERFLOW);
}

/* Called with g.reap_lock held. */
static void uring_reap(void)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		if (IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW)
			io_uring_get_events(&ring);
		if (!io_uring_cq_ready(&ring))
			return;
		g_lock();
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			struct req *r = io_uring_cqe_get_data(cqe);

			n++;
			if (r)
				req_complete(r, cqe->res);
		}
		io_uring_cq_advance(&ring, n);
		g_unlock();
	}
}

static int uring_pollfds(struct pollfd *pfd, int max)
{
	if (max < 1)
		return 0;
	pfd[0].fd = ring.ring_fd;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	return 1;
}

static void uring_fork_child(void)
{
	/* The mappings are gone (MADV_DONTFORK); only the descriptor came across. */
	close(ring.ring_fd);
	memset(&ring, 0, sizeof(ring));
}

const struct engine engine_uring = {
	.name = "io_uring",
	.init = uring_init,
	.submit = uring_submit,
	.cancel = uring_cancel,
	.has_completions = uring_has_completions,
	.reap = uring_reap,
	.pollfds = uring_pollfds,
	.fork_child = uring_fork_child,
};
