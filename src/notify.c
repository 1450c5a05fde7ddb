/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Notification, as the kernel would deliver it. SIGEV_SIGNAL and SIGEV_THREAD_ID are queued
 * with si_code SI_ASYNCIO, si_value, si_pid and si_uid by whichever thread finishes the
 * request, after its result is visible through aio_error(); inside the call that submitted
 * it, only if the caller blocks the signal, else by the background thread once that call
 * has returned (req.c: signals_for_later(), req_hold()). SIGEV_THREAD functions run on a
 * pool of threads (pool.c: up to POOL_MAX, more when callbacks wait for each other, none
 * after they idle); a request with sigev_notify_attributes gets a thread made with those
 * attributes, as POSIX asks. Something must reap while such requests are in flight even if
 * the program never calls the library again, and while requests wait for the library to
 * move them on (see core.bg_needed): the background thread, which exists only then and a second
 * longer. Library threads block every signal (spawn()), except while they run a callback,
 * which sees no signal blocked, as on glibc's notification threads.
 */
#include <sched.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "pool.h"
#include "syscall.h"

/*
 * Callbacks past this many at once wait their turn: a burst must not become a thread each.
 * But callbacks may wait for each other (or for anything): when every pool thread is busy
 * and none has taken a queued callback for POOL_STALL_MS, the pool grows by one thread.
 */
#define POOL_MAX 16
#define POOL_STALL_MS 10
#define NOTIFIER_LINGER_MS 1000

struct job {
	struct pool_job pj;
	void (*fn)(union sigval);
	union sigval value;
};

static void job_run(struct pool_job *pj);
static void job_done(struct pool_job *pj);

static struct pool pool = POOL_INIT(.max = POOL_MAX, .stall_ms = POOL_STALL_MS, .run = job_run,
				    .done = job_done);
static struct pool_job *free_jobs; /* guarded by pool.lock */

