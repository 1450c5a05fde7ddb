/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helper threads: the one place the library does a transfer with a blocking call, for
 * what the kernel would not do asynchronously without a thread of its own anyway.
 *  - native AIO (engine-kaio.c): buffered requests the page cache cannot serve at once
 *    (RWF_NOWAIT answered -EAGAIN), every buffered write where the filesystem refuses
 *    RWF_NOWAIT for writes (ext4, tmpfs), fsync where the file has no fsync iocb, and
 *    everything while no context can be had;
 *  - io_uring (engine-uring.c): buffered writes to regular files and block devices. Where
 *    the filesystem refuses RWF_NOWAIT writes (ext4) io_uring hands each to an io-wq worker
 *    after the background thread issued it, and the file's slot in the ring's table is
 *    filled and emptied around it: five hand-offs and some four system calls per 4 KiB
 *    write, where glibc's helper does a pwrite() and a futex wake (fio 4 KiB random writes
 *    to a cached ext4 file, QD16: the library at 0.25x glibc's rate). Where it accepts them
 *    (xfs, btrfs) the copy would run inside the background thread's io_uring_enter, one
 *    request after the other, which a helper does as well.
 *
 * At most HELPERS_MAX threads (pool.c), which block every signal: a transfer never ends in
 * EINTR, and a write never raises SIGXFSZ (past RLIMIT_FSIZE: EFBIG), as on glibc's
 * helpers. A descriptor's writes go to one helper
 * at a time, which does them one after the other, as glibc's one thread per descriptor
 * does: four helpers writing one file at once spent their time waiting for each other on
 * the file's lock (85k IOPS four at once, 135k one at a time). After SERIAL_TURN writes in
 * a row the helper queues the next behind other descriptors' jobs, if any wait, so none
 * starves the rest.
 *
 * A request queued here holds its descriptor's shared duplicate (fdhold.c), so a close() by
 * the program neither strands it nor sends it to another file. It can be cancelled until a
 * helper takes it; the first write of a descriptor holds the writer role, and when it is
 * cancelled before a helper took it the role passes to the next.
 *
 * Locks: everything here is guarded by core.lock; the pool's queue by its own lock, taken
 * after core.lock. Transfers run with neither held.
 */
#include <limits.h>
#include <unistd.h>

#include "fdtab.h"
#include "internal.h"
#include "pool.h"

#define HELPERS_MAX 4
#define SERIAL_TURN 32

enum where {
	H_NONE,
	H_POOL,	  /* queued for a helper thread, or being done by one */
	H_WRITES, /* a write waiting for the helper doing its descriptor's writes */
};

/* A descriptor's writes: the helper doing them, and those that wait for it, in order. */
struct writer {
	bool busy;
	struct {
		struct req *head, *tail;
	} writes;
};

static void helper(struct pool_job *j);

/* Helper threads run the library's code only: ownfd.c lets them make no descriptor. */
static struct pool pool = POOL_INIT(.max = HELPERS_MAX, .internal = true, .run = helper);
static struct fdtab writers = FDTAB_INIT(struct writer);

/* Called with core.lock held. The result of r, counting what it moved before it came here. */
static void finish(struct req *r, int64_t res)
{
	struct help *h = &r->help;
	bool held = h->held;

	LOCK_HELD();
	if (h->done)
		res = (int64_t)h->done + (res > 0 ? res : 0);
	h->where = H_NONE;
	h->held = false; /* before the close: a fork() meanwhile must not close the number again */
	if (held)
		fdhold_put(r->fd, h->fd);
	req_complete(r, res);
}

/* One blocking transfer of what is left after done bytes. */
static ssize_t transfer(struct req *r, uint64_t done)
{
	struct iovec one;
	struct req_view v;
	off64_t off;
	int fd = r->help.fd, n;

	if (req_view(r, done, &one, &v) < 0)
		return -ENOMEM;
	off = v.off < 0 ? (off64_t)done : v.off;
	if (v.iov == &one)
		return v.op == OP_READ ? pread64(fd, one.iov_base, one.iov_len, off)
				       : pwrite64(fd, one.iov_base, one.iov_len, off);
	if (v.iovcnt <= 0)
		return 0;
	n = v.iovcnt > IOV_MAX ? IOV_MAX : v.iovcnt;
	return v.op == OP_READ ? preadv64(fd, v.iov, n, off) : pwritev64(fd, v.iov, n, off);
}

/* What the helper moved (earlier pieces not counted), or -errno when it moved nothing. */
static int64_t run_fd(struct req *r)
{
	uint64_t done = r->help.done, total;
	int64_t err = 0;

	if (r->op == OP_FSYNC)
		return fsync(r->help.fd) < 0 ? -errno : 0;
	if (r->op == OP_FDSYNC)
		return fdatasync(r->help.fd) < 0 ? -errno : 0;
	/*
	 * A vectored request's array is the program's and may be a bad address: it is read
	 * here only once the kernel has taken it (a transfer moved bytes), never before.
	 */
	total = r->vec && !done ? UINT64_MAX : req_len(r);
	while (done < total) {
		ssize_t n = transfer(r, done);

		if (n < 0) {
			err = n == -ENOMEM ? n : -errno;
			break;
		}
		if (n == 0)
			break;
		done += (uint64_t)n;
		if (total == UINT64_MAX)
			total = req_len(r);
	}
	return done > r->help.done ? (int64_t)(done - r->help.done) : err;
}

