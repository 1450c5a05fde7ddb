/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libposixaio: the shapes every part of the library shares.
 *
 * Life of a request. aio_read()/aio_write()/aio_fsync()/lio_listio() validate the caller's
 * aiocb, take a struct req from the slabs (req.c) and give it to the descriptor's queue
 * (fdq.c), which either issues it to the engine at once or holds it behind an earlier
 * request on that descriptor (fsync barrier, stream order, O_APPEND order). Engines
 * (sysdeps/linux/engine-*.c) report each result through req_complete() and nothing else.
 * Completion happens in three steps: under the global lock the result is published in the
 * aiocb (return value, then the error code with release order) and the descriptor's queue
 * issues whatever may now run; outside the lock the sigevent is delivered (notify.c); then,
 * under the lock again, the request is freed and waiting threads are woken (wait.c). After
 * the result is published the library never touches the aiocb again.
 *
 * Locks, in the one order they are taken: a thread that holds one takes only those after it.
 * (1) init_lock (runtime.c) while the engine starts; fork()'s prepare handler takes it too.
 * (2) core.reap_lock: one thread at a time drains the engine's completions. (3) core.lock: the
 * slabs, the descriptor queues, the waiter and claim lists, the background thread's queues and
 * every engine's submission side and records. (4) A thread pool's lock (pool.c): the helper
 * threads' after core.lock, the SIGEV_THREAD callbacks' with none of these held; no other lock
 * is taken while one is held. (5) ownfd.c's track_lock, a leaf, while a page of its registry is
 * made. The callbacks' pool lock is taken bare because notifications go out with core.lock let
 * go. A function whose comment says "called with core.lock held" checks it (LOCK_HELD(), where
 * assertions are on); core.lock is let go inside a locked span only by
 * core_drop()/core_retake(), which keep the thread's view of what it holds true. None of them
 * is taken by aio_error(), aio_return() or aio_suspend() in a signal handler that interrupted
 * its thread inside the library (core_inside()). Completions found while core.lock is held (a
 * submission that fails at once, a held request cancelled) are queued per thread and finished
 * when that thread releases the lock, so req_complete() may be called from anywhere.
 *
 * Threads. The background thread (notify.c) runs while any request needs a thread of the
 * library: a signal or a callback to deliver, a held request to issue when its predecessor
 * ends, and on io_uring every request in the ring, since only that thread issues to the ring
 * (engine-uring.c says why: the kernel ties a request to the task that issued it, and that
 * task's sleeps, copies and signals must never be a program thread's). It blocks every signal
 * and leaves a second after its last reason. None runs while requests finish inside the call
 * (small reads of cached data). SIGEV_THREAD callbacks run on a pool of threads (pool.c).
 */
#ifndef POSIXAIO_INTERNAL_H
#define POSIXAIO_INTERNAL_H

#include <aio.h>
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "config.h"
#include "list.h"
#include "pool.h"

#define EXPORT __attribute__((visibility("default")))
/*
 * Errors: inside the library a function fails with -errno (liburing's convention), and an
 * exported entry point turns that into errno and -1 here, in one place (musl's
 * __syscall_ret). A non-negative result passes through.
 */
static inline int ret_errno(int ret)
{
	if (ret >= 0)
		return ret;
	errno = -ret;
	return -1;
}
/*
 * A call that succeeds leaves errno as the program left it, whatever failed inside it on the
 * way (a stream not ready yet: EAGAIN; an eventfd already clear), as glibc's calls do, whose
 * work happens in other threads. Each exported call takes errno as it comes in (saved) and
 * answers through errno_kept(), which gives it back unless the call's own answer is -1.
 */
static inline long errno_kept(long ret, int saved)
{
	if (ret != -1)
		errno = saved;
	return ret;
}
/*
 * Per-thread state, in the static TLS block: a preloaded or linked library is there from
 * the start, and every call would otherwise go through __tls_get_addr.
 */
#define TLS __thread __attribute__((tls_model("initial-exec")))

