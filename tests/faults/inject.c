/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fault injector, preloaded in front of the library (LD_PRELOAD) by the tests that need
 * failures the kernel will not produce on demand. The library itself carries no test hook.
 * Settings, from the environment:
 *
 *   INJECT_MALLOC=N   every Nth malloc/calloc/realloc called from libposixaio.so fails
 *                     (allocations of the program and of other libraries are never touched)
 *   INJECT_SUBMIT=N   every Nth io_uring_submit() gives -EAGAIN or -EBUSY (alternately)
 *                     without submitting, and every Nth io_submit() gives -EAGAIN, as the
 *                     kernel does when it is short of memory or the CQ is full
 *   INJECT_RING=err   io_uring_queue_init_params() fails with -err (ENOMEM: the kernel
 *                     could not allocate the ring)
 *   INJECT_NOSIGNAL=1 pwritev2() called from libposixaio.so with RWF_NOSIGNAL fails with
 *                     EOPNOTSUPP, as on a kernel before Linux 6.18
 *
 * At exit it prints "inject: malloc=F/T submit=F/T nosignal=F" (failed/total) on stderr;
 * the tests read inject_counts() to prove the faults really happened.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <liburing.h>
#include <libaio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef RWF_NOSIGNAL
#define RWF_NOSIGNAL 0x00000100
#endif

/* The project builds with -fvisibility=hidden: what must interpose says so. */
#define INTERPOSE __attribute__((visibility("default")))

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static unsigned long every_malloc, every_submit;
static unsigned long mallocs, malloc_fails, submits, submit_fails, nosignal_fails;
static int ring_err, refuse_nosignal;
static uintptr_t lib_lo, lib_hi;
static int ready; /* 0 not yet, 1 reading the settings, 2 ready */

static int find_lib(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "libposixaio.so"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		lib_lo = lo;
		lib_hi = lo + ph->p_memsz;
	}
	return 1;
}

static unsigned long env_ulong(const char *name)
{
	const char *s = getenv(name);

	return s ? strtoul(s, NULL, 10) : 0;
}

static void report(void)
{
	fprintf(stderr, "inject: malloc=%lu/%lu submit=%lu/%lu nosignal=%lu\n", malloc_fails,
		mallocs, submit_fails, submits, nosignal_fails);
}

