/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stream write keeps moving while the program does not call the library: glibc's helper
 * thread sits in a blocking write(2) and goes on as the peer drains the socket, so a peer
 * reading with MSG_WAITALL gets every byte whatever the writer's thread is doing. Checked
 * twice, each time the process's first stream write:
 *  - while another thread sleeps in aio_suspend() for a FIFO read since before it: that
 *    thread reaps for everyone, but only what it watches, and it went to sleep before the
 *    library had anything to watch for streams;
 *  - when the library's background thread has just been busy for a notification and gone
 *    idle: it must start watching the stream at once, not when its idle sleep ends (a
 *    second later).
 */
#include "common.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define BIG (1 << 20)
#define AWAY_LIMIT_MS 500

static atomic_int signalled;
static int peer_fd;
static char *in;
static atomic_llong peer_done_ms;
static ssize_t peer_got;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	atomic_fetch_add(&signalled, 1);
}

static void *peer(void *arg)
{
	(void)arg;
	peer_got = recv(peer_fd, in, BIG, MSG_WAITALL);
	atomic_store(&peer_done_ms, now_ms());
	return NULL;
}

/* A completion signal makes the background thread work; then it idles. */
static void busy_then_idle(void)
{
	static char buf[512];
	struct sigaction sa;
	struct aiocb cb;
	int fd = tmp_file(O_RDWR);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	SYSCHECK(sigaction(SIGRTMIN, &sa, NULL));
	SYSCHECK(pwrite(fd, buf, sizeof(buf), 0));
	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	cb.aio_sigevent.sigev_signo = SIGRTMIN;
	EXPECT_OK(aio_read(&cb));
	EXPECT(wait_counter(&signalled, 1, WAIT_DONE_MS), "no completion signal");
	EXPECT(aio_return(&cb) == (ssize_t)sizeof(buf), "the read failed");
	sleep_ms(50);
	close(fd);
}

/* Write 1 MiB to a socketpair and stay away from the library until the peer has it all. */
static void write_away(const char *when)
{
	char *out = malloc(BIG);
	int64_t start, limit = AWAY_LIMIT_MS * time_scale();
	struct aiocb w;
	pthread_t t;
	int sv[2];

	in = malloc(BIG);
	EXPECT(in && out, "out of memory");
	for (int i = 0; i < BIG; i++)
		out[i] = (char)(i * 7 + i / 4096);
	SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	peer_fd = sv[1];
	atomic_store(&peer_done_ms, 0);

	aiocb_prep(&w, sv[0], out, BIG, 0);
	start = now_ms();
	EXPECT_OK(aio_write(&w));
	EXPECT(pthread_create(&t, NULL, peer, NULL) == 0, "pthread_create failed");
	/* Away from the library: no call into it until the peer has everything or time is up. */
	while (!atomic_load(&peer_done_ms) && now_ms() - start < 5 * limit)
		sleep_ms(1);
	EXPECT(atomic_load(&peer_done_ms),
	       "%s: the peer got no end of the 1 MiB write in %lld ms with the program away", when,
	       (long long)(5 * limit));
	EXPECT(atomic_load(&peer_done_ms) - start <= limit,
	       "%s: the 1 MiB write took %lld ms to reach the peer with the program away (at "
	       "most %lld: the bytes stood still meanwhile)",
	       when, (long long)(atomic_load(&peer_done_ms) - start), (long long)limit);
	pthread_join(t, NULL);
	EXPECT(peer_got == BIG && !memcmp(in, out, BIG),
	       "%s: the peer got %zd bytes, or other bytes", when, peer_got);
	expect_done_ok(&w, BIG, "the 1 MiB aio_write");
	close(sv[0]);
	close(sv[1]);
	free(in);
	free(out);
}

static struct aiocb fifo_read;

static void *fifo_waiter(void *arg)
{
	const struct aiocb *list[1] = {&fifo_read};
	struct timespec limit = {30, 0};

	(void)arg;
	while (aio_error(&fifo_read) == EINPROGRESS &&
	       (aio_suspend(list, 1, &limit) == 0 || errno == EINTR))
		;
	return NULL;
}

/* A thread sleeps in aio_suspend() for a FIFO read, from before the first stream write. */
static void while_another_waits(void)
{
	char buf[16];
	pthread_t t;
	int rfd, wfd;

	fifo_open_pair(&rfd, &wfd);
	aiocb_prep(&fifo_read, rfd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&fifo_read));
	EXPECT(pthread_create(&t, NULL, fifo_waiter, NULL) == 0, "pthread_create failed");
	sleep_ms(100); /* asleep in aio_suspend() */
	write_away("with another thread in aio_suspend()");
	SYSCHECK(write(wfd, "x", 1));
	pthread_join(t, NULL);
	EXPECT(aio_error(&fifo_read) == 0 && aio_return(&fifo_read) == 1, "the FIFO read failed");
	close(rfd);
	close(wfd);
}

/* Each case in a process of its own: each is that process's first stream write. */
static void in_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	SYSCHECK(pid);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	SYSCHECK(waitpid(pid, &status, 0));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		skip("a case skipped (said above)");
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a case failed (status %#x)", status);
}

static void after_notification(void)
{
	SKIP_UNDER_TSAN("when a queued signal reaches its handler (it defers them)");
	busy_then_idle();
	write_away("after a notification");
}

static int test(void)
{
	in_child(while_another_waits);
	in_child(after_notification);
	return 0;
}

TEST_MAIN(test)