enum req_op {
	OP_READ,
	OP_WRITE,
	OP_FSYNC,
	OP_FDSYNC,
};
/* Added to OP_READ or OP_WRITE where an operation is asked for: aio_readv(), aio_writev(). */
#define OP_VEC 0x10
/*
 * Added where a request comes in by a *64 name (aio_read64(), lio_listio64()...): its aiocb
 * is a struct aiocb64, whose aio_offset has 64 bits even where struct aiocb's has 32 (i386,
 * armhf). aiocb_check() and req_start() read the offset through it, once; r->offset keeps it.
 */
#define OP_OFF64 0x20
#define OP_FLAGS (OP_VEC | OP_OFF64)

enum req_state {
	REQ_FREE,
	REQ_HELD,   /* queued in the library behind an earlier request on its descriptor */
	REQ_LIVE,   /* accepted and not held: on its way to the engine, or in it */
	REQ_DONE,   /* result published, notification and release pending */
	REQ_CLAIM,  /* notified; kept until aio_return() or aio_waitcomplete() claims it */
};

enum req_flags {
	RF_CANCEL = 1 << 0,     /* aio_cancel() asked the engine to cancel it */
	RF_HOLDS_FILE = 1 << 5, /* the engine holds the file it was submitted for */
	RF_TRIED = 1 << 6,      /* req_try_now() found it not in the page cache */
	RF_KAIO = 1 << 7,       /* the io_uring engine gave it to engine-kaio.c */
	/*
	 * The reasons a request gives the background thread to run (core.bg_needed counts them),
	 * taken and given back only through req_bg_hold() and req_bg_drop().
	 */
	RF_NOTIFY = 1 << 1, /* its sigevent needs a thread of the library */
	RF_HELD = 1 << 2,   /* held behind an earlier request on its descriptor */
	RF_BG = 1 << 3,     /* a stream write, which may come back short and go on */
	RF_RING = 1 << 4,   /* issued by the background thread (io_uring) */
	RF_BG_REASONS = RF_NOTIFY | RF_HELD | RF_BG | RF_RING,
};

/* A sigevent as copied at submission. */
struct sev {
	int notify; /* SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID */
	int signo;
	pid_t tid;
	union sigval value;
	void (*fn)(union sigval);
	pthread_attr_t *attr;
};

/*
 * A thread's own state: what it sleeps on when it waits (wait.c), and how many submitting
 * calls that queued a signal it has returned from (req_hold()). Kept for the next thread
 * when its thread exits, never freed.
 */
struct tstate {
	int efd;          /* eventfd this thread sleeps on in wait.c, or -1 */
	uint32_t returns; /* atomic: written by its thread, read by the background thread */
	struct tstate *next_free;
};

/*
 * A notification queued from inside a submitting call, held until that call has returned
 * (req_hold()): the caller's thread state and its count of returns then. ts NULL: not held.
 */
struct hold {
	struct tstate *ts;
	uint32_t returns;
};

/*
 * An aio_cancel() call's interest in one request: its result, captured under core.lock when it
 * is published, so that aio_cancel() never reads the aiocb, which the request's callback
 * may have freed or submitted again by the time aio_cancel() looks.
 */
struct cancel_watch {
	struct cancel_watch *next; /* the request's other watchers */
	struct cancel_watch *all;  /* the aio_cancel() call's other watches */
	struct req *r;             /* NULL once done */
	int64_t res;
	bool done; /* atomic */
	bool engine_cancelled; /* the engine took the cancellation: its completion follows */
};

struct lio {
	struct lio *next; /* in the background thread's queue of lists to notify */
	bool failed;      /* a member failed; set before its notification goes out */
	unsigned pending; /* members not yet complete, plus one while they are being started */
	unsigned members; /* members not yet notified, plus one while they are being started */
	unsigned refs;    /* members not yet freed, the caller, the background queue; atomic */
	bool hold;        /* LIO_WAIT: the caller delivers its members' notifications */
	uint32_t place;   /* list index of the member being started */
	FIFO(struct req) held; /* finished members whose notification it holds */
	struct sev sev;
	struct hold queued_by; /* a submitting call that queued it for the background thread */
};

