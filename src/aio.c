/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The POSIX entry points for single requests: validate, start, report. Errors a caller can
 * see at once (EINVAL, EBADF for aio_fsync, EAGAIN) come back from the call; errors of the
 * I/O itself come through aio_error(), as from glibc.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/*
 * The offset a read or write asks for, through the layout of the name it came in by. Where
 * off_t has 32 bits, struct aiocb holds a 32-bit aio_offset and then padding a program need
 * not set; struct aiocb64 (the *64 names, which -D_FILE_OFFSET_BITS=64 makes the POSIX names
 * call) holds a 64-bit one in the same place. Every other field is where struct aiocb has it.
 */
static int64_t aiocb_offset(const struct aiocb *cb, int op)
{
	if (op & OP_OFF64)
		return ((const struct aiocb64 *)cb)->aio_offset;
	return cb->aio_offset;
}

int aiocb_check(const struct aiocb *cb, int op, struct sev *sev)
{
	int err = sev_copy(sev, &cb->aio_sigevent);

	if (err)
		return err;
	if ((op & ~OP_FLAGS) != OP_READ && (op & ~OP_FLAGS) != OP_WRITE)
		return 0;
	if (cb->aio_reqprio < 0 || cb->aio_reqprio > AIO_PRIO_DELTA_MAX)
		return -EINVAL;
	if (cb->aio_nbytes > SSIZE_MAX)
		return -EINVAL;
	/*
	 * A vectored request's aio_nbytes counts iovecs; the kernel checks their lengths. None
	 * at all transfers 0 bytes, as readv()/writev() and FreeBSD's aio_readv() do.
	 */
	if ((op & OP_VEC) && cb->aio_nbytes > IOV_MAX)
		return -EINVAL;
	/* A negative offset is an error only where offsets mean something. */
	if (aiocb_offset(cb, op) < 0 && cb->aio_fildes >= 0 &&
	    lseek64(cb->aio_fildes, 0, SEEK_CUR) >= 0)
		return -EINVAL;
	return 0;
}

/*
 * Descriptors whose last try was refused for good (O_DIRECT: EINVAL; a filesystem without
 * RWF_NOWAIT: EOPNOTSUPP; a stream: ESPIPE), so that their reads skip the try: a cache of a
 * few words, without a lock, hashed by number, each holding number + 1 or 0. A close of the
 * number through the library's interposed calls forgets it (try_forget()). A mark that
 * outlives its file (a close by raw system call, fcntl dropping O_DIRECT) costs only the try:
 * the read goes to the engine, which gets it right for any file.
 */
#define NOTRY_WORDS 64
static unsigned notry[NOTRY_WORDS];

static unsigned *notry_word(int fd)
{
	return &notry[(unsigned)fd % NOTRY_WORDS];
}

