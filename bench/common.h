/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the benchmark programs (scale.c, streams.c, notify.c, submit_time.c, threads.c,
 * probe.c).
 *
 * The programs are built against glibc's <aio.h> only, never against libposixaio: the driver
 * (bench/run) runs each of them once on plain glibc and once with the library preloaded, so
 * the same binary measures both.  Each prints its results as JSON lines on stdout and exits
 * non-zero with a message on stderr at the first error or verification failure: a benchmark
 * that goes on after a wrong answer reports a speed for something that did not happen.
 *
 * The data file they read (made by bench/run) holds, at every 8-byte aligned offset o, the
 * 64-bit little-endian value o, so any aligned read can be checked by its first word.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ERROR: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* User plus system time of every thread of the process, live or exited. */
static inline double cpu_sec(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage: %s", strerror(errno));
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec * 1e-6;
}

/* Resident set size in bytes, from /proc/self/status (VmRSS, in kB). */
static inline long rss_bytes(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		die("open /proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	if (kb < 0)
		die("no VmRSS in /proc/self/status");
	return kb * 1024;
}

static inline long parse_long(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		die("bad %s: '%s'", what, s);
	return v;
}

static inline double parse_double(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0)
		die("bad %s: '%s'", what, s);
	return v;
}

/* The first word of a block read at @off from the data file must be @off. */
static inline void check_block(const void *buf, off_t off)
{
	uint64_t word;

	memcpy(&word, buf, sizeof(word));
	if (word != (uint64_t)off)
		die("data verification failed at offset %jd: read 0x%" PRIx64 ", want 0x%jx",
		    (intmax_t)off, word, (intmax_t)off);
}

#endif