struct fdq;

/* A request's part while helper threads have it (helpers.c). */
struct help {
	struct pool_job job;
	struct req *prev, *next; /* a descriptor's writes waiting for its writer */
	uint64_t done;           /* bytes moved before it came to the helpers */
	int fd;                  /* the descriptor's duplicate, or the program's number */
	uint8_t where;
	bool held;   /* fd is a duplicate from fdhold_get() */
	bool serial; /* a write, done by its descriptor's one writer */
};

struct req {
	struct aiocb *cb;
	struct req *fd_prev, *fd_next; /* the descriptor's incomplete requests, in order */
	struct req *next;              /* held queue, free list, completion list */
	struct req *eng_next;          /* the engine's own queue, while the engine has it */
	struct fdq *fdq;
	struct lio *lio;
	uint64_t moved; /* bytes earlier pieces transferred (a stream write, a cut-short read) */
	int64_t res;
	int64_t offset; /* -1 on a stream; off_t may have 32 bits here, the offset 64 */
	int fd;
	uint32_t index; /* slot number, part of the token kept in the aiocb */
	uint32_t lio_index; /* its place in its lio_listio() list */
	uint32_t gen;
	uint8_t op;
	bool vec; /* aio_readv()/aio_writev(): aio_buf is an iovec array. Set once, at start. */
	uint8_t state;
	uint8_t flags;
	struct sev sev;
	struct iovec *iov; /* a vectored request's rest, after a partial transfer (req_span) */
	struct cancel_watch *watch; /* aio_cancel() calls waiting for its result */
	struct help help;
	/*
	 * Read without core.lock by aio_return() (claim.c), so atomic, and last: req_alloc()
	 * clears the fields above only. Once the result is published, claim is gen << 1, and
	 * gen << 1 | 1 once the request waits in the claim list; 0 when claimed (or never
	 * published). claim_cb is the aiocb it was published in.
	 */
	uint64_t claim;
	uintptr_t claim_cb;
	/*
	 * The generation whose notification is still to go out, set before its result is
	 * published and cleared once it is out; read without core.lock by aio_suspend(), which
	 * may run in a signal handler. Kept across req_alloc(), like claim.
	 */
	uint32_t notify_gen;
	struct hold queued_by; /* a submitting call that queued it for the background thread */
};

/*
 * Where the transfer of r goes on after done bytes. Integer arithmetic: an fsync's aio_buf
 * may be NULL, and NULL + 0 is undefined in C.
 */
static inline void *req_buf(const struct req *r, uint64_t done)
{
	return (void *)((uintptr_t)r->cb->aio_buf + (uintptr_t)done);
}

/*
 * What is left of r's transfer after done bytes, as an iovec array (*iov) and its count
 * (returned): one entry in *one for a plain request (possibly of zero length); for a
 * vectored one the caller's array, or after a partial transfer a trimmed copy the request
 * keeps (0 when nothing is left). -ENOMEM. Called by whoever owns r at the time.
 */
int req_span(struct req *r, uint64_t done, struct iovec *one, const struct iovec **iov);
/* Bytes a request transfers in all: aio_nbytes, or a vectored request's sum. */
uint64_t req_len(const struct req *r);

/* What read(2) and write(2) move at most in one call: a plain request asks this much at most. */
#define MAX_RW 0x7ffff000UL

/*
 * What an engine sees of a request, and all it reads of it (as libuv's io_uring path takes
 * bufs, nbufs and an offset): engines do not read the aiocb. iov holds what is left after
 * moved bytes, iovcnt entries. A plain request's is the single entry *one, capped at MAX_RW,
 * which the caller keeps until the transfer has been issued; so iov == one tells a plain
 * request from a vectored one, whose array (the program's, or after a partial transfer a
 * trimmed copy the request keeps) is not read here: its addresses are the program's, and only
 * the kernel may find them bad. len is a plain request's whole length (aio_nbytes) and 0 for
 * a vectored one. off is where the rest goes, or -1 on a stream.
 */
