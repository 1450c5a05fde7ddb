/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A forked child starts with nothing to claim: its posixaio_fd() is a descriptor of its
 * own, quiet until the child's own request completes, and the parent's unclaimed completion
 * stays the parent's.
 */
#include "ext.h"

static int test(void)
{
	int fd = posixaio_fd(), file = tmp_file_with(0, 4096, pattern_byte), status;
	struct aiocb r, *cb;
	char buf[64];
	ssize_t ret;
	pid_t pid;
	int err;

	EXPECT(fd >= 0, "posixaio_fd: %s", errname(errno));
	aiocb_prep(&r, file, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	EXPECT(readable_now(fd, WAIT_DONE_MS), "parent: not readable after its read");
	pid = fork();
	SYSCHECK(pid);
	if (pid == 0) {
		int cfd = posixaio_fd();
		struct aiocb c, *got = NULL;

		if (cfd < 0 || readable_now(cfd, 0))
			_exit(2);
		if (aio_waitcomplete(&got, &(struct timespec){ 0, 0 }) != -1 || errno != EAGAIN)
			_exit(3);
		aiocb_prep(&c, file, buf, 16, 64);
		if (aio_read(&c) || !readable_now(cfd, WAIT_DONE_MS))
			_exit(4);
		if (aio_waitcomplete(&got, NULL) != 16 || got != &c)
			_exit(5);
		_exit(0);
	}
	SYSCHECK(waitpid(pid, &status, 0));
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed with status %#x",
	       status);
	cb = claim_one(&ret, &err, "the parent's read after the fork");
	EXPECT(cb == &r && ret == sizeof(buf), "parent claimed %p %zd", (void *)cb, ret);
	close(file);
	return 0;
}

TEST_MAIN(test)
