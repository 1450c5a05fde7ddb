/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A SIGEV_NONE program has library threads only while it needs them: none at all while its
 * requests finish inside the call (1000 small reads of a cached file), at most one while
 * requests are pending (100 pipe reads: the thread that issues them to the kernel), that one
 * blocking every signal, and none again a few seconds after the last request completed.
 * Kernel io_uring workers (iou-wrk-*) are not threads of the program and are not counted.
 * glibc runs every request on a thread of its own pool, so it fails the first part.
 */
#include "common.h"

#define NFILE 1000
#define NPIPE 100

static int threads(char *names, size_t len)
{
	int workers;

	return count_threads(&workers, names, len);
}

static void expect_alone(const char *when)
{
	char names[4096];
	int n = threads(names, sizeof(names));

	EXPECT(n == 1, "%s: %d threads (%s), expected the main thread alone", when, n, names);
}

/* Every thread but this one blocks every signal the program could be sent. */
static void expect_others_block_signals(void)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *de;
	pid_t self = test_gettid();

	EXPECT(dir, "/proc/self/task: %s", strerror(errno));
	while ((de = readdir(dir))) {
		char path[300], line[256];
		unsigned long long blk = 0;
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue; /* gone meanwhile */
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "SigBlk: %llx", &blk) == 1)
				break;
		fclose(f);
		/* SIGKILL and SIGSTOP cannot be blocked; every other standard signal must be. */
		EXPECT((blk | (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1))) >= 0x7fffffffULL &&
			       (blk & (1ULL << (SIGPIPE - 1))) && (blk & (1ULL << (SIGALRM - 1))),
		       "library thread %s has signal mask %llx: it must block every signal",
		       de->d_name, blk);
	}
	closedir(dir);
}

static int test(void)
{
	SKIP_UNDER_TSAN("the number of threads in the process");
	static struct aiocb f[NFILE], r[NPIPE];
	static char fbuf[NFILE][4], pbuf[NPIPE];
	int fd = tmp_file_with(0, NFILE * 4, pattern_byte), pipes[NPIPE][2], n = 0;
	char names[4096];

	expect_alone("before any request");
	for (int i = 0; i < NFILE; i++) {
		aiocb_prep(&f[i], fd, fbuf[i], 4, (off_t)i * 4);
		EXPECT_OK(aio_read(&f[i]));
	}
	for (int i = 0; i < NFILE; i++)
		expect_done_ok(&f[i], 4, "a file read");
	expect_alone("after 1000 reads of a cached file");
	for (int i = 0; i < NPIPE; i++) {
		SYSCHECK(pipe(pipes[i]));
		aiocb_prep(&r[i], pipes[i][0], &pbuf[i], 1, 0);
		EXPECT_OK(aio_read(&r[i]));
	}
	expect_pending(&r[0], "a pipe read");
	n = threads(names, sizeof(names));
	EXPECT(n <= 2, "while 100 pipe reads are pending: %d threads (%s), expected at most one "
		       "besides the main thread", n, names);
	expect_others_block_signals();
	for (int i = 0; i < NPIPE; i++) {
		write_all(pipes[i][1], "p", 1);
		expect_done_ok(&r[i], 1, "a pipe read");
	}
	/* A library thread lingers a moment after its last request, as glibc's do. */
	for (int waited = 0; (n = threads(names, sizeof(names))) > 1 && waited < WAIT_DONE_MS;
	     waited += 50)
		usleep(50 * 1000);
	EXPECT(n == 1, "%d threads (%s) %d ms after every request completed, expected the main "
		       "thread alone", n, names, WAIT_DONE_MS);
	for (int i = 0; i < NPIPE; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	close(fd);
	return 0;
}

TEST_MAIN(test)
