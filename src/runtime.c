/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runtime: engine choice at the first AIO call (never at load time, since a preloaded
 * library reaches every child process), the global lock, per-thread state, reaping, fork
 * and exit. The statistics line is stats.c's.
 *
 * POSIXAIO_ENGINE=auto (default) takes io_uring unless io_uring_setup() fails, then native
 * AIO; =uring or =kaio force one, and a forced engine that cannot start is an error on
 * stderr and ENOSYS (EAGAIN for a lack of resources) from every call.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "posixaio.h"

/*
 * core.lock is held for short spans by the threads that submit and wait and by the helper
 * that completes: an adaptive mutex spins a little before it sleeps, where a plain one
 * made each contended take a futex sleep and each release a futex wake.
 */
struct posixaio core = {
	.lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP,
	.reap_lock = PTHREAD_MUTEX_INITIALIZER,
	.bg_efd = -1,
};

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static void core_lock_init(void)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&core.lock, &a);
	pthread_mutexattr_destroy(&a);
}
static int init_state; /* 0: not yet, 1: up, -errno: no engine; acquire/release */
static bool once_done;

static TLS bool tl_locked;
static TLS struct tstate *tl_ts;
/*
 * Non-zero while this thread takes, holds or releases one of the library's locks: from
 * before the lock call to after the unlock, so that a signal handler interrupting it
 * anywhere in that span sees it (tl_locked is set only once the lock is held). aio_error(),
 * aio_return() and aio_suspend() called from such a handler take no lock then.
 */
static TLS unsigned tl_inside;

