/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_read of a large page-cached range returns before the data is copied: the copy of
 * 16 MiB takes milliseconds, and glibc hands every request to a thread, so its aio_read
 * returns in microseconds whatever the size. Proved without timing: the read's buffer is
 * registered with userfaultfd, so the first touch of it by the copy stops until the test's
 * fault handler resolves it, and the handler does that only once the main thread has seen
 * aio_read return (or after a safety timeout). A fault by the submitting thread seen before
 * aio_read returned means the copy ran inside aio_read (a fault by another thread, such as
 * glibc's workers starting on a list's first members, is only held until then). The same
 * for lio_listio(LIO_NOWAIT) of ten such reads, and for reads of a pipe and a socket that
 * hold hundreds of KiB already (a stream's data may be moved in the call only up to 64 KiB).
 */
#include "common.h"

#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/mman.h>

#define LEN (16u * 1024 * 1024)
#define NLIO 10
#define SAFETY_MS 5000

static struct {
	int uffd;
	char *_Atomic base; /* read by the handler thread */
	_Atomic size_t len;
	pid_t submitter;
	atomic_int returned; /* the submitting call returned */
	atomic_int faults;
	atomic_int early; /* faults seen before it returned */
	atomic_int stop;
} H;

static void resolve_all(void)
{
	struct uffdio_zeropage zp = { .range = { (uintptr_t)H.base, H.len }, .mode = 0 };
	struct uffdio_range wake = { (uintptr_t)H.base, H.len };

	/* EEXIST: mapped by an earlier event; the waiting thread still needs waking. */
	if (ioctl(H.uffd, UFFDIO_ZEROPAGE, &zp) == -1 && errno != EEXIST && errno != EAGAIN)
		FAIL("UFFDIO_ZEROPAGE: %s", strerror(errno));
	ioctl(H.uffd, UFFDIO_WAKE, &wake);
}

static void *handler(void *arg)
{
	(void)arg;
	while (!atomic_load(&H.stop)) {
		struct pollfd p = { .fd = H.uffd, .events = POLLIN };
		struct uffd_msg msg;
		int64_t deadline;

		if (poll(&p, 1, 10) <= 0)
			continue;
		if (read(H.uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		atomic_fetch_add(&H.faults, 1);
		if (!atomic_load(&H.returned)) {
			if ((pid_t)msg.arg.pagefault.feat.ptid == H.submitter)
				atomic_fetch_add(&H.early, 1);
			/* A thread stuck in the submitting call cannot say it returned: time out. */
			deadline = now_ms() + SAFETY_MS;
			while (!atomic_load(&H.returned) && now_ms() < deadline)
				sleep_ms(1);
		}
		resolve_all();
	}
	return NULL;
}

/* A fresh buffer of len bytes whose first touch waits for the handler. */
static char *trapped(size_t len)
{
	struct uffdio_register reg;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	EXPECT(p != MAP_FAILED, "mmap of %zu bytes: %s", len, strerror(errno));
	reg.range.start = (uintptr_t)p;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	SYSCHECK(ioctl(H.uffd, UFFDIO_REGISTER, &reg));
	H.base = p;
	H.len = len;
	atomic_store(&H.returned, 0);
	atomic_store(&H.faults, 0);
	atomic_store(&H.early, 0);
	return p;
}

static void untrap(void)
{
	struct uffdio_range r = { (uintptr_t)H.base, H.len };

	SYSCHECK(ioctl(H.uffd, UFFDIO_UNREGISTER, &r));
	munmap(H.base, H.len);
}

static int open_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_THREAD_ID };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd == -1) {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		if (dev == -1)
			skip("userfaultfd is not available (%s; /dev/userfaultfd: %s)",
			     strerror(errno), strerror(errno));
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		close(dev);
		if (fd == -1)
			skip("userfaultfd is not available: %s", strerror(errno));
	}
	if (ioctl(fd, UFFDIO_API, &api) == -1)
		skip("UFFDIO_API with UFFD_FEATURE_THREAD_ID: %s", strerror(errno));
	if (!(api.ioctls & (1ULL << _UFFDIO_REGISTER)))
		skip("userfaultfd cannot register ranges here");
	return fd;
}

static void check(const char *buf, size_t len, const char *what)
{
	for (size_t i = 0; i < len; i += 4093)
		EXPECT((unsigned char)buf[i] == pattern_byte(i % LEN),
		       "%s: wrong byte at %zu after the read", what, i);
}

