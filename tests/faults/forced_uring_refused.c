/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * POSIXAIO_ENGINE=uring while io_uring is refused (run under no-uring, with EPERM or
 * ENOSYS): every call fails with ENOSYS (EAGAIN would say a lack of resources), a message on
 * stderr names the problem, nothing crashes or hangs, and calls keep failing the same way.
 */
#include "faults.h"

static void expect_refused(int ret, const char *call)
{
	EXPECT(ret == -1 && (errno == ENOSYS || errno == EAGAIN),
	       "%s with a forced engine that cannot start: expected -1/ENOSYS (or EAGAIN), got "
	       "%d/%s", call, ret, errname(errno));
}

static int test(void)
{
	static char buf[512];
	struct aiocb cb, *list[2];
	const struct aiocb *clist[1];
	struct timespec ts = {0, 1000000};
	int fd, err, out, saved, ret;
	const char *text, *want = getenv("POSIXAIO_ENGINE");

	err = uring_setup_errno();
	if (err == 0)
		skip("io_uring works here: run me under no-uring");
	if (!want || strcmp(want, "uring"))
		skip("POSIXAIO_ENGINE is %s, not uring", want ? want : "unset");
	fd = tmp_file_with(0, sizeof(buf), pattern_byte);
	saved = stderr_capture(&out);
	for (int round = 0; round < 3; round++) {
		aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
		errno = 0;
		expect_refused(aio_read(&cb), "aio_read");
		errno = 0;
		expect_refused(aio_write(&cb), "aio_write");
		errno = 0;
		expect_refused(aio_fsync(O_SYNC, &cb), "aio_fsync");
		cb.aio_lio_opcode = LIO_READ;
		list[0] = &cb;
		list[1] = NULL;
		errno = 0;
		ret = lio_listio(LIO_WAIT, list, 2, NULL);
		EXPECT(ret == -1 && (errno == ENOSYS || errno == EAGAIN || errno == EIO),
		       "lio_listio(LIO_WAIT): expected -1/ENOSYS, EAGAIN or EIO, got %d/%s", ret,
		       errname(errno));
		if (errno == EIO) {
			err = aio_error(&cb);
			EXPECT(err == ENOSYS || err == EAGAIN,
			       "lio_listio EIO: the member's aio_error is %s", errname(err));
		}
		errno = 0;
		ret = lio_listio(LIO_NOWAIT, list, 2, NULL);
		EXPECT(ret == -1 && (errno == ENOSYS || errno == EAGAIN || errno == EIO),
		       "lio_listio(LIO_NOWAIT): expected -1/ENOSYS, EAGAIN or EIO, got %d/%s", ret,
		       errname(errno));
		/* Nothing was submitted: cancel finds nothing, suspend does not hang. */
		ret = aio_cancel(fd, NULL);
		EXPECT(ret == AIO_ALLDONE || (ret == -1 && (errno == ENOSYS || errno == EAGAIN)),
		       "aio_cancel: expected AIO_ALLDONE or -1/ENOSYS, got %d/%s", ret,
		       errname(errno));
		clist[0] = &cb;
		errno = 0;
		ret = aio_suspend(clist, 1, &ts);
		EXPECT(ret == 0 || (ret == -1 && (errno == EAGAIN || errno == ENOSYS)),
		       "aio_suspend on a request never submitted: got %d/%s", ret, errname(errno));
	}
	text = stderr_restore(saved, out);
	EXPECT(strstr(text, "uring") != NULL,
	       "expected a message on stderr naming the engine that cannot start, got \"%s\"",
	       text);
	fprintf(stderr, "the library said: %s", text);
	close(fd);
	return 0;
}

TEST_MAIN(test)