static void inside_enter(void)
{
	tl_inside++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void inside_leave(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	tl_inside--;
}

void core_lock(void)
{
	inside_enter();
	pthread_mutex_lock(&core.lock);
	core.lock_span++;
	tl_locked = true;
}

void core_unlock(void)
{
	req_finish_deferred();
	tl_locked = false;
	pthread_mutex_unlock(&core.lock);
	bg_wake_flush();
	inside_leave();
}

/*
 * Let core.lock go inside a locked span and take it back (the delivery loop, req_deliver()):
 * the thread's lock state stays true, and tl_inside stays up, so that a handler running in
 * between still takes no lock.
 */
void core_drop(void)
{
	assert(tl_locked);
	tl_locked = false;
	pthread_mutex_unlock(&core.lock);
	bg_wake_flush();
}

void core_retake(void)
{
	pthread_mutex_lock(&core.lock);
	core.lock_span++;
	tl_locked = true;
}

bool core_locked(void)
{
	return tl_locked;
}

bool core_inside(void)
{
	return __atomic_load_n(&tl_inside, __ATOMIC_RELAXED) != 0;
}

/*
 * Thread states of exited threads, for the next threads to take: never freed, since the
 * background thread may still read the count of returns of one whose thread is gone
 * (req_hold()). Guarded by core.lock.
 */
static struct tstate *free_ts;

/* Called with core.lock held. NULL only when memory is exhausted. */
struct tstate *tstate_get(void)
{
	struct tstate *t = tl_ts;

	LOCK_HELD();

	if (t)
		return t;
	t = free_ts;
	if (t)
		free_ts = t->next_free;
	else if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	t->efd = -1;
	t->next_free = NULL;
	if (pthread_setspecific(core.tkey, t)) {
		t->next_free = free_ts;
		free_ts = t;
		return NULL;
	}
	tl_ts = t;
	return t;
}

/* Thread exit: the thread's own wake-up descriptor goes with it. */
static void tstate_exit(void *arg)
{
	struct tstate *t = arg;

	core_lock();
	ownfd_close(t->efd);
	t->efd = -1;
	/* Inside no call any more: nothing it queued waits for its return (req_hold()). */
	__atomic_add_fetch(&t->returns, 1, __ATOMIC_RELEASE);
	tl_ts = NULL;
	t->next_free = free_ts;
	free_ts = t;
	core_unlock();
}

/*
 * A program that returns from main() with requests in flight may have their aiocbs on
 * main's stack, which exit() is now using: from here on the background thread leaves
 * completions alone (threads of the program still reap if they call in).
 */
static void process_exiting(void)
{
	__atomic_store_n(&core.exiting, true, __ATOMIC_RELEASE);
}

static void fork_child(void)
{
	core_lock_init();
	pthread_mutex_init(&core.reap_lock, NULL);
	pthread_mutex_unlock(&init_lock); /* taken by fork_prepare() in this very thread */
	if (core.eng)
		core.eng->fork_child();
	core.eng = NULL;
	helpers_fork_child();
	fdhold_fork_child();
	/* The parent's requests are not ours: start with empty tables. */
	req_fork_child();
	fdq_fork_child();
	wait_fork_child();
	notify_fork_child();
	claim_fork_child();
	stats_fork_child();
	ownfd_fork_child();
	core.sq_pending = 0;
	/* The other threads' states stay where they are: nothing in the child reads them. */
	free_ts = NULL;
	if (tl_ts) {
		ownfd_close(tl_ts->efd);
		pthread_setspecific(core.tkey, NULL);
		free(tl_ts);
		tl_ts = NULL;
	}
	tl_locked = false;
	tl_inside = 0;
	__atomic_store_n(&init_state, 0, __ATOMIC_RELEASE);
}

/*
 * fork() while another thread is starting the library would leave the child with the start
 * half done and init_lock held forever: the prepare handler waits for the start to end.
 * The handlers are registered at load time, since they must exist before any thread can
 * take init_lock; they cost nothing until the program forks.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&init_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&init_lock);
}

/*
 * Also at load time, the exit handler: atexit() handlers run in reverse order, and one the
 * program registered before its first AIO call (a flush waiting for its last callback)
 * must still get its notifications. Registered first, the library's runs last. It costs a
 * store at exit.
 */
__attribute__((constructor)) static void register_handlers(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	exit_resolve();
	atexit(process_exiting);
}

static int try_engine(const struct engine *e, bool forced)
{
	int ret = e->init();

	if (ret == 0) {
		__atomic_store_n(&core.eng, e, __ATOMIC_RELEASE); /* reap() reads it unlocked */
		return 0;
	}
	if (forced)
		fprintf(stderr, "libposixaio: the %s engine cannot start: %s\n", e->name,
			strerror(-ret));
	return ret;
}

/* 0, or -EAGAIN (resources short: the next call tries again) or -ENOSYS. */
static int engine_start(void)
{
	const char *want = secure_getenv("POSIXAIO_ENGINE");
	bool force_uring = false, force_kaio = false;
	int ret;

	if (!once_done) {
		if (pthread_key_create(&core.tkey, tstate_exit))
			return -EAGAIN;
		stats_init();
		fdhold_init();
		once_done = true;
	}
	stats_start();
	if (want && !strcmp(want, "uring"))
		force_uring = true;
	else if (want && !strcmp(want, "kaio"))
		force_kaio = true;
	else if (want && *want && strcmp(want, "auto"))
		fprintf(stderr, "libposixaio: POSIXAIO_ENGINE=%s is not auto, uring or kaio; "
				"using auto\n", want);

	if (force_kaio) {
#if HAVE_LIBAIO
		ret = try_engine(&engine_kaio, true);
#else
		fprintf(stderr, "libposixaio: built without the kaio engine\n");
		ret = -ENOSYS;
#endif
	} else {
		ret = try_engine(&engine_uring, force_uring);
#if HAVE_LIBAIO
		if (ret && !force_uring)
			ret = try_engine(&engine_kaio, true);
#endif
	}
	if (ret == 0)
		return 0;
	if (ret == -ENOMEM || ret == -EAGAIN || ret == -EMFILE || ret == -ENFILE)
		return -EAGAIN;
	return -ENOSYS;
}

/* 0 when an engine serves the process, else -errno for the caller to see. */
int engine_get(void)
{
	int s = __atomic_load_n(&init_state, __ATOMIC_ACQUIRE), ret;

	if (s == 1)
		return 0;
	if (s < 0)
		return s;
	pthread_mutex_lock(&init_lock);
	s = init_state;
	if (s == 0) {
		ret = engine_start();
		s = ret == 0 ? 1 : ret;
		/* A lack of resources may pass: try again at the next call. */
		if (ret != -EAGAIN)
			__atomic_store_n(&init_state, s, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&init_lock);
	return s == 1 ? 0 : s;
}

/*
 * Drain the engine's completions. Any call may reap; it costs a memory read when there is
 * nothing to do. With block false a thread that finds another reaping leaves the work to it.
 */
void reap(bool block)
{
	const struct engine *e = __atomic_load_n(&core.eng, __ATOMIC_ACQUIRE);

	/* Also a signal handler that interrupted this thread inside the library: not now. */
	if (!e || core_inside())
		return;
	if (__atomic_load_n(&core.sq_pending, __ATOMIC_RELAXED)) {
		core_lock();
		e->submit(NULL, 0);
		core_unlock();
	}
	if (!e->has_completions())
		return;
	inside_enter();
	if (block) {
		pthread_mutex_lock(&core.reap_lock);
	} else if (pthread_mutex_trylock(&core.reap_lock)) {
		inside_leave();
		return;
	}
	e->reap();
	pthread_mutex_unlock(&core.reap_lock);
	inside_leave();
}

/*
 * Wait out a reap another thread has in progress: what it took from the kernel is listed by
 * the time it lets go, though the kernel no longer shows it (reap() saw nothing to take).
 */
void reap_settle(void)
{
	if (core_inside())
		return;
	inside_enter();
	pthread_mutex_lock(&core.reap_lock);
	pthread_mutex_unlock(&core.reap_lock);
	inside_leave();
}

EXPORT const char *posixaio_engine(void)
{
	if (engine_get())
		return NULL;
	return core.eng->name;
}
