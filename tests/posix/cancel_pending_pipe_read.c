/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_cancel of a read pending on a pipe returns AIO_CANCELED; the request then reports
 * ECANCELED and aio_return -1, and data written afterwards stays in the pipe for read(2): the
 * cancelled request consumes nothing.
 */
#include "common.h"

#ifndef CANCEL_KIND
#define CANCEL_KIND "pipe"
#endif

static void make_pair(int fds[2])
{
#ifdef CANCEL_SOCKET
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
#else
	SYSCHECK(pipe(fds));
#endif
}

static int test(void)
{
	static const char later[] = "written after the cancel";
	char buf[64], back[sizeof(later)];
	struct aiocb r;
	int fds[2], ret, err;

	make_pair(fds);
	memset(buf, 0, sizeof(buf));
	aiocb_prep(&r, fds[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	expect_pending(&r, "aio_read on an empty " CANCEL_KIND);

	ret = aio_cancel(fds[0], &r);
	EXPECT(ret == AIO_CANCELED,
	       "aio_cancel of a read pending on a " CANCEL_KIND ": expected AIO_CANCELED (%d), "
	       "got %d (AIO_NOTCANCELED %d, AIO_ALLDONE %d)",
	       AIO_CANCELED, ret, AIO_NOTCANCELED, AIO_ALLDONE);
	err = aio_error(&r);
	EXPECT(err == ECANCELED, "aio_error right after AIO_CANCELED: expected ECANCELED, got %s",
	       errname(err));
	ret = (int)aio_return(&r);
	EXPECT(ret == -1, "aio_return of a cancelled read: expected -1, got %d", ret);

	write_all(fds[1], later, sizeof(later));
	/* Give a request that was wrongly left running the chance to take the data. */
	sleep_ms(20);
	EXPECT(bytes_available(fds[0]) == (int)sizeof(later),
	       "after the cancel, %zu bytes were written but %d are left in the " CANCEL_KIND
	       ": the cancelled read consumed them",
	       sizeof(later), bytes_available(fds[0]));
	read_all(fds[0], back, sizeof(back));
	EXPECT(memcmp(back, later, sizeof(later)) == 0, "read(2) got other bytes than written");
	EXPECT(buf[0] == 0, "the cancelled read wrote into its buffer");
	close(fds[0]);
	close(fds[1]);
	return 0;
}

TEST_MAIN(test)