struct req_view {
	int fd;
	uint8_t op; /* OP_READ, OP_WRITE, OP_FSYNC or OP_FDSYNC */
	int iovcnt;
	const struct iovec *iov;
	uint64_t len;
	int64_t off;
};
/* 0, or -ENOMEM (no memory for a trimmed copy: iovcnt is then 0). Called by r's owner. */
int req_view(struct req *r, uint64_t moved, struct iovec *one, struct req_view *v);

/* Engines: see sysdeps/linux/engine-uring.c for the reference implementation. */
struct engine {
	const char *name;
	int (*init)(void); /* 0 or -errno */
	/* Issue n requests; one that fails at once is completed through req_complete(). */
	void (*submit)(struct req **reqs, unsigned n);
	/* Optional, called by the background thread with core.lock held: issue what waits. */
	void (*issue)(void);
	/* 0: cancelled, its completion follows; -EALREADY: under way; -ENOENT: not found. */
	int (*cancel)(struct req *r);
	bool (*has_completions)(void); /* cheap check, no syscall */
	void (*reap)(void);            /* deliver completions; called with reap_lock held */
	int (*pollfds)(struct pollfd *pfd, int max); /* what a waiter polls for completions */
	/*
	 * Optional, called with core.lock held before a request is accepted: take the memory the
	 * engine will need for it, so that running short fails the call with EAGAIN rather
	 * than the request. 0 or -ENOMEM.
	 */
	int (*reserve)(struct req *r);
	/* Optional, called with core.lock held when r is complete for good (not to go on). */
	void (*retire)(struct req *r);
	/* Optional: make pollfds() quiet unless completions wait (posixaio_fd() went idle). */
	void (*quiet)(void);
	/*
	 * Optional: pollfds() cannot see every completion now (the program closed a descriptor
	 * of the engine's and requests it held are still out): sleepers look every 10 ms.
	 */
	bool (*poll_short)(void);
	/*
	 * Optional, lock-free, for the background thread woken by the end of a nap that pollfds()
	 * shortened (core.bg_look_soon): do program threads still serve what it left out? Then it
	 * naps again without taking a lock.
	 */
	bool (*others_serve)(void);
	void (*fork_child)(void);
};

extern const struct engine engine_uring;
#if HAVE_LIBAIO
extern const struct engine engine_kaio;
/*
 * engine-kaio.c serving the io_uring engine's O_DIRECT and stream requests: kaio_init_part()
 * makes its descriptors, without the native AIO context, which kaio_direct_ready() makes at
 * the first O_DIRECT request (has it one for them now?). Called with core.lock held.
 */
int kaio_init_part(void);
bool kaio_direct_ready(void);
/* Did fd's last request see an O_DIRECT file? Called with core.lock held. */
bool kaio_direct_fd(int fd);
#endif
/*
 * Called with core.lock held by engine-kaio.c: O_DIRECT r, which moved done bytes already,
 * would have waited in io_submit; the ring takes the rest. held: the duplicate of its
 * descriptor it holds (handed over), or -1.
 */
void uring_direct_back(struct req *r, uint64_t done, int held);

struct waiter;

struct posixaio {
	pthread_mutex_t lock;
	/*
	 * Counts the takings of lock (core_lock(), core_retake()): what was looked at under one
	 * number holds until the lock is let go. Guarded by lock.
	 */
	uint64_t lock_span;
	pthread_mutex_t reap_lock;
	const struct engine *eng;

	struct req **slabs; /* slabs of REQ_SLAB requests, never freed */
	uint32_t nslabs, cap_slabs;
	struct req *free;

	struct waiter *waiters;
	int nwaiters;
	int leader; /* a waiter polls the engine; atomic */

