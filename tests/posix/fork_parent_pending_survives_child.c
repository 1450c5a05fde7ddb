/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A pipe read pending in the parent is unaffected by fork and by the child's exit: after the
 * child (which does no AIO) has exited, the parent's read is still pending and completes with
 * the data the parent then writes. The child also must not consume that data.
 */
#include "common.h"

static int test(void)
{
	char buf[32];
	struct aiocb pending, file_read;
	char fbuf[16];
	int fd = tmp_file_with(0, 4096, pattern_byte), p[2], status;
	pid_t pid;

	SYSCHECK(pipe(p));
	aiocb_prep(&pending, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&pending));
	/* A completed request too: the child must not reap or redo it. */
	aiocb_prep(&file_read, fd, fbuf, sizeof(fbuf), 0);
	EXPECT_OK(aio_read(&file_read));
	wait_done(&file_read, "a file read");

	for (int round = 0; round < 3; round++) {
		fflush(NULL);
		SYSCHECK(pid = fork_settled());
		if (pid == 0)
			_exit(0);
		SYSCHECK(waitpid(pid, &status, 0));
		EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (0x%x)",
		       status);
		expect_pending(&pending, "the parent's read after a child exited");
	}
	EXPECT(aio_return(&file_read) == sizeof(fbuf), "the completed file read changed");
	write_all(p[1], "still here", 10);
	expect_done_ok(&pending, 10, "the parent's read after its children exited");
	EXPECT(memcmp(buf, "still here", 10) == 0, "the parent's read got other bytes");
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}

TEST_MAIN(test)
