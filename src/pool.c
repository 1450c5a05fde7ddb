/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's threads: how one is made, and a pool of idle workers.
 *
 * spawn() makes every thread of the library (the background thread, pool threads, a callback's
 * own thread): detached, and with every signal blocked from its first instruction, so that no
 * signal of the program's ever lands on a thread it does not know. A thread that runs the
 * program's code unblocks them around the call only (notify.c).
 *
 * A pool runs jobs on up to max threads, made on demand. A thread that finds nothing to do
 * waits POOL_IDLE_SEC for a job and then leaves, so an idle process keeps no thread; the wait
 * is on CLOCK_MONOTONIC, which a change of the wall clock cannot stretch or cut short. Two
 * pools use it, with different jobs and limits:
 *  - SIGEV_THREAD callbacks (notify.c): the program's code runs there, and may end its thread
 *    (pthread_exit()) or wait for another callback. The first gives the thread's place back
 *    (done() runs on the way out); for the second a watchdog grows the pool past max when
 *    queued jobs make no progress (stall_ms). When no thread can be made, the caller runs
 *    the job itself.
 *  - helper threads (helpers.c): blocking pread/pwrite/fsync of what the kernel would not do
 *    asynchronously, for either engine, at most max at once; the library's code only.
 *    A queued job can be cancelled. When no thread can be made, the request fails.
 * Both limit how many threads run and let idle ones go the same way, so one pool serves both;
 * what differs is a setting (max, stall_ms, internal) or a callback (run, done).
 *
 * Idle threads are woken one at a time: the submitting call wakes one, and a thread that
 * takes a job wakes the next if more are queued. A caller queueing ten jobs (lio_listio())
 * made one futex call rather than one per idle thread and the lock hand-offs that followed
 * them, inside its own call; the threads start a wake-up apart instead.
 *
 * The queue is linked both ways, unlike list.h's FIFO: a helper request is cancelled from the
 * middle of a queue that may hold thousands, and a walk there would make aio_cancel() of a
 * descriptor's requests quadratic.
 *
 * Locks: p->lock guards the queue and the counts; it is taken after core.lock where both are
 * held (helpers.c queues with core.lock held), and no other lock of the library is taken
 * while it is held. Jobs run without it.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "internal.h"
#include "pool.h"

#define POOL_IDLE_SEC 10

int spawn(void *(*fn)(void *), void *arg, const pthread_attr_t *attr)
{
	sigset_t all, old;
	pthread_attr_t def;
	pthread_t t;
	int ret, state = PTHREAD_CREATE_DETACHED;

	if (attr)
		pthread_attr_getdetachstate(attr, &state);
	if (!attr) {
		pthread_attr_init(&def);
		pthread_attr_setdetachstate(&def, PTHREAD_CREATE_DETACHED);
		attr = &def;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&t, attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (attr == &def)
		pthread_attr_destroy(&def);
	/*
	 * The caller's attributes may say joinable, and nobody joins: detach. Never a thread
	 * made detached, which may be gone and its id reused already.
	 */
	if (ret == 0 && state == PTHREAD_CREATE_JOINABLE)
		pthread_detach(t);
	return -ret;
}

static void cond_init(struct pool *p)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &attr);
	pthread_condattr_destroy(&attr);
	p->cond_ready = true;
}

static void unlink_job(struct pool *p, struct pool_job *j)
{
	dlist_remove(p, j);
	j->prev = j->next = NULL;
	j->queued = false;
	p->queued--;
}

/* Called with p->lock held: wait for a job, POOL_IDLE_SEC at most. False: none came. */
static bool idle_wait(struct pool *p)
{
	struct timespec ts;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += POOL_IDLE_SEC;
	p->idle++;
	ret = pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	p->idle--;
	/* Woken or not, one fewer is on its way (wakes never exceeds idle). */
	if (p->wakes)
		p->wakes--;
	return ret != ETIMEDOUT || p->head;
}

