/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The statistics line (POSIXAIO_STATS=1) and the _exit()/_Exit() interposers that print it
 * for processes that do not end by exit(). The counters themselves are bumped where things
 * happen (STAT_INC, internal.h); runtime.c starts and resets them.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

struct stats stats;

/*
 * POSIXAIO_STATS: a line of counters on stderr when a process that used the library ends,
 * by exit() (an atexit handler) or by _exit()/_Exit() (interposed below: forked fio jobs and
 * stress-ng workers end that way). The line is built on the stack and written by one write(2),
 * with no stdio and no lock: _exit() may be called from a signal handler or in a vfork child,
 * which shares the parent's memory.
 */
bool stats_on;		/* POSIXAIO_STATS asks for the line; set once, before any request */
static pid_t stats_pid; /* the process that used the library: the only one that prints */
static bool stats_done; /* atomic: the line is out (exit() then a handler calling _exit()) */

typedef void (*exit_fn)(int) __attribute__((noreturn));
static exit_fn next_exit, next_Exit;

struct line {
	char buf[512];
	size_t len;
};

static void line_str(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf))
		l->buf[l->len++] = *s++;
}

static void line_ulong(struct line *l, const char *name, unsigned long v)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	line_str(l, name);
	while (n && l->len < sizeof(l->buf))
		l->buf[l->len++] = digits[--n];
}

#define STAT_LOAD(f) __atomic_load_n(&stats.f, __ATOMIC_RELAXED)

static void stats_print(void)
{
	const struct engine *e = __atomic_load_n(&core.eng, __ATOMIC_ACQUIRE);
	pid_t pid = __atomic_load_n(&stats_pid, __ATOMIC_RELAXED);
	struct line l = {.len = 0};

	/* A child that never called in, or a vfork child, is not the process that used it. */
	if (!pid || getpid() != pid)
		return;
	if (__atomic_exchange_n(&stats_done, true, __ATOMIC_RELAXED))
		return;
	line_str(&l, "libposixaio: engine=");
	line_str(&l, e ? e->name : "none");
	line_ulong(&l, " submitted=", STAT_LOAD(submitted));
	line_ulong(&l, " completed=", STAT_LOAD(completed));
	line_ulong(&l, " now=", STAT_LOAD(now));
	line_ulong(&l, " held=", STAT_LOAD(held));
	line_ulong(&l, " cancelled=", STAT_LOAD(cancelled));
	line_ulong(&l, " signals=", STAT_LOAD(signals));
	line_ulong(&l, " callbacks=", STAT_LOAD(callbacks));
	line_ulong(&l, " waits=", STAT_LOAD(waits));
	line_str(&l, "\n");
	/* Best effort: there is no one to tell if stderr is gone. */
	ssize_t ret = write(STDERR_FILENO, l.buf, l.len);
	(void)ret;
}

/* What glibc's _exit() does when there is no next definition to call. */
static void __attribute__((noreturn)) exit_group_now(int status)
{
	for (;;)
		syscall(SYS_exit_group, status);
}

/*
 * Without POSIXAIO_STATS these only call the next definition (glibc's, or another preloaded
 * library's): one load and a call more than glibc alone. glibc's own calls to _exit (from
 * exit(), abort paths, posix_spawn children) do not come here.
 */
EXPORT void _exit(int status)
{
	if (__atomic_load_n(&stats_on, __ATOMIC_RELAXED))
		stats_print();
	if (next_exit)
		next_exit(status);
	exit_group_now(status);
}

EXPORT void _Exit(int status)
{
	if (__atomic_load_n(&stats_on, __ATOMIC_RELAXED))
		stats_print();
	if (next_Exit)
		next_Exit(status);
	exit_group_now(status);
}

/*
 * The next definitions are looked up at load time because _exit() must work from a signal
 * handler and in a vfork child, where dlsym() (locks, allocation on error) may not be called.
 */
void exit_resolve(void)
{
	next_exit = (exit_fn)dlsym(RTLD_NEXT, "_exit");
	next_Exit = (exit_fn)dlsym(RTLD_NEXT, "_Exit");
}

/* Once, at the first AIO call: POSIXAIO_STATS asks for the line at exit. */
void stats_init(void)
{
	const char *st = secure_getenv("POSIXAIO_STATS");

	if (st && strcmp(st, "0") && *st) {
		atexit(stats_print);
		__atomic_store_n(&stats_on, true, __ATOMIC_RELAXED);
	}
}

/* The first AIO call of a process (again in a forked child). */
void stats_start(void)
{
	if (stats_on)
		__atomic_store_n(&stats_pid, getpid(), __ATOMIC_RELAXED);
}

/* A forked child counts and prints its own requests only, and only if it makes some. */
void stats_fork_child(void)
{
	memset(&stats, 0, sizeof(stats));
	stats_pid = 0;
	stats_done = false;
}