/*
 * A duplicate the library holds stays its own meanwhile (ownfd.c); one the program closed is
 * never touched again.
 */
static int64_t run(struct req *r)
{
	int64_t ret;

	if (!r->help.held)
		return run_fd(r);
	if (!ownfd_use(r->help.fd))
		return -ECANCELED;
	ret = run_fd(r);
	ownfd_done();
	return ret;
}

/* Called with core.lock held: queue r for a helper thread. pool_submit()'s answer. */
static int pool_queue(struct req *r)
{
	int ret;

	LOCK_HELD();
	r->help.where = H_POOL;
	pthread_mutex_lock(&pool.lock);
	ret = pool_submit(&pool, &r->help.job);
	pthread_mutex_unlock(&pool.lock);
	return ret;
}

/*
 * Called with core.lock held by the helper that did the writes of descriptor fd: the next
 * one to do, now H_POOL, or NULL when there is none and the descriptor has no writer.
 */
static struct req *next_write(int fd)
{
	struct writer *w = fdtab_find(&writers, fd);
	struct req *r = w ? w->writes.head : NULL;

	LOCK_HELD();
	if (!r) {
		if (w)
			w->busy = false;
		return NULL;
	}
	dlist_remove_by(&w->writes, r, help.prev, help.next);
	r->help.where = H_POOL;
	return r;
}

/*
 * Called with core.lock held: fd's writer role is free (the write that held it was cancelled,
 * or could not be queued). The next one goes to the pool in its place, or fd has no writer.
 */
static void writer_pass(int fd)
{
	struct req *r;

	LOCK_HELD();
	while ((r = next_write(fd))) {
		if (pool_queue(r) == 0)
			return;
		finish(r, -EAGAIN); /* no thread exists and none can be made */
	}
}

/* Jobs wait for a helper: a descriptor's writer lets them have their turn. */
static bool others_wait(void)
{
	unsigned n;

	pthread_mutex_lock(&pool.lock);
	n = pool_waiting(&pool);
	pthread_mutex_unlock(&pool.lock);
	return n > 0;
}

static void helper(struct pool_job *j)
{
	struct req *r = pool_entry(j, struct req, help.job);

	for (unsigned turn = 1; r; turn++) {
		int64_t res = run(r);
		bool serial = r->help.serial;
		int fd = r->fd;

		core_lock();
		finish(r, res); /* r may be reused from here on */
		r = serial ? next_write(fd) : NULL;
		if (r && turn % SERIAL_TURN == 0 && others_wait() && pool_queue(r) == 0)
			r = NULL; /* its turn comes; the descriptor keeps its one writer */
		if (!r)
			pool_returning(&pool);
		core_unlock(); /* wakes the waiters, and sends the signal if any */
	}
}

int helpers_reserve(int fd)
{
	LOCK_HELD();
	return fdtab_get(&writers, fd) ? 0 : -ENOMEM;
}

void helpers_queue(struct req *r, uint64_t done, int held)
{
	struct help *h = &r->help;
	struct writer *w;
	int d = held >= 0 ? held : fdhold_get(r->fd);

	LOCK_HELD();
	assert(h->where == H_NONE);

	h->held = d >= 0;
	h->fd = d >= 0 ? d : r->fd; /* no descriptor to spare: the number, as glibc */
	h->done = done;
	w = r->op == OP_WRITE ? fdtab_get(&writers, r->fd) : NULL;
	h->serial = w != NULL;
	if (w && w->busy) {
		h->where = H_WRITES;
		dlist_push_by(&w->writes, r, help.prev, help.next);
		return;
	}
	if (w)
		w->busy = true;
	if (pool_queue(r) < 0) {
		finish(r, -EAGAIN); /* no thread exists and none can be made */
		if (w)
			writer_pass(r->fd);
	}
}

bool helpers_have(const struct req *r)
{
	LOCK_HELD();
	return r->help.where != H_NONE;
}

int helpers_cancel(struct req *r)
{
	struct help *h = &r->help;
	bool cancelled, serial;
	int fd = r->fd;

	LOCK_HELD();

	if (h->where == H_NONE)
		return -ENOENT;
	if (h->done)
		return -EALREADY; /* part of it is in the buffer or the file already */
	if (h->where == H_WRITES) {
		dlist_remove_by(&((struct writer *)fdtab_find(&writers, fd))->writes, r, help.prev,
				help.next);
		finish(r, -ECANCELED);
		return 0;
	}
	pthread_mutex_lock(&pool.lock); /* a helper may be taking it */
	cancelled = pool_cancel(&pool, &h->job);
	pthread_mutex_unlock(&pool.lock);
	if (!cancelled)
		return -EALREADY; /* a helper is doing it */
	serial = h->serial;
	finish(r, -ECANCELED);
	if (serial)
		writer_pass(fd);
	return 0;
}

void helpers_fork_child(void)
{
	/* No helper exists in the child, and the parent's requests are not ours: nor their files. */
	for (uint32_t s = 0; s < core.nslabs; s++) {
		for (uint32_t i = 0; i < REQ_SLAB; i++) {
			struct req *r = &core.slabs[s][i];

			if (r->help.where != H_NONE && r->help.held)
				fdhold_fork_forget(r->fd, r->help.fd);
		}
	}
	fdtab_clear(&writers);
	pool_fork_child(&pool);
}
