/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-descriptor order. Every incomplete request of a descriptor sits in its queue in
 * submission order; most are issued at once, and three rules hold the others back:
 *  - aio_fsync() waits for every request queued before it on that descriptor, and for
 *    nothing else (IOSQE_IO_DRAIN would stall every other descriptor);
 *  - on a stream (pipe, FIFO, socket, tty, character device) one read and one write are in
 *    flight at a time, so reads are served in submission order and writes land whole and
 *    in order: io_uring alone serves several pending reads in no useful order;
 *  - on a file opened with O_APPEND one write is in flight at a time, so they land in
 *    submission order;
 *  - on a regular file or block device a request waits for every earlier one whose bytes
 *    overlap its own when either of them writes: a read submitted after a write returns what
 *    the write put there, and overlapping writes land in submission order, as they do with
 *    glibc, whose one thread per descriptor runs its requests one after the other. Requests
 *    that touch different bytes, and reads among themselves, run concurrently.
 *
 * Writes still incomplete are counted per descriptor without a lock as well (fdq_writing()),
 * so that a read tried in the submitting call before it takes core.lock (req_try_now()) is
 * not tried past a write it must wait for.
 *
 * The kind of a descriptor is looked up (fstat, fcntl) when an engine or a second request
 * needs it, and kept when the queue empties: the next request that needs it checks with one
 * fstat that the number still names that file (still_seen()), and a reused descriptor
 * number is looked at afresh.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "fdtab.h"
#include "internal.h"

typedef FIFO(struct req) reqfifo;

struct fdq {
	struct req *head, *tail;       /* incomplete requests, in submission order */
	reqfifo rq; /* held reads of a stream */
	reqfifo wq; /* held writes of a stream or an O_APPEND file */
	reqfifo fq; /* held requests of a file, behind an overlapping one */
	unsigned nreq;
	unsigned nwrite; /* incomplete writes, held or issued */
	unsigned rd_issued, wr_issued;
	uint8_t kind;
	uint8_t seen; /* the kind last classified, kept while the queue is empty */
	bool device;
	bool direct; /* a regular file opened with O_DIRECT; a socket or pipe(2) (classify()) */
	dev_t dev; /* the open file the queue's requests are for, once classified */
	ino64_t ino;
	unsigned closes; /* fdhold_closes() of the number when dev and ino were taken */
	uint64_t same_span; /* core.lock_span when fdq_same_file() last found dev and ino */
};

static bool is_sync(const struct req *r)
{
	return r->op == OP_FSYNC || r->op == OP_FDSYNC;
}

/*
 * device: a character device or an anonymous inode, whose writes may block however asked.
 * direct: a regular file opened with O_DIRECT (the same fcntl() that asks for O_APPEND);
 * for a stream, a socket or a pipe from pipe(2), which move without blocking by themselves
 * (MSG_DONTWAIT, RWF_NOWAIT), where a named FIFO refuses RWF_NOWAIT.
 * dev and ino name the open file, to notice a descriptor closed and its number reused.
 */
static int classify(int fd, bool *device, bool *direct, dev_t *dev, ino64_t *ino)
{
	struct statfs sf;
	struct stat64 st;
	int fl;

	*device = false;
	*direct = false;
	*dev = 0;
	*ino = 0;
	if (fstat64(fd, &st) < 0)
		return FDK_BAD;
	*dev = st.st_dev;
	*ino = st.st_ino;
	if (S_ISREG(st.st_mode)) {
		fl = fcntl(fd, F_GETFL);
		*direct = fl >= 0 && (fl & O_DIRECT);
		return fl >= 0 && (fl & O_APPEND) ? FDK_APPEND : FDK_FILE;
	}
	if (S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode))
		return FDK_FILE;
	/* Pipes, sockets, ttys, devices and the anonymous inodes (eventfd, timerfd...). */
	*device = !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode);
	*direct = S_ISSOCK(st.st_mode) ||
		  (S_ISFIFO(st.st_mode) && fstatfs(fd, &sf) == 0 && sf.f_type == PIPEFS_MAGIC);
	return FDK_STREAM;
}

int fd_classify(int fd)
{
	bool device, direct;
	dev_t dev;
	ino64_t ino;

	return classify(fd, &device, &direct, &dev, &ino);
}

/* The queues, by descriptor number; guarded by core.lock. */
static struct fdtab fds = FDTAB_INIT(struct fdq *);

static struct fdq *fdq_get(int fd)
{
	struct fdq **slot = fdtab_get(&fds, fd);

	if (!slot)
		return NULL;
	if (!*slot)
		*slot = calloc(1, sizeof(struct fdq));
	return *slot;
}

