/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A process that cannot reach /proc (containers that do not mount it) still gets a FIFO's
 * requests served without blocking: a 1 MiB aio_write to a FIFO whose reader takes 64 KiB at
 * a time with aio_read completes with every byte in order, while another thread's aio_error
 * calls keep returning. (A library that falls back to one blocking write(2) under its lock
 * holds the reader's aio_read off forever.)
 *
 * The body makes /proc unreachable for itself: a mount namespace of its own with an empty
 * tmpfs over /proc. That needs root (CAP_SYS_ADMIN); elsewhere it skips.
 */
#include "common.h"

#include <sched.h>
#include <sys/mount.h>

#define LEN (1024 * 1024)
#define CHUNK (64 * 1024)

static int rfd, wfd;
static struct aiocb w;
static atomic_int checks, stop;

static unsigned char byte_at(size_t i)
{
	return pattern_byte(i);
}

static void hide_proc(void)
{
	char path[64];
	int fd;

	if (unshare(CLONE_NEWNS) == -1)
		skip("unshare(CLONE_NEWNS): %s (needs root)", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		skip("making the mounts private: %s", strerror(errno));
	if (mount("none", "/proc", "tmpfs", 0, "size=64k") == -1)
		skip("mounting a tmpfs over /proc: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", 0);
	fd = open(path, O_RDONLY);
	if (fd >= 0)
		skip("/proc/self/fd still reachable after hiding /proc");
}

/* Reads the FIFO with aio_read, CHUNK at most at a time, with a pause between reads. */
static void *reader(void *arg)
{
	unsigned char *buf = malloc(CHUNK);
	size_t got = 0;

	(void)arg;
	EXPECT(buf, "malloc");
	while (got < LEN) {
		struct aiocb r;
		ssize_t n;
		int err;

		aiocb_prep(&r, rfd, buf, CHUNK, 0);
		EXPECT_OK(aio_read(&r));
		err = wait_done(&r, "aio_read on the FIFO");
		n = aio_return(&r);
		EXPECT(err == 0 && n > 0, "aio_read on the FIFO after %zu bytes: %s, %zd", got,
		       errname(err), n);
		for (ssize_t i = 0; i < n; i++)
			EXPECT(buf[i] == byte_at(got + (size_t)i), "wrong byte at %zu",
			       got + (size_t)i);
		got += (size_t)n;
		sleep_ms(1);
	}
	free(buf);
	return NULL;
}

static void *checker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		aio_error(&w);
		atomic_fetch_add(&checks, 1);
		sleep_ms(1);
	}
	return NULL;
}

static int test(void)
{
	unsigned char *data = malloc(LEN);
	pthread_t rt, ct;
	int err, before;

	hide_proc(); /* first: unshare needs a single thread */
	fifo_open_pair(&rfd, &wfd);
	EXPECT(data, "malloc");
	for (size_t i = 0; i < LEN; i++)
		data[i] = byte_at(i);
	aiocb_prep(&w, wfd, data, LEN, 0);
	SYSCHECK(errno = pthread_create(&ct, NULL, checker, NULL) ? errno : 0);
	EXPECT_OK(aio_write(&w));
	SYSCHECK(errno = pthread_create(&rt, NULL, reader, NULL) ? errno : 0);
	before = atomic_load(&checks);
	EXPECT(wait_counter(&checks, before + 10, WAIT_DONE_MS),
	       "aio_error in another thread stopped returning while the write was pending");
	err = wait_done(&w, "the 1 MiB aio_write to the FIFO");
	EXPECT(err == 0, "the 1 MiB aio_write to the FIFO: %s", errname(err));
	EXPECT(aio_return(&w) == LEN, "the 1 MiB aio_write to the FIFO was short");
	pthread_join(rt, NULL);
	atomic_store(&stop, 1);
	pthread_join(ct, NULL);
	close(rfd);
	close(wfd);
	free(data);
	/* Without /proc, LeakSanitizer's check at exit cannot run: end here, passed. */
	fflush(NULL);
	_exit(0);
}

TEST_MAIN(test)
