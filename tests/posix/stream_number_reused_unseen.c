/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stream descriptor closed where an interposed close() cannot see it (fclose() closes with
 * an internal call; a program may use the raw system call), and its number taken by a
 * stream of another kind: the next request on the number reaches the new file, moved the
 * way that file needs. The library keeps how it moves an idle socket or pipe; this checks
 * that what it keeps follows the file, not the number.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "common.h"

#include <termios.h>

/* Close fd behind the library's back and put other at that number; close other. */
static void replace_unseen(int fd, int other)
{
	SYSCHECK(syscall(SYS_close, fd));
	EXPECT(fcntl(other, F_DUPFD, fd) == fd, "F_DUPFD did not give back number %d", fd);
	close(other);
}

static void write_ok(int fd, const char *msg, const char *what)
{
	struct aiocb w;

	aiocb_prep(&w, fd, (void *)msg, strlen(msg), 0);
	EXPECT_OK(aio_write(&w));
	expect_done_ok(&w, (ssize_t)strlen(msg), what);
}

static void read_ok(int fd, const char *want, const char *what)
{
	char buf[64];
	struct aiocb r;

	memset(buf, 0, sizeof(buf));
	aiocb_prep(&r, fd, buf, sizeof(buf) - 1, 0);
	EXPECT_OK(aio_read(&r));
	expect_done_ok(&r, (ssize_t)strlen(want), what);
	EXPECT(!strcmp(buf, want), "%s got \"%s\", expected \"%s\"", what, buf, want);
}

/* A socket's number becomes a pipe's write end. */
static void socket_then_pipe(void)
{
	char buf[64] = {0};
	int sv[2], p[2];

	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYSCHECK(pipe(p));
	write_ok(sv[0], "to the socket", "aio_write on a socket");
	EXPECT(recv(sv[1], buf, sizeof(buf), 0) == 13, "the socket's peer did not get 13 bytes");
	replace_unseen(sv[0], p[1]);
	write_ok(sv[0], "to the pipe", "aio_write on a pipe at the socket's number");
	memset(buf, 0, sizeof(buf));
	EXPECT(read(p[0], buf, sizeof(buf)) == 11 && !strcmp(buf, "to the pipe"),
	       "the pipe holds \"%s\", expected \"to the pipe\"", buf);
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
}

/* A pipe's read end's number becomes a socket. */
static void pipe_then_socket(void)
{
	int sv[2], p[2];

	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYSCHECK(pipe(p));
	SYSCHECK(write(p[1], "in the pipe", 11));
	read_ok(p[0], "in the pipe", "aio_read on a pipe");
	replace_unseen(p[0], sv[0]);
	SYSCHECK(send(sv[1], "in the socket", 13, 0));
	read_ok(p[0], "in the socket", "aio_read on a socket at the pipe's number");
	close(p[0]);
	close(p[1]);
	close(sv[1]);
}

/* A stream socket's number becomes a datagram socket: each write stays one datagram. */
static void stream_then_dgram(void)
{
	char buf[64] = {0};
	int sv[2], dg[2];

	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYSCHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg));
	write_ok(sv[0], "stream", "aio_write on a stream socket");
	replace_unseen(sv[0], dg[0]);
	write_ok(sv[0], "one", "aio_write on a datagram socket at the stream's number");
	write_ok(sv[0], "two", "aio_write on a datagram socket at the stream's number");
	EXPECT(recv(dg[1], buf, sizeof(buf), 0) == 3 && !strcmp(buf, "one"),
	       "the first datagram is \"%s\", expected \"one\"", buf);
	EXPECT(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 6,
	       "the stream's peer did not get its 6 bytes");
	close(sv[0]);
	close(sv[1]);
	close(dg[1]);
}

/*
 * A pipe's write end's number becomes a pty master. Reopened through /proc, as a pipe taken
 * for a FIFO would be, the master would be a new pty: the bytes must reach this one's slave.
 */
static void pipe_then_pty(void)
{
	struct pollfd pfd;
	struct termios tio;
	char buf[64] = {0}, *name;
	int p[2], master, slave;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master == -1)
		skip("posix_openpt: %s (the other cases passed)", strerror(errno));
	if (grantpt(master) || unlockpt(master) || !(name = ptsname(master)))
		skip("grantpt/unlockpt/ptsname: %s (the other cases passed)", strerror(errno));
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave == -1)
		skip("open %s: %s (the other cases passed)", name, strerror(errno));
	SYSCHECK(tcgetattr(slave, &tio));
	cfmakeraw(&tio);
	SYSCHECK(tcsetattr(slave, TCSANOW, &tio));
	SYSCHECK(pipe(p));
	write_ok(p[1], "to the pipe", "aio_write on a pipe");
	replace_unseen(p[1], master);
	write_ok(p[1], "to the pty", "aio_write on a pty master at the pipe's number");
	pfd.fd = slave;
	pfd.events = POLLIN;
	EXPECT(poll(&pfd, 1, 5000) == 1, "the pty's slave got nothing in 5 s");
	EXPECT(read(slave, buf, sizeof(buf)) == 10 && !strcmp(buf, "to the pty"),
	       "the pty's slave read \"%s\", expected \"to the pty\"", buf);
	close(p[0]);
	close(p[1]);
	close(slave);
}

static int test(void)
{
	socket_then_pipe();
	pipe_then_socket();
	stream_then_dgram();
	pipe_then_pty();
	return 0;
}

TEST_MAIN(test)
