/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Descriptor numbers far beyond what is open cost nothing: aio_read on INT_MAX and on
 * 100000000 (not open) fails with EBADF at once, and a real file dup2'ed to a high number
 * (1000000 where RLIMIT_NOFILE allows, else the highest it allows) reads correctly, without the process growing by more
 * than a few MiB: per-descriptor tables grow with what is open, not with the number asked.
 */
#include "common.h"

#include <limits.h>
#include <sys/resource.h>

#define LEN 4096
#define HIGH_WANT 1000000
#define HIGH_MIN 65536
#define GROWTH_MAX (8L * 1024 * 1024) /* bytes of resident memory the calls may add */

static long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, rss = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

/* aio_read on fd, which is not open: EBADF from the call or through aio_error. */
static void expect_ebadf(int fd, char *buf, const char *what)
{
	struct aiocb cb;
	int ret;

	aiocb_prep(&cb, fd, buf, LEN, 0);
	errno = 0;
	ret = aio_read(&cb);
	if (ret == -1) {
		EXPECT(errno == EBADF, "%s: aio_read failed with %s, expected EBADF", what,
		       errname(errno));
		return;
	}
	expect_done_err(&cb, EBADF, what);
}

static void read_check(int fd, char *buf, off_t off, const char *what)
{
	struct aiocb cb;

	memset(buf, 0, LEN);
	aiocb_prep(&cb, fd, buf, LEN, off);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, LEN, what);
	for (size_t i = 0; i < LEN; i++)
		EXPECT((unsigned char)buf[i] == pattern_byte((size_t)off + i),
		       "%s: wrong byte at %zu", what, i);
}

/* The highest descriptor number this process may use, raising the limit where it can. */
static int highest_allowed(void)
{
	struct rlimit rl;

	SYSCHECK(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max < HIGH_WANT + 1) {
		struct rlimit want = { HIGH_WANT + 1, HIGH_WANT + 1 };

		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return HIGH_WANT;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		SYSCHECK(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > HIGH_WANT + 1)
		return HIGH_WANT;
	return (int)rl.rlim_cur - 1;
}

static int test(void)
{
	static char buf[LEN];
	int fd = tmp_file_with(0, 4 * LEN, pattern_byte), high;
	long before, after;

	/* Start the library, and let its one-time allocations happen before measuring. */
	read_check(fd, buf, 0, "aio_read of a low descriptor");
	before = rss_bytes();
	if (before < 0)
		fprintf(stderr, "note: /proc/self/statm unreadable; memory not checked\n");

	expect_ebadf(INT_MAX, buf, "aio_read on descriptor INT_MAX");
	expect_ebadf(100000000, buf, "aio_read on descriptor 100000000");

	high = highest_allowed();
	if (high < HIGH_MIN)
		fprintf(stderr, "\n*** NOTE %s: RLIMIT_NOFILE allows descriptors up to %d only "
				"(not %d): the high-descriptor read uses %d ***\n\n", test_name(),
			high, HIGH_WANT, high);
	SYSCHECK(dup2(fd, high));
	read_check(high, buf, 2 * LEN, "aio_read on a high descriptor");
	read_check(high, buf, LEN, "a second aio_read on the high descriptor");
	close(high);
	expect_ebadf(high, buf, "aio_read on the high descriptor once closed");

	after = rss_bytes();
	if (before >= 0 && after >= 0)
		EXPECT(after - before <= GROWTH_MAX,
		       "resident memory grew by %ld KiB across the calls (allowed: %ld KiB)",
		       (after - before) / 1024, GROWTH_MAX / 1024);
	close(fd);
	return 0;
}

TEST_MAIN(test)