/*
 * Called with core.lock held before anything is sized for fd: may a request on it go on? A
 * number in a range the tables cover already costs nothing; any other is looked at, so a
 * number nothing is open at (INT_MAX, 100000000) fails with EBADF without the tables
 * growing towards it.
 */
bool fdq_fd_open(int fd)
{
	LOCK_HELD();
	if (fd < 0)
		return false;
	if (fdtab_find(&fds, fd))
		return true; /* (a closed one fails in the engine, with EBADF as well) */
	return fcntl(fd, F_GETFD) >= 0;
}

/*
 * Is fd still the open file q's last classification saw? The number was not closed through
 * close(), close_range() or dup2() since (fdhold_closes()), and it names the same inode (a
 * close the library cannot see, fclose()'s, and a new open at the number change that). What
 * fcntl() told, O_DIRECT and O_APPEND, belongs to the open file, which only F_SETFL changes.
 */
static bool still_seen(const struct fdq *q, int fd)
{
	struct stat64 st;

	return q->seen != FDK_UNKNOWN && q->seen != FDK_BAD && fdhold_closes(fd) == q->closes &&
	       fstat64(fd, &st) == 0 && st.st_dev == q->dev && st.st_ino == q->ino;
}

/*
 * The kind of the file fd names, q's descriptor: looked up once per life of the queue, and
 * then with one fstat() only while the number names the file last seen.
 */
static int q_kind(struct fdq *q, int fd)
{
	if (q->kind == FDK_UNKNOWN) {
		if (still_seen(q, fd)) {
			q->kind = q->seen;
		} else {
			q->closes = fdhold_closes(fd);
			q->kind = (uint8_t)classify(fd, &q->device, &q->direct, &q->dev, &q->ino);
		}
		q->seen = q->kind;
	}
	return q->kind;
}

int fdq_kind(const struct req *r)
{
	return q_kind(r->fdq, r->fd);
}

bool fdq_direct(const struct req *r)
{
	return r->fdq && fdq_kind(r) != FDK_STREAM && r->fdq->direct;
}

bool fdq_nowait_stream(const struct req *r)
{
	return r->fdq && fdq_kind(r) == FDK_STREAM && r->fdq->direct;
}

/*
 * Called with core.lock held before a request goes (again) to the engine after waiting in the
 * library: is its descriptor still the file it was submitted for? A program may close it
 * and open another file that takes the number; the request must not touch that one.
 */
bool fdq_same_file(const struct req *r)
{
	struct fdq *q = r->fdq;
	struct stat64 st;
	unsigned closes;

	LOCK_HELD();

	if (!q || q->kind == FDK_UNKNOWN || q->kind == FDK_BAD)
		return true;
	/*
	 * Once per taking of core.lock: the requests a completion issues one after the other
	 * (a stream's next transfer, and the next when that one finishes at once) need no
	 * fstat() each. A close the library cannot see, between two of them, is a race of the
	 * program's with its own requests either way: it could as well come just after the
	 * one fstat(), before the transfer. One it sees (fdhold_closes()) is looked at again.
	 */
	closes = fdhold_closes(r->fd);
	if (q->same_span == core.lock_span && closes == q->closes)
		return true;
	if (fstat64(r->fd, &st) < 0 || st.st_dev != q->dev || st.st_ino != q->ino)
		return false;
	if (closes == q->closes)
		q->same_span = core.lock_span;
	return true;
}

/*
 * Called with core.lock held: the open file r's descriptor named when it was last looked at
 * (by still_seen(), classify() or fdq_same_file()); false if it never was.
 */
bool fdq_file(const struct req *r, dev_t *dev, ino64_t *ino)
{
	LOCK_HELD();

	if (!r->fdq || r->fdq->kind == FDK_UNKNOWN || r->fdq->kind == FDK_BAD)
		return false;
	*dev = r->fdq->dev;
	*ino = r->fdq->ino;
	return true;
}

bool fdq_device(const struct req *r)
{
	return r->fdq && fdq_kind(r) == FDK_STREAM && r->fdq->device;
}

/*
 * A request arrives while q has others. If the program closed the number since q's file was
 * looked at, the number may name another file now, and the new request is that file's: q
 * follows the number. Its earlier requests that have not reached their file yet are then
 * cancelled when their turn comes (fdq_same_file()), as close() allows, rather than the new
 * request being cancelled for not being of their file. The kind stays: a queue's held
 * requests sit where its kind put them.
 */
