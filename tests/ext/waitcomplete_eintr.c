/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A signal whose handler was installed without SA_RESTART ends a waiting
 * aio_waitcomplete() with EINTR and *cbp NULL; the request it waited for is still there to
 * be claimed afterwards.
 */
#include "ext.h"

static atomic_int handled;

static void on_alarm(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static int test(void)
{
	struct aiocb r, *cb = (struct aiocb *)1;
	struct itimerval it = { { 0, 0 }, { 0, 100000 } };
	char buf[8];
	ssize_t ret;
	int p[2], err;

	install_handler(SIGALRM, (void *)on_alarm, 0);
	SYSCHECK(pipe(p));
	aiocb_prep(&r, p[0], buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&r));
	SYSCHECK(setitimer(ITIMER_REAL, &it, NULL));
	ret = waitcomplete_ms(&cb, 10000 * time_scale());
	EXPECT(ret == -1 && errno == EINTR, "aio_waitcomplete interrupted by SIGALRM: got %zd "
	       "(%s), expected EINTR", ret, ret < 0 ? errname(errno) : "no error");
	EXPECT(cb == NULL, "*cbp not NULL after EINTR");
	EXPECT(atomic_load(&handled) == 1, "the handler ran %d times", atomic_load(&handled));
	write_all(p[1], "abc", 3);
	cb = claim_one(&ret, &err, "the read after EINTR");
	EXPECT(cb == &r && ret == 3, "after EINTR: got %p %zd, expected the read with 3 bytes",
	       (void *)cb, ret);
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST_MAIN(test)