/* Called with p->lock held: a job is queued; wake an idle thread unless one is on its way. */
static void wake_one(struct pool *p)
{
	if (p->head && p->idle > p->wakes && !p->wakes) {
		p->wakes++;
		pthread_cond_signal(&p->cond);
	}
}

struct running {
	struct pool *p;
	struct pool_job *j;
};

/* A job that ends its thread gives the thread's place in the pool back on the way out. */
static void thread_gone(void *arg)
{
	struct running *run = arg;

	pthread_mutex_lock(&run->p->lock);
	run->p->threads--;
	if (run->p->done)
		run->p->done(run->j);
	pthread_mutex_unlock(&run->p->lock);
}

static TLS bool tl_returning; /* this pool thread said pool_returning() for its job */

void pool_returning(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (!tl_returning)
		p->returning++;
	tl_returning = true;
	pthread_mutex_unlock(&p->lock);
}

unsigned pool_waiting(const struct pool *p)
{
	return p->queued;
}

static void *pool_thread(void *arg)
{
	struct running run = { .p = arg };
	struct pool *p = run.p;

	if (p->internal)
		ownfd_thread_internal();
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head) {
			if (!idle_wait(p)) {
				p->threads--;
				pthread_mutex_unlock(&p->lock);
				return NULL;
			}
		}
		run.j = p->head;
		unlink_job(p, run.j);
		p->taken++;
		wake_one(p); /* the next queued job, if any: the submitter woke only this thread */
		pthread_mutex_unlock(&p->lock);

		pthread_cleanup_push(thread_gone, &run);
		p->run(run.j);
		pthread_cleanup_pop(0);

		pthread_mutex_lock(&p->lock);
		if (tl_returning)
			p->returning--;
		tl_returning = false;
		if (p->done)
			p->done(run.j);
	}
}

/*
 * Exists while jobs are queued behind a full pool that may grow past max: when none is taken
 * for stall_ms, the running ones wait (for each other, perhaps), so add a thread, as glibc
 * would have given each callback its own.
 */
static void *pool_watchdog(void *arg)
{
	struct pool *p = arg;
	const struct timespec stall = { p->stall_ms / 1000, (long)(p->stall_ms % 1000) * 1000000L };

	pthread_mutex_lock(&p->lock);
	while (p->queued > p->idle) {
		unsigned long taken = p->taken;

		pthread_mutex_unlock(&p->lock);
		nanosleep(&stall, NULL);
		pthread_mutex_lock(&p->lock);
		if (p->queued > p->idle && p->taken == taken && spawn(pool_thread, p, NULL) == 0)
			p->threads++;
	}
	p->watchdog = false;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Called with p->lock held. */
int pool_submit(struct pool *p, struct pool_job *j)
{
	if (!p->cond_ready)
		cond_init(p);
	dlist_push(p, j);
	j->queued = true;
	p->queued++;
	wake_one(p); /* an idle thread takes it, or the one woken already */
	/*
	 * A thread whose job is ending takes it as well: a helper that wrote a descriptor's
	 * last queued write is between its last completion and the queue when the program,
	 * woken by that completion, writes again. A new thread there made four helpers take
	 * turns at one descriptor's writes.
	 */
	if (p->queued > p->idle + p->returning) {
		if (p->threads < p->max && spawn(pool_thread, p, NULL) == 0)
			p->threads++;
		else if (p->stall_ms && p->threads > 0 && !p->watchdog &&
			 spawn(pool_watchdog, p, NULL) == 0)
			p->watchdog = true;
	}
	if (p->threads == 0) {
		unlink_job(p, j);
		return -EAGAIN;
	}
	return 0;
}

/* Called with p->lock held. */
bool pool_cancel(struct pool *p, struct pool_job *j)
{
	if (!j->queued)
		return false;
	unlink_job(p, j);
	return true;
}

void pool_fork_child(struct pool *p)
{
	pthread_mutex_init(&p->lock, NULL);
	p->cond_ready = false; /* made again at the first job */
	p->head = p->tail = NULL;
	p->idle = p->threads = p->queued = p->returning = p->wakes = 0;
	p->watchdog = false;
}