	/*
	 * Requests that need a live thread of the library to move on even if the program never
	 * calls it again: a notification to deliver, a held request to issue when its
	 * predecessor ends, a stream write to continue, a request whose issuing thread exited.
	 * The background thread runs while this is not zero (notify.c).
	 */
	unsigned bg_needed;
	bool bg_running;
	/*
	 * Set by the engine's pollfds as the background thread goes to sleep (core.lock held):
	 * it left out descriptors a program thread serves, so look again within HOLD_LOOK_MS.
	 * The background thread's alone: a program thread's pollfds never reads it.
	 */
	bool bg_look_soon;
	bool exiting; /* exit() has begun: the background thread stops writing into aiocbs */
	/* Notifications the background thread delivers, in order: requests, then lists. */
	FIFO(struct req) bg_reqs;
	FIFO(struct lio) bg_lios;
	int bg_efd; /* wakes the background thread for them */
	bool bg_kicked; /* bg_efd was written since the background thread last looked */
	/*
	 * The engine holds submissions a failed enter left behind: one bit per part that may
	 * (SQP_RING, SQP_KAIO; the io_uring engine gives O_DIRECT to native AIO). Atomic.
	 */
	unsigned sq_pending;

	pthread_key_t tkey;

	/*
	 * Requests completed and notified but not yet claimed (claim.c), oldest first. Until
	 * the program asks for them (claim mode, claim.c), only the last CLAIM_KEEP are kept.
	 */
	FIFO(struct req) claims;
	unsigned nclaim;   /* in the list, claimed or not */
	unsigned unclaimed; /* atomic */
	bool claim_armed;  /* claim_efd's counter is not zero */
	int claim_ready;   /* atomic: claim_efd and claim_epfd exist */
	int claim_efd, claim_epfd;
};

extern struct posixaio core;

enum { SQP_RING = 1 << 0, SQP_KAIO = 1 << 1 };

static inline void sq_pending_set(unsigned part, bool on)
{
	if (!(__atomic_load_n(&core.sq_pending, __ATOMIC_RELAXED) & part) == !on)
		return;
	if (on)
		__atomic_or_fetch(&core.sq_pending, part, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&core.sq_pending, ~part, __ATOMIC_RELAXED);
}

/* Statistics, printed at exit with POSIXAIO_STATS=1. Relaxed atomics. */
struct stats {
	/* now: reads finished inside the submitting call from the page cache (req_try_now()) */
	unsigned long submitted, now, completed, held, cancelled, signals, callbacks, waits;
};
extern struct stats stats;
/*
 * Counted only when the line is asked for: two threads completing requests would otherwise
 * pass the counters' cache line back and forth for every request.
 */
extern bool stats_on;
#define STAT_ADD(f, n)                                                                    \
	do {                                                                              \
		if (__atomic_load_n(&stats_on, __ATOMIC_RELAXED))                         \
			__atomic_fetch_add(&stats.f, (n), __ATOMIC_RELAXED);              \
	} while (0)
#define STAT_INC(f) STAT_ADD(f, 1)

/* runtime.c */
int engine_get(void); /* 0 or -errno: the engine is up */
void reap(bool block);
void reap_settle(void);
void core_lock(void);
void core_unlock(void);
void core_drop(void);
void core_retake(void);
bool core_locked(void);
/* What a "called with core.lock held" comment says, checked where assertions are on. */
#define LOCK_HELD() assert(core_locked())
bool core_inside(void);
struct tstate *tstate_get(void);

/* stats.c */
void stats_init(void);
void stats_start(void);
void stats_fork_child(void);
void exit_resolve(void);

/* req.c */
#define REQ_SLAB 256
struct req *req_alloc(void);
void req_free(struct req *r);
void req_set_token(struct req *r);
struct req *req_lookup(const struct aiocb *cb);
struct req *req_slot(const struct aiocb *cb);
struct req *req_at(uint32_t index);
void req_complete(struct req *r, int64_t res);
void req_issue(struct req **reqs, unsigned n);
void req_bg_hold(struct req *r, uint8_t reason);
void req_bg_drop(struct req *r, uint8_t reason);
void req_finish_deferred(void);
void req_deliver(struct req *reqs, struct lio *lios);
/*
 * Which notifications of what this thread completes the background thread delivers instead
 * of this thread: signals inside a submitting call that the caller does not block (it must
 * not get its own signal before the call returns), callbacks inside aio_error(),
 * aio_return() and aio_suspend(), which may run in a signal handler (starting a callback may
 * allocate or create a thread).
 * Flags; returns the previous ones.
 */
