/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program that has made no AIO call yet carries nothing of the implementation: a single
 * thread, and no io_uring, native AIO, eventfd or epoll descriptor (the library, when
 * preloaded into every process, must start at the first call, not at load time). After one
 * SIGEV_NONE request the program works as usual.
 */
#include "common.h"

static void expect_no_trace(void)
{
	char names[4096], path[300], target[256];
	int workers, n = count_threads(&workers, names, sizeof(names));
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	EXPECT(n == 1 && workers == 0, "before any AIO call: %d threads (%s), expected 1", n,
	       names);
	if (!dir)
		skip("/proc/self/fd is not readable: %s", strerror(errno));
	while ((de = readdir(dir))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		EXPECT(!strstr(target, "io_uring") && !strstr(target, "[aio]") &&
			       !strstr(target, "eventfd") && !strstr(target, "eventpoll"),
		       "before any AIO call, descriptor %s is open on %s", de->d_name, target);
	}
	closedir(dir);
}

static int test(void)
{
	SKIP_UNDER_TSAN("the number of threads in the process");
	char buf[16];
	struct aiocb cb;
	int fd;

	expect_no_trace();
	fd = tmp_file_with(0, 64, pattern_byte);
	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(buf), "the first aio_read");
	close(fd);
	return 0;
}

TEST_MAIN(test)
