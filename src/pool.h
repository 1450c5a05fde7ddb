/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's threads (pool.c): spawn() makes one, a struct pool keeps idle workers for
 * jobs. Two pools exist: SIGEV_THREAD callbacks (notify.c) and the helper threads
 * (helpers.c).
 *
 * Called with p->lock held: pool_submit, pool_cancel. The lock is the last one taken (see
 * internal.h, "Locks").
 */
#ifndef POSIXAIO_POOL_H
#define POSIXAIO_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* A unit of work, kept inside whatever describes it (pool_entry() finds that again). */
struct pool_job {
	struct pool_job *prev, *next;
	bool queued; /* in the queue, not yet taken by a thread */
};

#define pool_entry(j, type, member) ((type *)(void *)((char *)(j) - offsetof(type, member)))

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* idle threads wait on it; made at the first job (CLOCK_MONOTONIC) */
	bool cond_ready;
	struct pool_job *head, *tail;
	unsigned queued, idle, threads;
	unsigned wakes; /* signals sent to idle threads that none has come back from yet */
	unsigned returning; /* threads whose job said it is ending (pool_returning()) */
	unsigned long taken; /* jobs ever taken from the queue: progress, for the watchdog */
	bool watchdog;       /* the thread that grows a stalled pool is running */

	/* Set once, by POOL_INIT. */
	unsigned max; /* threads made on demand; past it, jobs wait their turn */
	/*
	 * 0: never more than max threads. Else jobs may wait for each other: when every thread
	 * is busy and none has taken a queued job for stall_ms, the pool grows by one.
	 */
	unsigned stall_ms;
	bool internal; /* its threads run only the library's code (ownfd_thread_internal) */
	void (*run)(struct pool_job *j); /* in a pool thread, without the lock */
	/*
	 * Optional, with the lock held: j ran, or ended its thread (pthread_exit(), a
	 * cancellation), which gives its place in the pool back on the way out.
	 */
	void (*done)(struct pool_job *j);
};

#define POOL_INIT(...) { .lock = PTHREAD_MUTEX_INITIALIZER, __VA_ARGS__ }

/*
 * Create a detached thread with every signal blocked from its first instruction, with attr
 * (NULL: the defaults); a thread the caller's attributes make joinable is detached. 0 or
 * -errno.
 */
int spawn(void *(*fn)(void *), void *arg, const pthread_attr_t *attr);

/* Queue j for a thread of p. -EAGAIN: no thread exists and none can be made; j is not queued. */
int pool_submit(struct pool *p, struct pool_job *j);
/*
 * Called by a job about to end, in its pool thread, with p->lock not held: the thread will
 * look at the queue before it sleeps, so a job queued meanwhile needs no new thread.
 */
void pool_returning(struct pool *p);
/* Called with p->lock held: jobs queued and not yet taken. */
unsigned pool_waiting(const struct pool *p);
/* True: j was still queued and is no longer; false: a thread took it (or it never was). */
bool pool_cancel(struct pool *p, struct pool_job *j);
/* In a forked child: no thread of p exists there, and the parent's jobs are not ours. */
void pool_fork_child(struct pool *p);

#endif