static void follow_number(struct fdq *q, int fd)
{
	bool device, direct;
	dev_t dev;
	ino64_t ino;
	unsigned closes = fdhold_closes(fd);

	if (q->kind == FDK_UNKNOWN || q->kind == FDK_BAD || closes == q->closes)
		return;
	if (classify(fd, &device, &direct, &dev, &ino) != q->kind)
		return;
	q->closes = closes;
	q->dev = dev;
	q->ino = ino;
}

static void count_issued(struct fdq *q, const struct req *r)
{
	if (r->op == OP_READ)
		q->rd_issued++;
	else if (r->op == OP_WRITE)
		q->wr_issued++;
}

/*
 * Incomplete writes per descriptor number, hashed, readable without core.lock: a word counts
 * the writes of every number that falls on it, so a read may skip its try for a write on
 * another descriptor (a cost, never a wrong answer). Changed under core.lock.
 */
#define WRITING_WORDS 64
static unsigned writing[WRITING_WORDS];

bool fdq_writing(int fd)
{
	return fd >= 0 && __atomic_load_n(&writing[(unsigned)fd % WRITING_WORDS], __ATOMIC_ACQUIRE);
}

static void count_write(struct fdq *q, const struct req *r, int by)
{
	if (r->op != OP_WRITE)
		return;
	q->nwrite += (unsigned)by;
	__atomic_add_fetch(&writing[(unsigned)r->fd % WRITING_WORDS], (unsigned)by,
			   __ATOMIC_RELEASE);
}

/*
 * The bytes a request of a file touches: [*lo, *hi). A vectored one, and a write to an
 * O_APPEND file, whose place is the end of the file, are taken to reach every byte after
 * their offset (from 0 for the append).
 */
static void span(const struct fdq *q, const struct req *r, uint64_t *lo, uint64_t *hi)
{
	*lo = r->offset < 0 ? 0 : (uint64_t)r->offset;
	*hi = UINT64_MAX;
	if (r->op == OP_WRITE && q->kind == FDK_APPEND)
		*lo = 0;
	else if (!r->vec && r->cb->aio_nbytes < UINT64_MAX - *lo)
		*hi = *lo + r->cb->aio_nbytes;
}

/*
 * Does an incomplete request of q ahead of stop (NULL: any) touch [lo, hi) in a way that
 * must be waited for: by writing, or at all when writing is set? Both incomplete, so both
 * aiocbs are still the program's. Past OVERLAP_LOOK requests ahead the answer is yes without
 * looking further: the asker then waits until enough of them complete for a full look (each
 * completion looks again), which bounds the work per request when a great many are
 * outstanding with writes among them.
 */
#define OVERLAP_LOOK 1024
static bool touched(const struct fdq *q, const struct req *stop, bool writing, uint64_t lo,
		    uint64_t hi)
{
	unsigned looked = 0;
	uint64_t alo, ahi;

	if (!writing && !q->nwrite)
		return false; /* reads among themselves never wait */
	for (const struct req *a = q->head; a && a != stop; a = a->fd_next) {
		if (++looked > OVERLAP_LOOK)
			return true;
		if (is_sync(a) || (a->op != OP_WRITE && !writing))
			continue;
		span(q, a, &alo, &ahi);
		if (alo < hi && lo < ahi)
			return true;
	}
	return false;
}

/* Does an incomplete request ahead of r on its file touch r's bytes, either writing? */
static bool overlapped(const struct fdq *q, const struct req *r)
{
	uint64_t lo, hi;

	span(q, r, &lo, &hi);
	return touched(q, r, r->op == OP_WRITE, lo, hi);
}

/*
 * Called with core.lock held: may a read of [off, off + len) on fd be done at once, ahead of the
 * incomplete requests of its descriptor? On a file, when none of them is a write that touches
 * those bytes (an O_APPEND write touches them all).
 */
bool fdq_read_passes(int fd, int64_t off, size_t len)
{
	struct fdq **slot = fdtab_find(&fds, fd), *q = slot ? *slot : NULL;

	LOCK_HELD();
	if (!q || !q->nreq)
		return true; /* nothing incomplete on it */
	if (q_kind(q, fd) != FDK_FILE && q->kind != FDK_APPEND)
		return false;
	return !touched(q, NULL, false, (uint64_t)off, (uint64_t)off + len);
}

/* May r run now, given what is ahead of it on its descriptor? */
static bool may_run(struct fdq *q, struct req *r)
{
	if (is_sync(r))
		return q->head == r;
	if (q->nreq == 1)
		return true;
	if (fdq_kind(r) == FDK_STREAM) {
		if (r->op == OP_READ)
			return q->rd_issued == 0 && fifo_empty(&q->rq);
		return q->wr_issued == 0 && fifo_empty(&q->wq);
	}
	if (q->kind == FDK_APPEND && r->op == OP_WRITE && (q->wr_issued || !fifo_empty(&q->wq)))
		return false;
	return !overlapped(q, r);
}