int sev_copy(struct sev *dst, const struct sigevent *src)
{
	dst->notify = src->sigev_notify;
	dst->signo = src->sigev_signo;
	dst->value = src->sigev_value;
	dst->fn = NULL;
	dst->attr = NULL;
	dst->tid = 0;
	switch (src->sigev_notify) {
	case SIGEV_NONE:
		return 0;
	case SIGEV_SIGNAL:
		/* Signal 0 is what a zeroed aiocb asks for: valid, nothing is sent. */
		return src->sigev_signo < 0 || src->sigev_signo > SIGRTMAX ? -EINVAL : 0;
	case SIGEV_THREAD:
		dst->fn = src->sigev_notify_function;
		dst->attr = src->sigev_notify_attributes;
		return dst->fn ? 0 : -EINVAL;
	case SIGEV_THREAD_ID:
		dst->tid = src->_sigev_un._tid;
		if (src->sigev_signo <= 0 || src->sigev_signo > SIGRTMAX || dst->tid <= 0)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

bool sev_needs_thread(const struct sev *s)
{
	switch (s->notify) {
	case SIGEV_SIGNAL:
		return s->signo > 0;
	case SIGEV_THREAD:
	case SIGEV_THREAD_ID:
		return true;
	default:
		return false;
	}
}

/*
 * Run a callback as glibc's notification threads do: with no signal blocked (glibc's
 * __aio_start_notify_thread() sets an empty mask). Library threads block every signal
 * otherwise, so that none reaches the program on a thread it does not know.
 */
static void call(void (*fn)(union sigval), union sigval value)
{
	sigset_t none, all;

	sigemptyset(&none);
	sigfillset(&all);
	STAT_INC(callbacks);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	fn(value);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
}

static void job_run(struct pool_job *pj)
{
	struct job *j = pool_entry(pj, struct job, pj);

	call(j->fn, j->value);
}

/* Called with pool.lock held. */
static void job_done(struct pool_job *pj)
{
	pj->next = free_jobs;
	free_jobs = pj;
}

struct own_thread {
	void (*fn)(union sigval);
	union sigval value;
};

static void *own_thread(void *arg)
{
	struct own_thread o = *(struct own_thread *)arg;

	free(arg);
	call(o.fn, o.value);
	return NULL;
}

static void run_callback(const struct sev *s)
{
	struct job *j;

	if (s->attr) {
		struct own_thread *o = malloc(sizeof(*o));

		if (o) {
			o->fn = s->fn;
			o->value = s->value;
			if (spawn(own_thread, o, s->attr) == 0)
				return;
			free(o);
		}
		/* Fall through to the pool: late beats never. */
	}
	pthread_mutex_lock(&pool.lock);
	if (free_jobs) {
		j = pool_entry(free_jobs, struct job, pj);
		free_jobs = free_jobs->next;
	} else {
		j = malloc(sizeof(*j));
	}
	if (!j) {
		pthread_mutex_unlock(&pool.lock);
		s->fn(s->value); /* out of memory: run it here rather than lose it */
		return;
	}
	j->fn = s->fn;
	j->value = s->value;
	if (pool_submit(&pool, &j->pj) < 0) {
		/* No thread can be made and none exists: run it here. */
		pthread_mutex_unlock(&pool.lock);
		j->fn(j->value);
		pthread_mutex_lock(&pool.lock);
		job_done(&j->pj);
	}
	pthread_mutex_unlock(&pool.lock);
}

/* getpid() is a system call in glibc: keep it, and forget it in a forked child. */
static pid_t own_pid;

static void queue_signal(const struct sev *s)
{
	siginfo_t si = { 0 };
	pid_t pid = __atomic_load_n(&own_pid, __ATOMIC_RELAXED);

	if (!pid) {
		pid = getpid();
		__atomic_store_n(&own_pid, pid, __ATOMIC_RELAXED);
	}

	si.si_signo = s->signo;
	si.si_code = SI_ASYNCIO;
	si.si_pid = pid;
	si.si_uid = getuid();
	si.si_value = s->value;
	STAT_INC(signals);
	if (s->notify == SIGEV_THREAD_ID)
		sys_rt_tgsigqueueinfo(pid, s->tid, s->signo, &si);
	else
		sys_rt_sigqueueinfo(pid, s->signo, &si);
}

/* Deliver a sigevent. Called without core.lock. */
void sev_deliver(const struct sev *s)
{
	if (!sev_needs_thread(s))
		return;
	if (s->notify == SIGEV_THREAD)
		run_callback(s);
	else
		queue_signal(s);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Called with core.lock held: deliver what submitting threads left to this thread, in order,
 * up to the first entry whose submitting call has not returned yet (req_hold()). That call
 * is on its way out: look again at once a few times, then leave it to the next turn, at
 * most HOLD_LOOK_MS later. Returns whether something is still held.
 */
#define HOLD_SPINS 64
#define HOLD_LOOK_MS 1

static bool bg_deliver_queued(void)
{
	LOCK_HELD();
	for (int spins = 0;; spins++) {
		struct req *reqs = NULL, **rtail = &reqs, *r;
		struct lio *lios = NULL, **ltail = &lios, *l;

		while ((r = core.bg_reqs.head) && !req_held(&r->queued_by)) {
			fifo_pop(&core.bg_reqs);
			r->next = NULL;
			*rtail = r;
			rtail = &r->next;
		}
		while ((l = core.bg_lios.head) && !req_held(&l->queued_by)) {
			fifo_pop(&core.bg_lios);
			l->next = NULL;
			*ltail = l;
			ltail = &l->next;
		}
		if (reqs || lios) {
			req_deliver(reqs, lios);
			spins = 0;
			continue;
		}
		if (fifo_empty(&core.bg_reqs) && fifo_empty(&core.bg_lios))
			return false;
		if (spins == HOLD_SPINS)
			return true;
		core_unlock();
		sched_yield();
		core_lock();
	}
}

/*
 * Called with core.lock held: the program closed the background thread's eventfd (a close() of
 * it wrote it once more, so the thread woke for this). Forget the number; the next call of the
 * program's makes another (ownfd.c: never a thread of the library), and until then the thread
 * looks every 10 ms.
 */
static void bg_efd_check(void)
{
	LOCK_HELD();
	if (core.bg_efd >= 0 && ownfd_lost(core.bg_efd)) {
		ownfd_close(core.bg_efd);
		core.bg_efd = -1;
	}
	if (core.bg_efd < 0 && ownfd_may_open()) {
		core.bg_efd = ownfd_new(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), true);
		if (core.bg_efd < 0)
			core.bg_efd = -1;
		else
			core.bg_kicked = false;
	}
}

/* A descriptor poll() found closed (POLLNVAL) is the library's no more. */
void pollfds_check(const struct pollfd *pfd, int n)
{
	for (int i = 0; i < n; i++) {
		if (pfd[i].fd >= 0 && (pfd[i].revents & POLLNVAL))
			ownfd_notice(pfd[i].fd);
	}
}

/* The eventfd this thread is to write once it lets core.lock go (bg_wake()), or -1. */
static TLS int tl_wake_efd = -1;

/*
 * Called with core.lock held: wake the background thread for queued work. One write until it
 * looks at its queues again (bg_kicked is cleared under core.lock just before it does).
 *
 * The write waits until this thread lets the lock go (bg_wake_flush(), from core_unlock()):
 * written under the lock, it woke the background thread only for it to sleep again on the
 * lock the writer still held, a second wake-up and a futex round trip per request. A write
 * that comes after the thread already looked costs it one spurious turn, never a lost one:
 * whatever bg_wake() was called for is queued under the lock before the thread looks.
 */
void bg_wake(void)
{
	LOCK_HELD();

	bg_efd_check();
	if (core.bg_kicked || core.bg_efd < 0 || ownfd_lost(core.bg_efd))
		return; /* a lost one was written as it went: the thread is awake */
	core.bg_kicked = true;
	tl_wake_efd = core.bg_efd;
}

/* Called without core.lock, right after this thread let it go: the write bg_wake() owes. */
void bg_wake_flush(void)
{
	static const uint64_t one = 1;
	int efd = tl_wake_efd;

	if (efd < 0)
		return;
	tl_wake_efd = -1;
	if (!ownfd_use(efd))
		return; /* lost meanwhile: written as it went, the thread is awake */
	if (write(efd, &one, sizeof(one)) < 0 && errno == EBADF)
		ownfd_notice(efd); /* EAGAIN: already awake-pending */
	ownfd_done();
}

static TLS bool tl_bg;

/* Is the calling thread the background thread? */
bool bg_self(void)
{
	return tl_bg;
}

/* Called with core.lock held: may the background thread leave now? */
static bool bg_idle(void)
{
	LOCK_HELD();
	/* Requests it issued count in bg_needed: io_uring would cancel them if it left. */
	return core.bg_needed == 0;
}

static void *bg_thread(void *arg)
{
	int64_t idle_since = 0;

	(void)arg;
	tl_bg = true;
	ownfd_thread_internal();
	for (;;) {
		struct pollfd pfd[5];
		uint64_t v;
		int n, timeout;
		bool held, renap;

		while (__atomic_load_n(&core.exiting, __ATOMIC_ACQUIRE))
			pause(); /* every signal is blocked: until exit_group ends us */
		core_lock();
		bg_efd_check();
		if (ownfd_use(core.bg_efd)) {
			if (read(core.bg_efd, &v, sizeof(v)) < 0 && errno == EBADF)
				ownfd_notice(core.bg_efd); /* EAGAIN: nothing queued since */
			ownfd_done();
		}
		core.bg_kicked = false;
		if (core.eng->issue)
			core.eng->issue();
		core_unlock();
		reap(true);
		core_lock();
		held = bg_deliver_queued();
		if (!bg_idle()) {
			idle_since = 0;
		} else if (!idle_since) {
			idle_since = now_ms();
		} else if (now_ms() - idle_since >= NOTIFIER_LINGER_MS) {
			core.bg_running = false;
			core_unlock();
			return NULL;
		}
		pfd[0].fd = core.bg_efd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		core.bg_look_soon = false;
		n = 1 + core.eng->pollfds(pfd + 1, 4);
		/* Without its eventfd, or with work the engine cannot be woken for: look often. */
		timeout = core.bg_efd < 0 || (core.eng->poll_short && core.eng->poll_short()) ||
					  __atomic_load_n(&core.sq_pending, __ATOMIC_RELAXED)
				  ? 10
				  : NOTIFIER_LINGER_MS;
		/*
		 * Napping short only to see whether program threads still serve what pollfds() left
		 * them: while they do, nap again without a lock. Taking core.lock then found it held
		 * by the thread serving a stream, and the two took turns at it a dozen times per
		 * look (a futex wake-up in the serving thread for each: 0.6 per message pair of a
		 * socketpair with 16 outstanding).
		 */
		renap = !held && core.bg_look_soon && timeout == NOTIFIER_LINGER_MS &&
			core.eng->others_serve;
		if (held || core.bg_look_soon)
			timeout = HOLD_LOOK_MS;
		core_unlock();
		for (;;) {
			int got = poll(pfd, (nfds_t)n, timeout);

			if (got > 0)
				pollfds_check(pfd, n);
			if (got != 0 || !renap || !core.eng->others_serve())
				break;
		}
	}
}

/* Called with core.lock held: make sure the background thread runs. 0 or -EAGAIN. */
int bg_start(void)
{
	LOCK_HELD();
	bg_efd_check();
	if (core.bg_running)
		return 0;
	if (core.bg_efd < 0 || spawn(bg_thread, NULL, NULL) != 0)
		return -EAGAIN;
	core.bg_running = true;
	core.bg_kicked = false;
	return 0;
}

/* Called with core.lock held: one more request needs the background thread. */
void bg_get(void)
{
	LOCK_HELD();
	core.bg_needed++;
	if (core.eng)
		bg_start(); /* else the work is done whenever the program next calls the library */
}

/* Called with core.lock held. */
void bg_put(unsigned n)
{
	LOCK_HELD();
	core.bg_needed -= n;
}

void notify_fork_child(void)
{
	own_pid = 0;
	pool_fork_child(&pool);
	core.bg_needed = 0;
	core.bg_running = false;
	core.bg_kicked = false;
	fifo_init(&core.bg_reqs);
	fifo_init(&core.bg_lios);
	ownfd_close(core.bg_efd); /* the parent's: shared with it */
	core.bg_efd = -1;
}
