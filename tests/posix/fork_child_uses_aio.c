/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * After fork, the child can use AIO normally: file and pipe requests work in the child while
 * the parent has a read pending on a pipe, and the child's exit does not disturb the parent.
 */
#include "common.h"

static int child(int fd)
{
	char buf[64], msg[] = "child";
	struct aiocb cb;
	int p[2];

	aiocb_prep(&cb, fd, buf, sizeof(buf), 128);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(buf), "child: aio_read of a file");
	EXPECT((unsigned char)buf[0] == pattern_byte(128), "child: the file read got other bytes");

	SYSCHECK(pipe(p));
	aiocb_prep(&cb, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	expect_pending(&cb, "child: aio_read of an empty pipe");
	write_all(p[1], msg, sizeof(msg));
	expect_done_ok(&cb, sizeof(msg), "child: aio_read of a pipe");

	aiocb_prep(&cb, fd, msg, sizeof(msg), 4096);
	EXPECT_OK(aio_write(&cb));
	expect_done_ok(&cb, sizeof(msg), "child: aio_write to a file");
	return 0;
}

static int test(void)
{
	char buf[16], check[8];
	struct aiocb pending;
	int fd = tmp_file_with(0, 4096, pattern_byte), p[2], status;
	pid_t pid;

	/* The parent's pending read runs a library thread, and the child's requests start one. */
	SKIP_UNDER_TSAN("nothing here, but refuses a thread started in the forked child of a "
			"threaded process");
	SYSCHECK(pipe(p));
	aiocb_prep(&pending, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&pending));
	fflush(NULL);
	SYSCHECK(pid = fork_settled());
	if (pid == 0)
		_exit(child(fd));
	SYSCHECK(waitpid(pid, &status, 0));
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the child failed (status 0x%x), see its message above", status);
	EXPECT(pread(fd, check, 6, 4096) == 6 && memcmp(check, "child", 6) == 0,
	       "the child's aio_write is not in the file");

	expect_pending(&pending, "parent: the read pending across the fork");
	write_all(p[1], "parent", 6);
	expect_done_ok(&pending, 6, "parent: the read pending across the fork");
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
