/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_read and aio_write on a pseudo-terminal, master to slave and back (raw mode). */
#include "common.h"

#include <termios.h>

/* A tty may hand over a message in pieces: read with aio_read until all of it came. */
static void expect_message(int fd, const char *msg)
{
	size_t len = strlen(msg), got = 0;
	char buf[128];

	memset(buf, 0, sizeof(buf));
	while (got < len) {
		struct aiocb r;
		ssize_t n;
		int err;

		aiocb_prep(&r, fd, buf + got, sizeof(buf) - 1 - got, 0);
		EXPECT_OK(aio_read(&r));
		err = wait_done(&r, "aio_read on a pty");
		EXPECT(err == 0, "aio_read on a pty: expected aio_error 0, got %s", errname(err));
		n = aio_return(&r);
		EXPECT(n > 0, "aio_read on a pty returned %zd after %zu of %zu bytes", n, got, len);
		got += (size_t)n;
	}
	EXPECT(got == len && memcmp(buf, msg, len) == 0, "pty read \"%s\", expected \"%s\"", buf,
	       msg);
}

static void send_message(int fd, const char *msg)
{
	struct aiocb w;

	aiocb_prep(&w, fd, (void *)msg, strlen(msg), 0);
	EXPECT_OK(aio_write(&w));
	expect_done_ok(&w, (ssize_t)strlen(msg), "aio_write on a pty");
}

static int test(void)
{
	struct termios tio;
	int master, slave;
	char *name;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master == -1)
		skip("posix_openpt: %s", strerror(errno));
	if (grantpt(master) || unlockpt(master) || !(name = ptsname(master)))
		skip("grantpt/unlockpt/ptsname: %s", strerror(errno));
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave == -1)
		skip("open %s: %s", name, strerror(errno));
	SYSCHECK(tcgetattr(slave, &tio));
	cfmakeraw(&tio);
	SYSCHECK(tcsetattr(slave, TCSANOW, &tio));

	send_message(master, "master to slave");
	expect_message(slave, "master to slave");
	send_message(slave, "slave to master");
	expect_message(master, "slave to master");
	close(slave);
	close(master);
	return 0;
}

TEST_MAIN(test)