/* The queue a held request of q waits in. */
static reqfifo *held_queue(struct fdq *q, const struct req *r)
{
	if (q->kind == FDK_STREAM)
		return r->op == OP_READ ? &q->rq : &q->wq;
	if (q->kind == FDK_APPEND && r->op == OP_WRITE)
		return &q->wq;
	return &q->fq;
}

/*
 * Called with core.lock held. Queue r on its descriptor. 1: issue it now; 0: held;
 * -ENOMEM: no memory for the queue.
 */
int fdq_enqueue(struct req *r)
{
	struct fdq *q = fdq_get(r->fd);

	LOCK_HELD();

	if (!q)
		return -ENOMEM;
	r->fdq = q;
	dlist_push_by(q, r, fd_prev, fd_next);
	if (q->nreq++ == 0)
		q->kind = FDK_UNKNOWN;
	else
		follow_number(q, r->fd);
	count_write(q, r, 1);

	if (may_run(q, r)) {
		count_issued(q, r);
		return 1;
	}
	r->state = REQ_HELD;
	STAT_INC(held);
	fdq_kind(r); /* know the file now, to recognise it when r's turn comes */
	req_bg_hold(r, RF_HELD); /* its predecessor may end while the program is away */
	if (!is_sync(r))
		fifo_push(held_queue(q, r), r);
	return 0;
}

static void take(struct fdq *q, struct req *r, struct req **ready, unsigned *nready)
{
	assert(*nready < FDQ_READY_MAX);
	req_bg_drop(r, RF_HELD);
	count_issued(q, r);
	r->state = REQ_LIVE;
	ready[(*nready)++] = r;
}

/*
 * Held requests of a file that nothing ahead overlaps any more, in submission order, as many
 * as ready[] has room for: the others go when one of these completes.
 */
static void take_files(struct fdq *q, struct req **ready, unsigned *nready)
{
	struct req *f, *next;
	unsigned still = 0;

	/* Past a few that must wait on, the rest wait for the next completion's look. */
	for (f = q->fq.head; f && *nready < FDQ_READY_MAX && still < 8; f = next) {
		next = f->next;
		if (overlapped(q, f)) {
			still++;
			continue;
		}
		fifo_remove(&q->fq, f);
		take(q, f, ready, nready);
	}
}

/*
 * Called with core.lock held when r completes (or is cancelled while held): take it off its
 * descriptor and collect what may now run (a stream's next read and write, an fsync, and on
 * a file as many held requests as ready[] has room for: FDQ_READY_MAX in all).
 */
void fdq_retire(struct req *r, struct req **ready, unsigned *nready)
{
	struct fdq *q = r->fdq;
	struct req *h;

	LOCK_HELD();

	if (r->state == REQ_HELD) {
		req_bg_drop(r, RF_HELD);
		if (!is_sync(r))
			fifo_remove(held_queue(q, r), r);
	} else if (r->op == OP_READ) {
		q->rd_issued--;
	} else if (r->op == OP_WRITE) {
		q->wr_issued--;
	}
	count_write(q, r, -1);
	dlist_remove_by(q, r, fd_prev, fd_next);
	r->fdq = NULL;
	if (--q->nreq == 0) {
		q->kind = FDK_UNKNOWN;
		return;
	}
	if (!fifo_empty(&q->rq) && q->rd_issued == 0)
		take(q, fifo_pop(&q->rq), ready, nready);
	if (!fifo_empty(&q->wq) && q->wr_issued == 0 &&
	    (q->kind != FDK_APPEND || !overlapped(q, q->wq.head)))
		take(q, fifo_pop(&q->wq), ready, nready);
	h = q->head;
	if (h->state == REQ_HELD && is_sync(h))
		take(q, h, ready, nready);
	take_files(q, ready, nready);
}

/* Called with core.lock held: the first incomplete request on fd, in submission order. */
struct req *fdq_first(int fd)
{
	struct fdq **slot = fdtab_find(&fds, fd);

	LOCK_HELD();

	return slot && *slot ? (*slot)->head : NULL;
}

static void fdq_free(void *entry, int fd, void *arg)
{
	(void)fd;
	(void)arg;
	free(*(struct fdq **)entry);
}

void fdq_fork_child(void)
{
	fdtab_each(&fds, fdq_free, NULL);
	fdtab_clear(&fds);
	/* The parent's writes are not the child's: its reads may be tried again at once. */
	for (unsigned i = 0; i < WRITING_WORDS; i++)
		__atomic_store_n(&writing[i], 0, __ATOMIC_RELAXED);
}
