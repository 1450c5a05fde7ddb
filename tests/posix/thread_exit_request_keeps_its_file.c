/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A request outlives the thread that submitted it and stays with its file. A thread submits a
 * read of an empty pipe and exits; the program then closes the pipe's read end and puts
 * another pipe's read end at that number, with data in it. The request must never read the
 * new pipe: it gets the data later written to its own pipe (which the library keeps open
 * for it, as the kernel does for a read in progress), or ends with ECANCELED; and the new
 * pipe's data stays where it is. Twice: once with the request submitted alone, once behind
 * an earlier read on the same descriptor.
 */
#include "common.h"

static struct aiocb cbs[2];
static char bufs[2][8];
static int old_pipe[2];
static int nreq;

static void *submitter(void *arg)
{
	(void)arg;
	for (int i = 0; i < nreq; i++) {
		aiocb_prep(&cbs[i], old_pipe[0], bufs[i], 3, 0);
		EXPECT_OK(aio_read(&cbs[i]));
	}
	return NULL;
}

static void run(int n)
{
	int new_pipe[2], fd;
	pthread_t t;
	char left[8];

	nreq = n;
	memset(bufs, 0, sizeof(bufs));
	SYSCHECK(pipe(old_pipe));
	fd = old_pipe[0];
	EXPECT(pthread_create(&t, NULL, submitter, NULL) == 0, "pthread_create failed");
	pthread_join(t, NULL);
	sleep_ms(50); /* let the library see its thread gone */
	for (int i = 0; i < n; i++)
		expect_pending(&cbs[i], "a read of an empty pipe whose thread exited");

	SYSCHECK(close(fd));
	SYSCHECK(pipe(new_pipe));
	if (new_pipe[0] != fd) { /* it takes the lowest free number: fd, most often */
		SYSCHECK(dup2(new_pipe[0], fd));
		close(new_pipe[0]);
	}
	write_all(new_pipe[1], "NEW", 3);
	sleep_ms(50);
	signal(SIGPIPE, SIG_IGN); /* glibc keeps no file open for a request */
	if (write(old_pipe[1], "OLDold", 6) < 0)
		printf("the old pipe has no reader left: %s\n", errname(errno));

	for (int i = 0; i < n; i++) {
		int err = wait_done(&cbs[i], "the read after its descriptor was reused");
		ssize_t ret = aio_return(&cbs[i]);

		EXPECT(err == ECANCELED || (err == 0 && ret == 3 && memcmp(bufs[i], "NEW", 3)),
		       "request %d of %d: aio_error %s, aio_return %zd, data '%.3s': it must read "
		       "its own pipe or be cancelled, never the pipe that took the number",
		       i + 1, n, errname(err), ret, bufs[i]);
	}
	EXPECT(bytes_available(fd) == 3, "the new pipe holds %d bytes, expected its 3 untouched",
	       bytes_available(fd));
	read_all(fd, left, 3);
	EXPECT(!memcmp(left, "NEW", 3), "the new pipe's data changed");
	close(fd);
	close(new_pipe[1]);
	close(old_pipe[1]);
}

static int test(void)
{
	run(1);
	run(2);
	return 0;
}

TEST_MAIN(test)
