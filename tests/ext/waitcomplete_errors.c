/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_waitcomplete()'s errors: EINVAL for a bad timeout or a NULL cbp (nothing claimed);
 * EAGAIN when a timeout passes with nothing complete; and a request that failed is handed
 * out with -1 and its own error in errno (EBADF for a read of a write-only descriptor,
 * ECANCELED for a cancelled pipe read), as aio_return() and aio_error() would say.
 */
#include "ext.h"

static void expect_einval(long sec, long nsec)
{
	struct timespec ts = { sec, nsec };
	struct aiocb *cb = (struct aiocb *)1;
	ssize_t ret = aio_waitcomplete(&cb, &ts);

	EXPECT(ret == -1 && errno == EINVAL, "timeout {%ld, %ld}: got %zd (%s), expected EINVAL",
	       sec, nsec, ret, ret < 0 ? errname(errno) : "no error");
	EXPECT(cb == NULL, "timeout {%ld, %ld}: *cbp not NULL after EINVAL", sec, nsec);
}

static int test(void)
{
	struct aiocb r, w, *cb;
	char buf[16];
	int64_t t0;
	ssize_t ret;
	int p[2], err, wfd;

	expect_einval(0, -1);
	expect_einval(0, 1000000000L);
	expect_einval(-1, 0);
	errno = 0;
	EXPECT(aio_waitcomplete(NULL, NULL) == -1 && errno == EINVAL,
	       "aio_waitcomplete(NULL, NULL) did not fail with EINVAL (%s)", errname(errno));

	/* A pending pipe read: a 100 ms timeout passes with EAGAIN. */
	SYSCHECK(pipe(p));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	t0 = now_ms();
	cb = (struct aiocb *)1;
	ret = waitcomplete_ms(&cb, 100);
	EXPECT(ret == -1 && errno == EAGAIN && cb == NULL,
	       "timeout with a pending read: got %zd (%s) cb %p, expected EAGAIN and NULL", ret,
	       ret < 0 ? errname(errno) : "no error", (void *)cb);
	EXPECT(now_ms() - t0 >= 95, "aio_waitcomplete returned after %lld ms of a 100 ms timeout",
	       (long long)(now_ms() - t0));

	/* Cancelled: handed out with ECANCELED. */
	EXPECT(aio_cancel(p[0], &r) == AIO_CANCELED, "aio_cancel of a pending pipe read");
	cb = claim_one(&ret, &err, "a cancelled read");
	EXPECT(cb == &r && ret == -1 && err == ECANCELED,
	       "cancelled read: got %p %zd (%s), expected %p -1 ECANCELED", (void *)cb, ret,
	       errname(err), (void *)&r);

	/* A read of a write-only descriptor fails with EBADF, from the call or the request. */
	wfd = tmp_file(O_WRONLY);
	aiocb_prep(&w, wfd, buf, sizeof(buf), 0);
	if (aio_read(&w) == 0) {
		cb = claim_one(&ret, &err, "a read of a write-only file");
		EXPECT(cb == &w && ret == -1 && err == EBADF,
		       "read of a write-only file: got %p %zd (%s), expected -1 EBADF",
		       (void *)cb, ret, errname(err));
	} else {
		EXPECT(errno == EBADF, "aio_read of a write-only file: %s", errname(errno));
	}
	expect_nothing("at the end");
	close(p[0]);
	close(p[1]);
	close(wfd);
	return 0;
}

TEST_MAIN(test)