enum { NOTIFY_NOW = 0, NOTIFY_LATER_SIGNALS = 1, NOTIFY_LATER_CALLBACKS = 2 };
bool req_in_submit(void); /* inside aio_read(), aio_write(), lio_listio(LIO_NOWAIT)... */
uint8_t req_notify_later(uint8_t mode);
void req_hold(struct hold *h);
bool req_held(const struct hold *h);
void req_call_return(void);
void req_notified(struct req *r);
void req_fork_child(void);

/* lio.c */
void lio_member_notified(struct lio *l);
void lio_put(struct lio *l);

/* claim.c */
void claim_publish(struct req *r);
void claim_push(struct req *r);
void claim_release(const struct aiocb *cb, bool locked);
bool claim_light(struct aiocb *cb, ssize_t res);
void claim_mode_on(void); /* core.lock held */
void claim_engine_fds(void); /* core.lock held */
bool claim_watching(void);
void claim_expect(void);   /* core.lock held */
void claim_expected(void); /* core.lock held */
void claim_fork_child(void);

/* fdq.c */
enum fd_kind {
	FDK_UNKNOWN,
	FDK_FILE,
	FDK_APPEND, /* a regular file opened with O_APPEND */
	FDK_STREAM, /* pipe, FIFO, socket, tty, character device */
	FDK_BAD,
};
int fd_classify(int fd);
bool fdq_fd_open(int fd);
int fdq_enqueue(struct req *r); /* 1: issue it now, 0: held, -ENOMEM */
/*
 * r is complete: up to FDQ_READY_MAX requests it held back are added to ready (a read, a
 * write and an fsync of a stream; on a file, as many held reads as fit, the rest following
 * as these complete).
 */
#define FDQ_READY_MAX 16
void fdq_retire(struct req *r, struct req **ready, unsigned *nready);
int fdq_kind(const struct req *r);
bool fdq_device(const struct req *r);
bool fdq_nowait_stream(const struct req *r); /* a socket, or a pipe from pipe(2) */
/* Without core.lock: may fd have a write still incomplete? (false: surely none) */
bool fdq_writing(int fd);
bool fdq_read_passes(int fd, int64_t off, size_t len);
bool fdq_direct(const struct req *r); /* a regular file opened with O_DIRECT */
bool fdq_same_file(const struct req *r);
bool fdq_file(const struct req *r, dev_t *dev, ino64_t *ino);
struct req *fdq_first(int fd);
void fdq_fork_child(void);

/* notify.c */
int sev_copy(struct sev *dst, const struct sigevent *src); /* 0 or -EINVAL */
bool sev_needs_thread(const struct sev *s);
void sev_deliver(const struct sev *s);
void bg_get(void);
void bg_put(unsigned n);
int bg_start(void);
bool bg_self(void);
void bg_wake(void);
/* Called without core.lock, by core_unlock(): the eventfd write bg_wake() deferred. */
void bg_wake_flush(void);
void pollfds_check(const struct pollfd *pfd, int n);
void notify_fork_child(void);

/* ownfd.c: the library's own descriptors (see there) */
int ownfd_track(int fd, bool kick); /* 0 or -errno */
int ownfd_new(int fd, bool kick);   /* fd from a call that set errno: fd, or -errno */
bool ownfd_lost(int fd);            /* the program closed it: never use the number again */
void ownfd_notice(int fd);          /* the library's own call found it closed (EBADF) */
unsigned ownfd_losses(void);        /* changes whenever one of them is lost */
bool ownfd_use(int fd);             /* false: lost; true: use it once, then ownfd_done() */
void ownfd_enter(void);
void ownfd_thread_internal(void);   /* the calling thread runs only the library's code */
bool ownfd_is_internal(void);      /* and blocks every signal */
bool ownfd_may_open(void);          /* in a call of the program's: descriptors may be made */
void ownfd_fork_child(void);            /* ownfd_use() of every number checked after it */
void ownfd_done(void);
int ownfd_close(int fd);            /* the library lets go of it (not closed if lost) */