void try_forget(unsigned lo, unsigned hi)
{
	for (unsigned i = 0; i < NOTRY_WORDS; i++) {
		unsigned v = __atomic_load_n(&notry[i], __ATOMIC_RELAXED);

		if (v && v - 1 >= lo && v - 1 <= hi)
			__atomic_compare_exchange_n(&notry[i], &v, 0, false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
	}
}

/*
 * Called without core.lock, in a submitting call, for a valid aiocb: a plain read of at most
 * *budget bytes, at an offset, is tried at once with preadv2(RWF_NOWAIT), which copies what
 * the page cache holds and never waits. True when that finished it: *res is its result, and
 * req_start() makes it a request complete from birth. False when it was not tried (*res = 0)
 * or did not finish (*res < 0: the engine need not try the cache again); a part read is read
 * again whole by the engine (a file read has no side effect).
 *
 * Without the lock, so that threads submitting at once copy in parallel (two threads reading
 * cached 4 KiB blocks, each copy done under the lock, made 0.45x of one thread). The call has
 * not returned yet: nothing else may look at this aiocb meanwhile.
 *
 * O_DIRECT must never be tried: preadv2 would wait for the device even with RWF_NOWAIT (3 to
 * 6 ms measured here). Asking fcntl would cost a system call as dear as the read itself, so
 * the read is made one that O_DIRECT refuses at once (EINVAL) wherever the file ends, and a
 * buffered read serves unchanged: O_DIRECT needs memory aligned for the device's DMA (511
 * here; never less than 1), so a buffer at an odd address is refused as it is; from an even
 * one, the first byte goes to a scratch byte at an odd address (the kernel merges pieces that
 * touch, so buf and buf + 1 would pass as one), and is put in place once the kernel wrote
 * buf[1], which proves buf[0]'s page writable. A read shorter than 512 bytes is refused for
 * its length, even cut at the end of the file. Two probes that failed before: one byte more
 * (an unaligned length) passes when the file ends inside the read, since the kernel cuts the
 * read there before it checks the length, so the file's last block was read from the device
 * inside aio_read(); and it cost a second page of the cache at every page-aligned read (fio's
 * 4 KiB random reads at QD32: 13% slower). Streams answer ESPIPE to an offset at once.
 */
static bool try_read(const struct aiocb *cb, int64_t off, size_t len, int64_t *res);

/* Is cb a read that may be tried at all: a plain read of at most budget bytes, at an offset? */
static bool may_try(const struct aiocb *cb, int op, size_t budget)
{
	int fd = cb->aio_fildes;

	return (op & ~OP_OFF64) == OP_READ && aiocb_offset(cb, op) >= 0 && cb->aio_nbytes &&
	       cb->aio_nbytes <= budget && fd >= 0 &&
	       __atomic_load_n(notry_word(fd), __ATOMIC_RELAXED) != (unsigned)fd + 1;
}

bool req_try_now(const struct aiocb *cb, int op, size_t *budget, int64_t *res)
{
	*res = 0;
	/* A write ahead of it may touch its bytes: req_try_locked() looks. */
	if (!may_try(cb, op, *budget) || fdq_writing(cb->aio_fildes))
		return false;
	*budget -= cb->aio_nbytes;
	return try_read(cb, aiocb_offset(cb, op), cb->aio_nbytes, res);
}

/*
 * Called with core.lock held, for a read req_try_now() did not try because writes on its
 * descriptor were incomplete: try it now if none of them touches its bytes. Under the lock,
 * so that no write can be queued ahead of it meanwhile, and so only up to LOCKED_TRY_MAX
 * bytes: the lock is held for the copy. A read among writes to other places of a file (fio
 * randrw, stress-ng --aio) otherwise went to the engine, a hand-off to the background thread
 * and back, every time. Returns and sets *res as req_try_now().
 */
#define LOCKED_TRY_MAX (16 * 1024)

bool req_try_locked(const struct aiocb *cb, int op, size_t *budget, int64_t *res)
{
	LOCK_HELD();
	*res = 0;
	if (!may_try(cb, op, *budget < LOCKED_TRY_MAX ? *budget : LOCKED_TRY_MAX) ||
	    !fdq_writing(cb->aio_fildes) ||
	    !fdq_read_passes(cb->aio_fildes, aiocb_offset(cb, op), cb->aio_nbytes))
		return false;
	*budget -= cb->aio_nbytes;
	return try_read(cb, aiocb_offset(cb, op), cb->aio_nbytes, res);
}

/* The try itself: one preadv2(RWF_NOWAIT) of len bytes at off (see above for its shape). */
static bool try_read(const struct aiocb *cb, int64_t off, size_t len, int64_t *res)
{
	static TLS char scratch[2];
	char *odd = scratch + !((uintptr_t)scratch & 1), *buf = (char *)cb->aio_buf;
	bool aside = len >= 512 && !((uintptr_t)buf & 1); /* the first byte to odd */
	struct iovec v[2] = { { buf, len }, { buf + 1, len - 1 } };
	int fd = cb->aio_fildes, err;
	ssize_t n;

	if (aside) {
		v[0].iov_base = odd;
		v[0].iov_len = 1;
	}
	/* A refusal sets errno: the submitting call gives the program's back (errno_kept()). */
	n = preadv64v2(fd, v, aside ? 2 : 1, off, RWF_NOWAIT);
	err = errno;
	if (n == 0 || (n > 0 && (size_t)n == len)) {
		if (n && aside)
			buf[0] = *odd;
		*res = n; /* whole, or the end of the file */
		return true;
	}
	if (n < 0 && (err == EINVAL || err == EOPNOTSUPP || err == ESPIPE)) {
		__atomic_store_n(notry_word(fd), (unsigned)fd + 1, __ATOMIC_RELAXED);
		return false; /* never tried again: nothing learnt about the cache */
	}
	*res = -EAGAIN; /* not cached, or not a file for this */
	return false;
}

/*
 * Called with core.lock held. Make cb a live request and queue it on its descriptor; what may
 * run now is added to ready[] for the caller to issue in one batch. tried is req_try_now()'s
 * result, if it was tried: one of 0 or more finished the read, which completes at once and is
 * never queued. 0 or -errno, and on error the aiocb is untouched.
 */
int req_start(struct aiocb *cb, int op, const struct sev *sev, struct lio *l,
	      const int64_t *tried, struct req **ready, unsigned *nready)
{
	int64_t off = aiocb_offset(cb, op);
	bool now = tried && *tried >= 0;
	struct req *r;
	bool bad;
	int run = 1;

	/* Its notification needs the background thread: refuse what nobody would notify. */
	if (sev_needs_thread(sev) && bg_start() < 0)
		return -EAGAIN;
	r = req_alloc();
	if (!r)
		return -EAGAIN;
	claim_release(cb, true); /* a completion of this aiocb nobody claimed: not now */
	r->cb = cb;
	r->op = (uint8_t)(op & ~OP_FLAGS);
	if (op & OP_VEC)
		r->vec = true;
	op &= ~OP_FLAGS;
	r->fd = cb->aio_fildes;
	r->sev = *sev;
	r->offset = (op == OP_READ || op == OP_WRITE) && off >= 0 ? off : -1;
	r->state = REQ_LIVE;
	/* Done already: nothing waits for it on its descriptor, and no engine sees it. */
	bad = !now && !fdq_fd_open(r->fd); /* before anything is sized for the number */
	if (!now && !bad && core.eng->reserve && core.eng->reserve(r) < 0) {
		req_free(r);
		return -EAGAIN;
	}
	if (!now && !bad) {
		run = fdq_enqueue(r);
		if (run < 0) {
			req_free(r);
			return -EAGAIN;
		}
	}
	cb->__return_value = 0;
	__atomic_store_n(&cb->__error_code, EINPROGRESS, __ATOMIC_RELAXED);
	req_set_token(r);
	if (l) {
		r->lio = l;
		r->lio_index = l->place;
		__atomic_add_fetch(&l->pending, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&l->members, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
	}
	if (sev_needs_thread(sev))
		req_bg_hold(r, RF_NOTIFY);
	if (tried && !now)
		r->flags |= RF_TRIED;
	if (now) {
		STAT_INC(submitted);
		STAT_INC(now);
		req_complete(r, *tried);
	} else if (bad)
		req_complete(r, -EBADF);
	else if (run)
		ready[(*nready)++] = r;
	return 0;
}

static int submit_one(struct aiocb *cb, int op)
{
	struct req *ready[1];
	unsigned n = 0;
	struct sev sev;
	size_t budget = TRY_NOW_MAX;
	int64_t res;
	bool tried;
	int saved = errno, cs, err = aiocb_check(cb, op, &sev);

	if (!err)
		err = engine_get();
	if (err)
		return ret_errno(err);
	cs = nocancel_begin();
	req_notify_later(NOTIFY_LATER_SIGNALS);
	tried = req_try_now(cb, op, &budget, &res) || res < 0;
	if (tried && res >= 0 && sev.notify == SIGEV_NONE && claim_light(cb, (ssize_t)res)) {
		STAT_INC(submitted);
		STAT_INC(now);
		STAT_INC(completed);
		goto out; /* no request, no lock: finished, with nothing to notify */
	}
	core_lock();
	if (!tried)
		tried = req_try_locked(cb, op, &budget, &res) || res < 0;
	err = req_start(cb, op, &sev, NULL, tried ? &res : NULL, ready, &n);
	if (n)
		req_issue(ready, n);
	core_unlock();
	/*
	 * What the engine finished meanwhile is made visible now; a read finished inside the
	 * call is visible already.
	 */
	if (!err && !(tried && res >= 0))
		reap(false);
out:
	req_notify_later(NOTIFY_NOW);
	nocancel_end(cs);
	req_call_return();
	return (int)errno_kept(ret_errno(err), saved);
}

EXPORT int aio_read(struct aiocb *cb)
{
	return submit_one(cb, OP_READ);
}

EXPORT int aio_write(struct aiocb *cb)
{
	return submit_one(cb, OP_WRITE);
}

EXPORT int aio_readv(struct aiocb *cb)
{
	return submit_one(cb, OP_READ | OP_VEC);
}

EXPORT int aio_writev(struct aiocb *cb)
{
	return submit_one(cb, OP_WRITE | OP_VEC);
}

/* POSIX: aio_fsync() needs a descriptor open for writing. */
bool fsync_fd_ok(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_ACCMODE) != O_RDONLY;
}

EXPORT int aio_fsync(int op, struct aiocb *cb)
{
	if (op != O_SYNC && op != O_DSYNC)
		return ret_errno(-EINVAL);
	if (!fsync_fd_ok(cb->aio_fildes))
		return ret_errno(-EBADF);
	return submit_one(cb, op == O_DSYNC ? OP_FDSYNC : OP_FSYNC);
}

bool aiocb_done(const struct aiocb *cb)
{
	return __atomic_load_n(&cb->__error_code, __ATOMIC_ACQUIRE) != EINPROGRESS;
}

/*
 * Complete, and its notification delivered: aio_suspend() returns only then, as glibc's
 * does. No lock: aio_suspend() may be called from a signal handler that interrupted a
 * thread holding core.lock. The slot's notify_gen names the generation whose notification is
 * still to go out; a slot gone on to another request was notified before it was freed.
 */
bool aiocb_notified(const struct aiocb *cb)
{
	struct req *r;

	if (!aiocb_done(cb))
		return false;
	r = req_slot(cb);
	return !r || __atomic_load_n(&r->notify_gen, __ATOMIC_ACQUIRE) != (uint32_t)cb->__policy;
}

EXPORT int aio_error(const struct aiocb *cb)
{
	int err = __atomic_load_n(&cb->__error_code, __ATOMIC_ACQUIRE);
	uint8_t mode;
	int saved, cs;

	if (err != EINPROGRESS)
		return err;
	/* Async-signal-safe: reap() takes no lock this thread may hold (runtime.c). */
	saved = errno; /* a handler's caller may be between a call and its look at errno */
	cs = nocancel_begin();
	mode = req_notify_later(NOTIFY_NOW);
	req_notify_later(mode | NOTIFY_LATER_CALLBACKS);
	reap(false);
	req_notify_later(mode);
	nocancel_end(cs);
	errno = saved;
	return __atomic_load_n(&cb->__error_code, __ATOMIC_ACQUIRE);
}

/*
 * POSIX leaves aio_return() on a request in progress undefined; glibc returns the 0 stored at
 * submission and leaves errno alone, and programs (and the Open POSIX Test Suite's
 * aio_fsync/4-2) count on that, so do the same.
 */
EXPORT ssize_t aio_return(struct aiocb *cb)
{
	ssize_t ret;
	int saved = errno, cs;

	if (aio_error(cb) == EINPROGRESS)
		return cb->__return_value;
	ret = cb->__return_value;
	cs = nocancel_begin();
	claim_release(cb, false);
	nocancel_end(cs);
	errno = saved;
	return ret;
}

/* Called with core.lock held, as r's result is published: answer whoever waits to cancel it. */
void cancel_watch_done(struct req *r, int64_t res)
{
	LOCK_HELD();
	for (struct cancel_watch *w = r->watch; w; w = w->next) {
		w->r = NULL;
		w->res = res;
		__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	}
	r->watch = NULL;
}

/* What one aio_cancel() call follows, and what it found so far. */
struct cancel_call {
	struct cancel_watch *all;
	bool canceled, notcanceled;
	bool engine_only; /* what cancel_call_done() looks at */
};

static bool cancel_call_done(void *arg)
{
	struct cancel_call *c = arg;

	for (struct cancel_watch *w = c->all; w; w = w->all)
		if ((w->engine_cancelled || !c->engine_only) &&
		    !__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* Called with core.lock held. */
static void cancel_one(struct req *r, struct cancel_call *c)
{
	struct cancel_watch *w;

	LOCK_HELD();

	/*
	 * Skip what is done already (an earlier cancel in this loop may have finished it). A
	 * request an earlier aio_cancel() could not stop is asked again, and counted.
	 */
	if (r->state != REQ_LIVE && r->state != REQ_HELD)
		return;
	/*
	 * A stream write that has moved part of its data is under way, not cancellable
	 * (POSIX, glibc, FreeBSD): it goes on and completes whole.
	 */
	if (r->moved > 0) {
		c->notcanceled = true;
		return;
	}
	r->flags |= RF_CANCEL;
	if (r->state == REQ_HELD) {
		/* Never started: nothing was transferred. */
		c->canceled = true;
		req_complete(r, -ECANCELED);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		c->notcanceled = true; /* no memory to follow it: say what is safe */
		return;
	}
	/* Watch before asking: the engine may complete it inside its cancel. */
	w->r = r;
	w->next = r->watch;
	r->watch = w;
	w->all = c->all;
	c->all = w;
	w->engine_cancelled = core.eng->cancel(r) == 0;
}

/* Called with core.lock held: stop following what is still under way. */
static void cancel_unwatch(struct cancel_watch *w)
{
	struct cancel_watch **p;

	LOCK_HELD();

	if (!w->r)
		return;
	for (p = &w->r->watch; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	w->r = NULL;
}

static int cancel(int fd, struct aiocb *cb)
{
	struct cancel_call c = { NULL, false, false, true };
	struct cancel_watch *w, *next;
	struct req *r, *rnext;

	if (fcntl(fd, F_GETFD) < 0)
		return ret_errno(-EBADF);
	if (cb && cb->aio_fildes != fd)
		return ret_errno(-EINVAL);
	if (engine_get())
		return AIO_ALLDONE;
	reap(false);

	/* The aiocb is read here, before anything completes, and never again. */
	core_lock();
	if (cb) {
		r = req_lookup(cb);
		if (r)
			cancel_one(r, &c);
	} else {
		for (r = fdq_first(fd); r; r = rnext) {
			rnext = r->fd_next;
			cancel_one(r, &c);
		}
	}
	core_unlock();

	/* The engine cancelled these: wait for their completion to come through. */
	while (wait_for(cancel_call_done, &c, NULL) == -EINTR)
		;
	/*
	 * Under way when asked: the kernel may still stop it (io_uring interrupts an io-wq
	 * worker), or it may finish. Give it a moment and answer from how it ended.
	 */
	c.engine_only = false;
	if (!cancel_call_done(&c)) {
		static const struct timespec moment = { 0, 100 * 1000 * 1000 };

		wait_for(cancel_call_done, &c, &moment);
	}
	reap(false);
	core_lock();
	for (w = c.all; w; w = w->all) {
		if (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
			cancel_unwatch(w);
			c.notcanceled = true;
		} else if (w->res == -ECANCELED) {
			c.canceled = true;
		}
	}
	core_unlock();
	for (w = c.all; w; w = next) {
		next = w->all;
		free(w);
	}
	if (c.notcanceled)
		return AIO_NOTCANCELED;
	return c.canceled ? AIO_CANCELED : AIO_ALLDONE;
}

/* Not a cancellation point, though it may wait: its waits never act on one. */
EXPORT int aio_cancel(int fd, struct aiocb *cb)
{
	int saved = errno, cs = nocancel_begin();
	int ret = cancel(fd, cb);

	nocancel_end(cs);
	return (int)errno_kept(ret, saved);
}

EXPORT void aio_init(const struct aioinit *init)
{
	(void)init; /* a hint for glibc's thread pool; there is no such pool here */
}

/*
 * The *64 names. struct aiocb64 differs from struct aiocb at most in aio_offset (and the
 * padding after a 32-bit one): every other field the library reads or writes is in the same
 * place, so the names that read no offset are the same functions on every ABI.
 */
#define ALIAS(name) __attribute__((alias(#name), visibility("default")))
#define SAME_FIELD(f) (offsetof(struct aiocb, f) == offsetof(struct aiocb64, f))
_Static_assert(sizeof(struct aiocb) == sizeof(struct aiocb64) && SAME_FIELD(aio_fildes) &&
		       SAME_FIELD(aio_lio_opcode) && SAME_FIELD(aio_reqprio) &&
		       SAME_FIELD(aio_buf) && SAME_FIELD(aio_nbytes) &&
		       SAME_FIELD(aio_sigevent) && SAME_FIELD(__abs_prio) &&
		       SAME_FIELD(__policy) && SAME_FIELD(__error_code) &&
		       SAME_FIELD(__return_value) && SAME_FIELD(aio_offset),
	       "struct aiocb64 differs from struct aiocb beyond aio_offset");
int aio_fsync64(int op, struct aiocb64 *cb) ALIAS(aio_fsync);
int aio_error64(const struct aiocb64 *cb) ALIAS(aio_error);
ssize_t aio_return64(struct aiocb64 *cb) ALIAS(aio_return);
int aio_cancel64(int fd, struct aiocb64 *cb) ALIAS(aio_cancel);

#ifdef __OFF_T_MATCHES_OFF64_T
/* off_t has 64 bits: struct aiocb64 is struct aiocb, and so are its offsets. */
_Static_assert(sizeof(off_t) == sizeof(off64_t), "off_t is not off64_t");
int aio_read64(struct aiocb64 *cb) ALIAS(aio_read);
int aio_write64(struct aiocb64 *cb) ALIAS(aio_write);
int aio_readv64(struct aiocb64 *cb) ALIAS(aio_readv);
int aio_writev64(struct aiocb64 *cb) ALIAS(aio_writev);
#else
EXPORT int aio_read64(struct aiocb64 *cb)
{
	return submit_one((struct aiocb *)cb, OP_READ | OP_OFF64);
}

EXPORT int aio_write64(struct aiocb64 *cb)
{
	return submit_one((struct aiocb *)cb, OP_WRITE | OP_OFF64);
}

EXPORT int aio_readv64(struct aiocb64 *cb)
{
	return submit_one((struct aiocb *)cb, OP_READ | OP_VEC | OP_OFF64);
}

EXPORT int aio_writev64(struct aiocb64 *cb)
{
	return submit_one((struct aiocb *)cb, OP_WRITE | OP_VEC | OP_OFF64);
}
#endif