static void expect_not_early(const char *what)
{
	EXPECT(atomic_load(&H.early) == 0,
	       "%s: the read's buffer was touched %d time(s) before the call returned: the "
	       "data was copied inside the submitting call",
	       what, atomic_load(&H.early));
}

/* Fill the stream from wfd as far as it takes without blocking: the bytes written. */
static size_t fill(int wfd, const char *src, size_t max)
{
	size_t have = 0;

	SYSCHECK(fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK));
	while (have < max) {
		ssize_t n = write(wfd, src + have, max - have);

		if (n < 0 && errno == EAGAIN)
			break;
		SYSCHECK(n);
		have += (size_t)n;
	}
	return have;
}

/*
 * A read of 4 MiB of a stream holding what it takes: more than a submitting call may move
 * itself, so moved after the call, not in it.
 */
static void stream_read(int rfd, int wfd, const char *what)
{
	static struct aiocb cb;
	size_t max = 4u * 1024 * 1024, have;
	char *src = malloc(max), *buf;
	ssize_t ret;
	int err;

	EXPECT(src, "malloc");
	for (size_t i = 0; i < max; i++)
		src[i] = (char)pattern_byte(i);
	have = fill(wfd, src, max);
	EXPECT(have > 0, "%s: no byte could be written ahead of the reader", what);
	buf = trapped(max);
	aiocb_prep(&cb, rfd, buf, max, 0);
	EXPECT_OK(aio_read(&cb));
	atomic_store(&H.returned, 1);
	err = wait_done(&cb, what);
	ret = aio_return(&cb);
	EXPECT(err == 0 && ret > 0 && (size_t)ret <= have,
	       "%s: aio_error %s, aio_return %zd of %zu bytes there", what, errname(err), ret, have);
	expect_not_early(what);
	EXPECT(!memcmp(buf, src, (size_t)ret), "%s: other bytes than were written", what);
	untrap();
	free(src);
}

static int test(void)
{
	static struct aiocb cbs[NLIO];
	struct aiocb *list[NLIO];
	int fd = tmp_file_with(0, LEN, pattern_byte), p[2], sv[2], big = 1 << 20;
	pthread_t t;
	char *buf;

	/* Make sure every page of the file is cached: the read must be able to finish inline. */
	buf = malloc(LEN);
	EXPECT(buf, "malloc");
	EXPECT(pread(fd, buf, LEN, 0) == (ssize_t)LEN, "pread to warm the cache");
	free(buf);
	H.uffd = open_uffd();
	H.submitter = test_gettid();
	SYSCHECK(errno = pthread_create(&t, NULL, handler, NULL) ? errno : 0);

	/* One read. */
	buf = trapped(LEN);
	aiocb_prep(&cbs[0], fd, buf, LEN, 0);
	EXPECT_OK(aio_read(&cbs[0]));
	atomic_store(&H.returned, 1);
	expect_done_ok(&cbs[0], LEN, "aio_read of 16 MiB of cached data");
	expect_not_early("aio_read of 16 MiB of cached data");
	check(buf, LEN, "aio_read");
	untrap();

	/* Ten in one list. */
	buf = trapped((size_t)NLIO * LEN);
	for (int i = 0; i < NLIO; i++) {
		aiocb_prep(&cbs[i], fd, buf + (size_t)i * LEN, LEN, 0);
		cbs[i].aio_lio_opcode = LIO_READ;
		list[i] = &cbs[i];
	}
	EXPECT_OK(lio_listio(LIO_NOWAIT, list, NLIO, NULL));
	atomic_store(&H.returned, 1);
	for (int i = 0; i < NLIO; i++)
		expect_done_ok(&cbs[i], LEN, "a member of lio_listio(LIO_NOWAIT)");
	expect_not_early("lio_listio(LIO_NOWAIT) of ten 16 MiB reads of cached data");
	check(buf, (size_t)NLIO * LEN, "lio_listio");
	untrap();

	/* A pipe of 1 MiB where allowed, and a socket with a large send buffer. */
	SYSCHECK(pipe(p));
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	stream_read(p[0], p[1], "aio_read of a full pipe");
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	stream_read(sv[0], sv[1], "aio_read of a socket holding data");
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);

	atomic_store(&H.stop, 1);
	pthread_join(t, NULL);
	close(H.uffd);
	close(fd);
	return 0;
}

TEST_MAIN(test)