/* fdhold.c: duplicates of the program's descriptors, held while requests wait (see there) */
void fdhold_init(void);  /* at engine start: where duplicates go */
int fdhold_dup(int fd);  /* the library's duplicate of fd, or -1: none to spare */
/* Called with core.lock held: a duplicate of fd for a waiting request (shared), or -1. */
int fdhold_get(int fd);
void fdhold_put(int fd, int held); /* what fdhold_get(fd) gave */
void fdhold_closing(unsigned lo, unsigned hi);
/* Lock-free: changes whenever the program closes fd (and may, for other numbers). */
unsigned fdhold_closes(int fd);
void fdhold_fork_forget(int fd, int held); /* in a forked child: a request held it */
void fdhold_fork_child(void);

/*
 * helpers.c: helper threads doing blocking transfers (see there). Called with core.lock held.
 * helpers_queue() takes r, which moved done bytes already, and completes it, with its
 * result or with EAGAIN when no thread can be had; held is a duplicate from fdhold_get() it
 * takes over, or -1. helpers_cancel(): as engine.cancel.
 */
int helpers_reserve(int fd); /* 0 or -ENOMEM */
void helpers_queue(struct req *r, uint64_t done, int held);
bool helpers_have(const struct req *r);
int helpers_cancel(struct req *r);
void helpers_fork_child(void);

/* wait.c */
int wait_for(bool (*done)(void *arg), void *arg, const struct timespec *rel_timeout);
int wait_until(bool (*done)(void *arg), void *arg, const struct timespec *deadline);
int wait_deadline(const struct timespec *rel, struct timespec *deadline);

/*
 * glibc's struct __timespec64, which programs built with -D_TIME_BITS=64 pass where time_t
 * has 32 bits (i386, armhf): a 64-bit tv_sec and a 32-bit tv_nsec beside 32 bits of padding
 * the program need not set. Elsewhere it is struct timespec itself.
 */
#if __TIMESIZE == 32
struct timespec_time64 {
	int64_t tv_sec;
#if __BYTE_ORDER == __BIG_ENDIAN
	int32_t pad;
	int32_t tv_nsec;
#else
	int32_t tv_nsec;
	int32_t pad;
#endif
};
int timespec_from_time64(const struct timespec_time64 *t, struct timespec *out);
#endif
int wait_time_left(const struct timespec *deadline, struct timespec *out);
void waiters_wake(void);
void wait_fork_child(void);

/*
 * Cancellation, for every entry point: those that are not cancellation points run with
 * cancellation disabled, since the system calls inside them (a write() that wakes a waiter
 * with core.lock held, a pwritev2()) would otherwise act on a pending pthread_cancel() there.
 * Waits enable it at their sleep only.
 */
static inline int nocancel_begin(void)
{
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return old;
}

static inline void nocancel_end(int old)
{
	pthread_setcancelstate(old, NULL);
}

/* aio.c */
int aiocb_check(const struct aiocb *cb, int op, struct sev *sev);
bool fsync_fd_ok(int fd);
/*
 * The most a submitting call reads itself from the page cache, in all (req_try_now()).
 * preadv2 of cached data here: 4 KiB 1.3 us, 64 KiB 2.5 us, 256 KiB 5.5 us, 1 MiB 23 us,
 * 16 MiB 390 us.
 */
#define TRY_NOW_MAX (64 * 1024)
bool req_try_now(const struct aiocb *cb, int op, size_t *budget, int64_t *res);
/* Called with core.lock held: the same, for a read req_try_now() left for writes ahead. */
bool req_try_locked(const struct aiocb *cb, int op, size_t *budget, int64_t *res);
/* The program closes the numbers lo to hi: forget what req_try_now() learnt of them. */
void try_forget(unsigned lo, unsigned hi);
int req_start(struct aiocb *cb, int op, const struct sev *sev, struct lio *l,
	      const int64_t *tried, struct req **ready, unsigned *nready);
bool aiocb_done(const struct aiocb *cb);
bool aiocb_notified(const struct aiocb *cb);
void cancel_watch_done(struct req *r, int64_t res);

#endif
