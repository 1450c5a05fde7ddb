/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_suspend(): wait for any of a list of requests (wait.c does the waiting). */
#include "internal.h"

struct suspend_list {
	const struct aiocb *const *list;
	int n;
};

/*
 * Done when one listed request is, its notification included; a list of nothing but NULLs
 * is done at once, as in glibc.
 */
static bool any_done(void *arg)
{
	const struct suspend_list *s = arg;
	bool any = false;

	for (int i = 0; i < s->n; i++) {
		if (!s->list[i])
			continue;
		if (aiocb_notified(s->list[i]))
			return true;
		any = true;
	}
	return !any;
}

EXPORT int aio_suspend(const struct aiocb *const list[], int nent, const struct timespec *timeout)
{
	struct suspend_list s = { list, nent };
	int saved = errno, cs, err;
	bool done;

	pthread_testcancel();
	if (nent < 0)
		return ret_errno(-EINVAL);
	/* A cancellation point at its sleep only (wait.c): not while it looks. */
	cs = nocancel_begin();
	done = any_done(&s);
	err = done ? 0 : engine_get();
	nocancel_end(cs);
	if (done)
		return 0;
	if (!err) {
		/* Async-signal-safe: what it reaps is notified from the background thread. */
		uint8_t mode = req_notify_later(NOTIFY_NOW);

		req_notify_later(mode | NOTIFY_LATER_CALLBACKS);
		err = wait_for(any_done, &s, timeout);
		req_notify_later(mode);
	}
	return (int)errno_kept(ret_errno(err), saved);
}

/* It reads no offset: the same function for struct aiocb64 (aio.c). */
EXPORT int aio_suspend64(const struct aiocb64 *const list[], int nent,
			 const struct timespec *timeout)
	__attribute__((alias("aio_suspend")));

/*
 * What <aio.h> calls for aio_suspend() in a program built with -D_TIME_BITS=64: glibc's name
 * on ABIs whose time_t has 32 bits, the same function where it has 64.
 */
#if __TIMESIZE == 32
EXPORT int __aio_suspend_time64(const struct aiocb *const list[], int nent,
				const struct timespec_time64 *timeout)
{
	struct timespec ts;

	/* A bad one stays bad, for aio_suspend() to refuse where it refuses its own. */
	if (timeout && timespec_from_time64(timeout, &ts))
		ts = (struct timespec){ 0, -1 };
	return aio_suspend(list, nent, timeout ? &ts : NULL);
}
#else
EXPORT int __aio_suspend_time64(const struct aiocb *const list[], int nent,
				const struct timespec *timeout)
	__attribute__((alias("aio_suspend"), nonnull(1)));
#endif
