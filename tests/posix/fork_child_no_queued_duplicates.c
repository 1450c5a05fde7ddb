/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A child forked while writes wait in the library holds no extra descriptor of their files:
 * the library's duplicates (one shared by the writes queued on a descriptor, and one of its
 * own for a write submitted after the program closed the number and another file took it)
 * are the parent's, and a copy left open in the child would keep the file open there (a
 * filesystem that cannot be unmounted, a lock that is not released) until it exits.
 *
 * The child looks at every descriptor it has: only the program's own two name the files.
 * Under AddressSanitizer fork_settled() waits for the writes first, and the test proves
 * less.
 */
#include "common.h"

#include <dirent.h>

#define NW 64
#define BLOCK (256 * 1024)
#define MARK 4096

static unsigned char bufs[NW][BLOCK], mark[MARK];
static struct aiocb cbs[NW], mcb, *list[NW];

/* Descriptors of this process that name the file st describes. */
static int naming(const struct stat *st)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		struct stat s;
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &s) < 0)
			continue;
		n += s.st_dev == st->st_dev && s.st_ino == st->st_ino;
	}
	closedir(d);
	return n;
}

static int child(const struct stat *sa, const struct stat *sb)
{
	int na = naming(sa), nb = naming(sb);

	if (na < 0) {
		fprintf(stderr, "child: no /proc/self/fd: cannot look\n");
		return 1;
	}
	if (na != 1 || nb != 1) {
		fprintf(stderr,
			"child: %d descriptors name the first file and %d the second; the program "
			"has one of each\n",
			na, nb);
		return 1;
	}
	return 0;
}

static int test(void)
{
	int a = tmp_file(O_RDWR), b = tmp_file(O_RDWR), keep_a, num, status;
	struct stat sa, sb;
	pid_t pid;

	if (access("/proc/self/fd", R_OK) < 0)
		skip("no /proc/self/fd here: the child's descriptors cannot be listed");
	SYSCHECK(keep_a = dup(a));
	SYSCHECK(fstat(a, &sa));
	SYSCHECK(fstat(b, &sb));
	num = writes_queued_number_reused(a, b, cbs, list, &bufs[0][0], NW, BLOCK);
	memset(mark, 0xee, MARK);
	aiocb_prep(&mcb, num, mark, MARK, (off_t)2 * NW * BLOCK);
	EXPECT_OK(aio_write(&mcb));

	SYSCHECK(pid = fork_settled());
	if (pid == 0)
		_exit(child(&sa, &sb));
	SYSCHECK(waitpid(pid, &status, 0));
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the child failed (status 0x%x), see its message above", status);

	wait_done(&mcb, "the write to the second file");
	for (int i = 0; i < NW; i++)
		wait_done(&cbs[i], "a write queued before the close");
	close(num);
	close(keep_a);
	return 0;
}

TEST_MAIN(test)