static void setup(void)
{
	const char *ring;

	if (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) == 2)
		return;
	int zero = 0;

	if (!__atomic_compare_exchange_n(&ready, &zero, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return; /* another thread (or this one, recursively) is reading them */
	every_malloc = env_ulong("INJECT_MALLOC");
	every_submit = env_ulong("INJECT_SUBMIT");
	refuse_nosignal = env_ulong("INJECT_NOSIGNAL") != 0;
	ring = getenv("INJECT_RING");
	if (ring && !strcmp(ring, "ENOMEM"))
		ring_err = ENOMEM;
	else if (ring && *ring)
		ring_err = atoi(ring);
	dl_iterate_phdr(find_lib, NULL);
	atexit(report);
	__atomic_store_n(&ready, 2, __ATOMIC_RELEASE);
}

/* Is caller, a return address, in libposixaio.so's code? */
static int from_lib(void *caller)
{
	uintptr_t pc = (uintptr_t)caller;

	if (pc < lib_lo || pc >= lib_hi) {
		/* The library may have been loaded after setup: look once more, cheaply. */
		if (lib_lo)
			return 0;
		dl_iterate_phdr(find_lib, NULL);
		if (pc < lib_lo || pc >= lib_hi)
			return 0;
	}
	return 1;
}

/* Does this allocation, made from caller, fail? */
static int fail_alloc(void *caller)
{
	if (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != 2 || !every_malloc)
		return 0;
	if (!from_lib(caller))
		return 0;
	if (__atomic_add_fetch(&mallocs, 1, __ATOMIC_RELAXED) % every_malloc)
		return 0;
	__atomic_add_fetch(&malloc_fails, 1, __ATOMIC_RELAXED);
	return 1;
}

INTERPOSE void *malloc(size_t n)
{
	if (fail_alloc(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

INTERPOSE void *calloc(size_t n, size_t size)
{
	if (fail_alloc(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}

INTERPOSE void *realloc(void *p, size_t n)
{
	if (fail_alloc(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, n);
}

static int fail_submit(void)
{
	if (!every_submit)
		return 0;
	if (__atomic_add_fetch(&submits, 1, __ATOMIC_RELAXED) % every_submit)
		return 0;
	return (int)__atomic_add_fetch(&submit_fails, 1, __ATOMIC_RELAXED);
}

INTERPOSE int io_uring_submit(struct io_uring *ring)
{
	static int (*real)(struct io_uring *);
	int n;

	setup();
	if ((n = fail_submit()))
		return n % 2 ? -EAGAIN : -EBUSY;
	if (!real)
		real = (int (*)(struct io_uring *))dlsym(RTLD_NEXT, "io_uring_submit");
	return real(ring);
}

INTERPOSE int io_submit(io_context_t ctx, long nr, struct iocb *ios[])
{
	static int (*real)(io_context_t, long, struct iocb *[]);

	setup();
	if (fail_submit())
		return -EAGAIN;
	if (!real)
		real = (int (*)(io_context_t, long, struct iocb *[]))dlsym(RTLD_NEXT, "io_submit");
	return real(ctx, nr, ios);
}

INTERPOSE int io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
			       struct io_uring_params *p)
{
	static int (*real)(unsigned, struct io_uring *, struct io_uring_params *);

	setup();
	if (ring_err)
		return -ring_err;
	if (!real)
		real = (int (*)(unsigned, struct io_uring *, struct io_uring_params *))dlsym(
			RTLD_NEXT, "io_uring_queue_init_params");
	return real(entries, ring, p);
}

/* A write from the library asking for RWF_NOSIGNAL: refused, as by a kernel before 6.18. */
static int refuse_flags(int flags, void *caller)
{
	setup();
	if (!refuse_nosignal || !(flags & RWF_NOSIGNAL) || !from_lib(caller))
		return 0;
	__atomic_add_fetch(&nosignal_fails, 1, __ATOMIC_RELAXED);
	errno = EOPNOTSUPP;
	return 1;
}

/*
 * Both names, whichever the library was built to call: pwritev2 takes a long offset (off_t
 * without _FILE_OFFSET_BITS), pwritev64v2 a 64-bit one. Named by asm labels, as the header
 * may redirect the first to the second.
 */
typedef ssize_t (*pwritev2_fn)(int, const struct iovec *, int, long, int);
typedef ssize_t (*pwritev64v2_fn)(int, const struct iovec *, int, long long, int);

INTERPOSE ssize_t inject_pwritev2(int fd, const struct iovec *iov, int cnt, long off, int flags)
	__asm__("pwritev2");
INTERPOSE ssize_t inject_pwritev2(int fd, const struct iovec *iov, int cnt, long off, int flags)
{
	static pwritev2_fn real;

	if (refuse_flags(flags, __builtin_return_address(0)))
		return -1;
	if (!real)
		real = (pwritev2_fn)dlsym(RTLD_NEXT, "pwritev2");
	return real(fd, iov, cnt, off, flags);
}

INTERPOSE ssize_t inject_pwritev64v2(int fd, const struct iovec *iov, int cnt, long long off,
				     int flags) __asm__("pwritev64v2");
INTERPOSE ssize_t inject_pwritev64v2(int fd, const struct iovec *iov, int cnt, long long off,
				     int flags)
{
	static pwritev64v2_fn real;

	if (refuse_flags(flags, __builtin_return_address(0)))
		return -1;
	if (!real)
		real = (pwritev64v2_fn)dlsym(RTLD_NEXT, "pwritev64v2");
	return real(fd, iov, cnt, off, flags);
}

/* For the tests: faults injected so far, {allocations, submissions, RWF_NOSIGNAL writes}. */
INTERPOSE long *inject_counts(void)
{
	static long counts[3];

	counts[0] = (long)__atomic_load_n(&malloc_fails, __ATOMIC_RELAXED);
	counts[1] = (long)__atomic_load_n(&submit_fails, __ATOMIC_RELAXED);
	counts[2] = (long)__atomic_load_n(&nosignal_fails, __ATOMIC_RELAXED);
	return counts;
}

__attribute__((constructor)) static void inject_init(void)
{
	setup();
}
