/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The program's own blocking calls are not disturbed by requests that complete while they
 * sleep. A thread submits reads of pipes, then blocks in one of epoll_wait, poll, select,
 * recv(MSG_WAITALL), a pipe read, sem_wait, pthread_cond_timedwait or nanosleep; another
 * thread feeds the pipes meanwhile, then ends the sleep the way the call expects. No signal
 * handler is installed anywhere: the call must not fail with EINTR, return early or return a
 * short count. (io_uring runs completion work in the task that issued a request and breaks
 * that task's sleep for it: a thread of the program must never be that task.)
 */
#include <poll.h>
#include <semaphore.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "common.h"

#define NREQ 8
#define WAITALL (64 * 1024)

enum call { C_EPOLL, C_POLL, C_SELECT, C_RECV, C_READ, C_SEM, C_COND, C_SLEEP, C_COUNT };
static const char *const call_name[C_COUNT] = {
	"epoll_wait", "poll", "select", "recv(MSG_WAITALL)", "read of a pipe", "sem_wait",
	"pthread_cond_timedwait", "nanosleep",
};

static struct {
	enum call call;
	int pipes[NREQ][2];
	int wake[2];   /* what the sleeping call waits on: a pipe, or a socketpair for recv */
	sem_t sem;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool signalled;
} s;

/* Feed the pipes while the other thread sleeps, then end its sleep. */
static void *feeder(void *arg)
{
	static char big[WAITALL];

	(void)arg;
	sleep_ms(50);
	for (int i = 0; i < NREQ; i++) {
		write_all(s.pipes[i][1], "x", 1);
		sleep_ms(5);
	}
	sleep_ms(100);
	switch (s.call) {
	case C_RECV:
		/* In pieces, each after a completion had time to come in. */
		for (int i = 0; i < 4; i++) {
			write_all(s.wake[1], big, WAITALL / 4);
			sleep_ms(20);
		}
		break;
	case C_SEM:
		sem_post(&s.sem);
		break;
	case C_COND:
		pthread_mutex_lock(&s.mu);
		s.signalled = true;
		pthread_cond_signal(&s.cond);
		pthread_mutex_unlock(&s.mu);
		break;
	case C_SLEEP:
		break;
	default:
		write_all(s.wake[1], "w", 1);
		break;
	}
	return NULL;
}

static void sleep_in(enum call c)
{
	static char big[WAITALL];
	const char *what = call_name[c];
	struct timespec ts;
	char ch;
	int ret;

	switch (c) {
	case C_EPOLL: {
		struct epoll_event ev = { .events = EPOLLIN }, out;
		int ep = epoll_create1(0);

		SYSCHECK(ep);
		SYSCHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s.wake[0], &ev));
		ret = epoll_wait(ep, &out, 1, WAIT_DONE_MS);
		EXPECT(ret == 1, "%s returned %d (%s), expected 1 event", what, ret,
		       ret < 0 ? errname(errno) : "timeout");
		close(ep);
		break;
	}
	case C_POLL: {
		struct pollfd p = { .fd = s.wake[0], .events = POLLIN };

		ret = poll(&p, 1, WAIT_DONE_MS);
		EXPECT(ret == 1, "%s returned %d (%s)", what, ret, ret < 0 ? errname(errno) : "");
		break;
	}
	case C_SELECT: {
		struct timeval tv = { WAIT_DONE_MS / 1000, 0 };
		fd_set set;

		FD_ZERO(&set);
		FD_SET(s.wake[0], &set);
		ret = select(s.wake[0] + 1, &set, NULL, NULL, &tv);
		EXPECT(ret == 1, "%s returned %d (%s)", what, ret, ret < 0 ? errname(errno) : "");
		break;
	}
	case C_RECV: {
		ssize_t n = recv(s.wake[0], big, WAITALL, MSG_WAITALL);

		EXPECT(n == WAITALL, "%s returned %zd (%s), expected %d", what, n,
		       n < 0 ? errname(errno) : "short", WAITALL);
		break;
	}
	case C_READ: {
		ssize_t n = read(s.wake[0], &ch, 1);

		EXPECT(n == 1, "%s returned %zd (%s)", what, n, n < 0 ? errname(errno) : "");
		break;
	}
	case C_SEM:
		ret = sem_wait(&s.sem);
		EXPECT(ret == 0, "%s returned %d (%s)", what, ret, ret < 0 ? errname(errno) : "");
		break;
	case C_COND:
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += WAIT_DONE_MS / 1000;
		pthread_mutex_lock(&s.mu);
		ret = 0;
		while (!s.signalled && ret == 0)
			ret = pthread_cond_timedwait(&s.cond, &s.mu, &ts);
		pthread_mutex_unlock(&s.mu);
		EXPECT(ret == 0, "%s returned %s", what, errname(ret));
		break;
	case C_SLEEP: {
		struct timespec req = { 0, 400 * 1000 * 1000 }, rem = { 0, 0 };

		ret = nanosleep(&req, &rem);
		EXPECT(ret == 0, "%s returned %d (%s) with %ld.%09ld s left", what, ret,
		       ret < 0 ? errname(errno) : "", (long)rem.tv_sec, rem.tv_nsec);
		break;
	}
	default:
		break;
	}
}

static void run(enum call c)
{
	struct aiocb cbs[NREQ];
	char bufs[NREQ];
	pthread_t t;

	memset(&s, 0, sizeof(s));
	s.call = c;
	for (int i = 0; i < NREQ; i++) {
		SYSCHECK(pipe(s.pipes[i]));
		aiocb_prep(&cbs[i], s.pipes[i][0], &bufs[i], 1, 0);
		EXPECT_OK(aio_read(&cbs[i]));
	}
	if (c == C_RECV)
		SYSCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s.wake));
	else
		SYSCHECK(pipe(s.wake));
	sem_init(&s.sem, 0, 0);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cond, NULL);
	EXPECT(pthread_create(&t, NULL, feeder, NULL) == 0, "pthread_create failed");
	sleep_in(c);
	pthread_join(t, NULL);
	for (int i = 0; i < NREQ; i++) {
		expect_done_ok(&cbs[i], 1, "a pipe read fed while the program slept");
		close(s.pipes[i][0]);
		close(s.pipes[i][1]);
	}
	close(s.wake[0]);
	close(s.wake[1]);
	sem_destroy(&s.sem);
}

static int test(void)
{
	for (int c = 0; c < C_COUNT; c++)
		run((enum call)c);
	return 0;
}

TEST_MAIN(test)
