/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A libFuzzer harness for the POSIX AIO calls: the input is a program of calls with arbitrary
 * aiocb fields, run against real descriptors (a file, a pipe, a stream socketpair, -1 and a
 * closed number). Each byte string is one run: everything it submits is waited for or
 * cancelled before it returns, so runs do not leak into each other.
 *
 * Invariants checked (a violation aborts with a message, which libFuzzer saves as a crash):
 * no crash or sanitizer report; a submission that fails says EINVAL, EBADF, EAGAIN or ENOSYS;
 * aio_error is EINPROGRESS, 0 or a positive errno, and aio_return matches it (-1 on error,
 * 0..nbytes on success); every accepted request leaves EINPROGRESS once waited for (a
 * bounded wait, or it is a hang); a SIGEV_THREAD request is notified exactly once and only
 * in its own run; no byte outside a request's buffer changes (guard bytes around each).
 * The library's extensions are driven too: aio_readv/aio_writev with random iovec arrays
 * (empty, too long, at a bad address), LIO_FSYNC/LIO_FDSYNC members, and claims through
 * aio_waitcomplete, which must hand out only this run's requests, each once.
 */
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <posixaio.h>

#define SLOTS 16
#define BUF 512
#define GUARD 32
#define GUARD_BYTE 0xa5
#define MAX_OPS 64
#define HANG_MS 5000
#define NFDS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct slot {
	struct aiocb cb;
	bool used;	 /* submitted (or maybe submitted, as a lio_listio member) */
	bool counted;	 /* SIGEV_THREAD on a single submission: exactly one callback */
	bool vec;	 /* aio_readv/aio_writev: aio_buf is iov, vlen bytes in all */
	size_t vlen;
	struct iovec iov[4];
	unsigned char mem[GUARD + BUF + GUARD];
};

static struct slot slots[SLOTS];
static atomic_int notified[SLOTS];
static atomic_int stray;
static unsigned run_id;
static int fds[NFDS]; /* file, pipe r, pipe w, sock a, sock b, -1, closed, file again */
static int feeders[2]; /* pipe write end, socket peer: feed and drain */

struct input {
	const uint8_t *p;
	size_t left;
};

static unsigned get(struct input *in, unsigned bytes)
{
	unsigned v = 0;

	while (bytes--) {
		v <<= 8;
		if (in->left) {
			v |= *in->p++;
			in->left--;
		}
	}
	return v;
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_api invariant broken: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(descriptors: file %d, pipe %d/%d, socketpair %d/%d, closed %d)\n",
		fds[0], fds[1], fds[2], fds[3], fds[4], fds[6]);
	abort();
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_thread(union sigval v)
{
	unsigned id = (unsigned)v.sival_int;

	if (id >> 8 != (run_id & 0xffffff) || (id & 0xff) >= SLOTS) {
		atomic_fetch_add(&stray, 1);
		return;
	}
	atomic_fetch_add(&notified[id & 0xff], 1);
}

static void on_signal(int sig)
{
	(void)sig;
}

static void setup(void)
{
	char path[] = "/tmp/posixaio-fuzz-XXXXXX";
	int p[2], s[2], f, closed;
	struct sigaction sa;

	f = mkstemp(path);
	if (f == -1 || unlink(path) == -1 || ftruncate(f, 65536) == -1)
		die("cannot make the scratch file: %s", strerror(errno));
	if (pipe(p) == -1 || socketpair(AF_UNIX, SOCK_STREAM, 0, s) == -1)
		die("cannot make the pipe or socketpair");
	closed = dup(f);
	close(closed);
	closed = 1000;
	while (fcntl(closed, F_GETFD) != -1)
		closed++;
	fds[0] = f;
	fds[1] = p[0];
	fds[2] = p[1];
	fds[3] = s[0];
	fds[4] = s[1];
	fds[5] = -1;
	fds[6] = closed;
	fds[7] = f;
	feeders[0] = p[1];
	feeders[1] = s[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGRTMIN + 5, &sa, NULL);
}

static void check_guards(int i)
{
	const unsigned char *m = slots[i].mem;

	for (int k = 0; k < GUARD; k++)
		if (m[k] != GUARD_BYTE || m[GUARD + BUF + k] != GUARD_BYTE)
			die("slot %d: a guard byte changed: something wrote outside the buffer", i);
}

/* Fill slot i's aiocb from the input; false if the slot is busy. */
static bool prep(struct input *in, int i, int opcode, bool for_wait)
{
	struct slot *s = &slots[i];
	unsigned off = get(in, 2) % BUF, len = get(in, 2) % (BUF + 1), how = get(in, 1);
	int fd = fds[get(in, 1) % NFDS];

	if (s->used)
		return false;
	if (off + len > BUF)
		len = BUF - off;
	/* A LIO_WAIT list must not wait on a stream nobody feeds: use the file there. */
	if (for_wait && fd >= 0 && fd != fds[0] && fd != fds[6])
		fd = fds[0];
	memset(&s->cb, 0, sizeof(s->cb));
	s->vec = false;
	s->vlen = 0;
	memset(s->mem, GUARD_BYTE, sizeof(s->mem));
	for (unsigned k = 0; k < BUF; k++)
		s->mem[GUARD + k] = (unsigned char)(k + how);
	s->cb.aio_fildes = fd;
	s->cb.aio_buf = s->mem + GUARD + off;
	s->cb.aio_nbytes = len;
	s->cb.aio_lio_opcode = opcode;
	switch (how & 3) {
	case 0: s->cb.aio_offset = (off_t)get(in, 2) * 16; break;
	case 1: s->cb.aio_offset = -(off_t)get(in, 1); break;
	case 2: s->cb.aio_offset = (off_t)get(in, 4) << 12; break;
	default: s->cb.aio_offset = get(in, 2); break;
	}
	s->cb.aio_reqprio = (how & 4) ? (int)(int8_t)get(in, 1) : 0;
	switch ((how >> 3) & 7) {
	case 1:
		s->cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
		s->cb.aio_sigevent.sigev_signo = SIGRTMIN + 5;
		break;
	case 2:
		s->cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
		s->cb.aio_sigevent.sigev_notify_function = on_thread;
		s->cb.aio_sigevent.sigev_value.sival_int = (int)(((run_id & 0xffffff) << 8) | i);
		break;
	case 3:
		s->cb.aio_sigevent.sigev_notify = (int)get(in, 1); /* usually invalid */
		s->cb.aio_sigevent.sigev_signo = SIGRTMIN + 5;
		break;
	default:
		s->cb.aio_sigevent.sigev_notify = SIGEV_NONE;
		break;
	}
	return true;
}

static void check_submit_errno(int ret, const char *call)
{
	if (ret == -1 && errno != EINVAL && errno != EBADF && errno != EAGAIN && errno != ENOSYS)
		die("%s failed with errno %d (%s)", call, errno, strerror(errno));
}

/* Check the result of a slot that finished (err, ret as aio_error/aio_return say); free it. */
static void settle(int i, int err, ssize_t ret)
{
	struct slot *s = &slots[i];
	size_t max = s->vec ? s->vlen : s->cb.aio_nbytes;

	if (err < 0 || err > 4095)
		die("slot %d: aio_error %d", i, err);
	if (err == 0 && (ret < 0 || (size_t)ret > max))
		die("slot %d: success with aio_return %zd for %zu bytes", i, ret, max);
	if (err != 0 && ret != -1)
		die("slot %d: aio_error %d with aio_return %zd", i, err, ret);
	check_guards(i);
	if (s->counted) {
		/* The callback follows the result: wait for it before the slot is reused. */
		int64_t deadline = now_ms() + HANG_MS;

		while (atomic_load(&notified[i]) == 0 && now_ms() < deadline)
			usleep(100);
		if (atomic_load(&notified[i]) != 1)
			die("slot %d: SIGEV_THREAD notified %d times, expected once (op %d, fd %d, "
			    "%zu bytes at %lld, aio_error %d)", i, atomic_load(&notified[i]),
			    s->cb.aio_lio_opcode, s->cb.aio_fildes, s->cb.aio_nbytes,
			    (long long)s->cb.aio_offset, err);
		s->counted = false;
	}
	s->used = false;
	s->vec = false;
}

static void reap(int i)
{
	int err = aio_error(&slots[i].cb);

	if (err == EINPROGRESS)
		return;
	settle(i, err, aio_return(&slots[i].cb));
}

/* Claim whatever aio_waitcomplete() hands out now: one of this run's requests, once. */
static void op_claim(void)
{
	struct timespec zero = {0, 0};
	struct aiocb *cb = (struct aiocb *)&zero;
	ssize_t ret;
	long i;

	errno = 0;
	ret = aio_waitcomplete(&cb, &zero);
	if (!cb) {
		if (ret != -1 || errno != EAGAIN)
			die("aio_waitcomplete without a request: %zd, errno %d", ret, errno);
		return;
	}
	i = (struct slot *)(void *)cb - slots;
	if (i < 0 || i >= SLOTS || cb != &slots[i].cb || !slots[i].used)
		die("aio_waitcomplete handed out %p, not a request in flight", (void *)cb);
	if (aio_error(cb) == EINPROGRESS)
		die("aio_waitcomplete handed out slot %ld still in progress", i);
	if ((ret == -1) != (aio_error(cb) != 0) || (ret == -1 && errno != aio_error(cb)))
		die("aio_waitcomplete said %zd (errno %d), aio_error says %d", ret, errno,
		    aio_error(cb));
	settle((int)i, aio_error(cb), ret);
}

/* Turn slot i's buffer into an iovec array of 0 to 4 pieces, too many, or a bad address. */
static void make_vec(struct input *in, int i)
{
	struct slot *s = &slots[i];
	unsigned char *base = (unsigned char *)s->cb.aio_buf;
	size_t len = s->cb.aio_nbytes, at = 0;
	unsigned shape = get(in, 1), n = shape % 6;

	s->vec = true;
	s->vlen = 0;
	if (n == 5) {
		s->cb.aio_buf = s->iov;
		s->cb.aio_nbytes = IOV_MAX + 1;
		return;
	}
	for (unsigned k = 0; k < n; k++) {
		size_t piece = k + 1 == n ? len - at : (len - at) * (get(in, 1) % 5) / 4;

		s->iov[k].iov_base = base + at;
		s->iov[k].iov_len = piece;
		at += piece;
	}
	s->vlen = at;
	s->cb.aio_buf = (shape & 0x80) ? (void *)16 : s->iov;
	s->cb.aio_nbytes = n;
}

static void op_submit(struct input *in)
{
	int i = (int)(get(in, 1) % SLOTS), kind = (int)get(in, 1) % 6, ret;
	static const int opcode[] = {LIO_READ, LIO_WRITE, LIO_NOP, LIO_NOP, LIO_READV, LIO_WRITEV};

	if (!prep(in, i, opcode[kind], false))
		return;
	if (kind >= 4)
		make_vec(in, i);
	/* Before the submission: the callback may run before aio_write() returns. */
	atomic_store(&notified[i], 0);
	errno = 0;
	switch (kind) {
	case 0: ret = aio_read(&slots[i].cb); break;
	case 1: ret = aio_write(&slots[i].cb); break;
	case 2:
		slots[i].cb.aio_lio_opcode = 100; /* marks an fsync in messages */
		ret = aio_fsync(O_SYNC, &slots[i].cb);
		break;
	case 3:
		slots[i].cb.aio_lio_opcode = 101;
		ret = aio_fsync(O_DSYNC, &slots[i].cb);
		break;
	case 4: ret = aio_readv(&slots[i].cb); break;
	default: ret = aio_writev(&slots[i].cb); break;
	}
	check_submit_errno(ret, "a submission");
	if (ret == 0) {
		slots[i].used = true;
		slots[i].counted = slots[i].cb.aio_sigevent.sigev_notify == SIGEV_THREAD;
	}
}

static void op_lio(struct input *in)
{
	struct aiocb *list[8];
	int n = (int)get(in, 1) % 9, mode = (get(in, 1) & 1) ? LIO_WAIT : LIO_NOWAIT, ret;
	int idx[8], m = 0;
	static const int opcodes[] = {LIO_READ, LIO_WRITE, LIO_NOP, 77, LIO_FSYNC, LIO_FDSYNC};

	for (int k = 0; k < n; k++) {
		int i = (int)(get(in, 1) % SLOTS);

		if (slots[i].used) {
			list[k] = NULL;
			continue;
		}
		bool dup = false;

		for (int j = 0; j < m; j++)
			dup |= idx[j] == i;
		if (dup || !prep(in, i, opcodes[get(in, 1) % 6], mode == LIO_WAIT)) {
			list[k] = NULL;
			continue;
		}
		/* lio_listio members: SIGEV_NONE or a signal, never counted. */
		if (slots[i].cb.aio_sigevent.sigev_notify == SIGEV_THREAD)
			slots[i].cb.aio_sigevent.sigev_notify = SIGEV_NONE;
		list[k] = &slots[i].cb;
		idx[m++] = i;
	}
	errno = 0;
	ret = lio_listio(mode, list, n, NULL);
	if (ret == -1 && errno != EINVAL && errno != EAGAIN && errno != EIO && errno != EINTR &&
	    errno != ENOSYS)
		die("lio_listio failed with errno %d (%s)", errno, strerror(errno));
	/* Any member may have been submitted: wait for each like a submitted request. */
	for (int j = 0; j < m; j++) {
		slots[idx[j]].used = true;
		slots[idx[j]].counted = false;
	}
}

static void op_cancel(struct input *in)
{
	int i = (int)(get(in, 1) % SLOTS), ret;
	int fd = fds[get(in, 1) % NFDS];

	errno = 0;
	if (slots[i].used && (get(in, 1) & 1))
		ret = aio_cancel(slots[i].cb.aio_fildes, &slots[i].cb);
	else
		ret = aio_cancel(fd, NULL);
	if (ret == -1 && errno != EBADF && errno != EINVAL)
		die("aio_cancel failed with errno %d", errno);
	if (ret != -1 && ret != AIO_CANCELED && ret != AIO_NOTCANCELED && ret != AIO_ALLDONE)
		die("aio_cancel returned %d", ret);
}

static void op_suspend(struct input *in)
{
	const struct aiocb *list[SLOTS];
	struct timespec ts = {0, (long)(get(in, 1) % 4) * 100000};
	int n = 0, ret;

	for (int i = 0; i < SLOTS; i++)
		list[n++] = slots[i].used ? &slots[i].cb : NULL;
	errno = 0;
	ret = aio_suspend(list, n, &ts);
	if (ret == -1 && errno != EAGAIN && errno != EINTR)
		die("aio_suspend failed with errno %d", errno);
}

static void feed(int which, unsigned len)
{
	static const char bytes[BUF];

	fcntl(feeders[which], F_SETFL, O_NONBLOCK);
	if (write(feeders[which], bytes, len % BUF + 1) < 0 && errno != EAGAIN)
		die("feeding the stream failed: %s", strerror(errno));
	fcntl(feeders[which], F_SETFL, 0);
}

/* Empty both streams in both directions without blocking. */
static void drain(void)
{
	char buf[4096];
	int ends[] = {fds[1], fds[3], fds[4]};

	for (int k = 0; k < 3; k++) {
		int fl = fcntl(ends[k], F_GETFL);

		fcntl(ends[k], F_SETFL, fl | O_NONBLOCK);
		while (read(ends[k], buf, sizeof(buf)) > 0)
			;
		fcntl(ends[k], F_SETFL, fl);
	}
}

/* Cancel and wait for everything this run started, then check its notifications. */
static void finish(void)
{
	int64_t deadline = now_ms() + HANG_MS;

	for (int i = 0; i < SLOTS; i++)
		if (slots[i].used && slots[i].cb.aio_fildes >= 0)
			aio_cancel(slots[i].cb.aio_fildes, &slots[i].cb);
	for (;;) {
		bool busy = false;

		for (int i = 0; i < SLOTS; i++) {
			if (!slots[i].used)
				continue;
			reap(i);
			busy |= slots[i].used;
		}
		if (!busy)
			break;
		if (now_ms() > deadline) {
			for (int i = 0; i < SLOTS; i++)
				if (slots[i].used)
					fprintf(stderr, "stuck: slot %d op %d fd %d %zu bytes at %lld, "
						"sigev %d, aio_error %d\n", i,
						slots[i].cb.aio_lio_opcode, slots[i].cb.aio_fildes,
						slots[i].cb.aio_nbytes,
						(long long)slots[i].cb.aio_offset,
						slots[i].cb.aio_sigevent.sigev_notify,
						aio_error(&slots[i].cb));
			die("requests still in progress %d ms after they were cancelled", HANG_MS);
		}
		/* Requests the cancel could not stop: feed pending reads, drain pending writes. */
		feed(0, BUF);
		feed(1, BUF);
		drain();
		usleep(1000);
	}
	drain();
	if (atomic_load(&stray))
		die("%d SIGEV_THREAD notifications arrived for a request of another run",
		    atomic_load(&stray));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct input in = {data, size};

	if (!ready) {
		setup();
		ready = true;
	}
	run_id++;
	for (int ops = 0; ops < MAX_OPS && in.left; ops++) {
		unsigned op = get(&in, 1);

		switch (op % 9) {
		case 0:
		case 1: op_submit(&in); break;
		case 2: op_lio(&in); break;
		case 3: op_cancel(&in); break;
		case 4: op_suspend(&in); break;
		case 5: {
			int i = (int)(get(&in, 1) % SLOTS);

			if (slots[i].used)
				reap(i);
			break;
		}
		case 6: feed(get(&in, 1) & 1, get(&in, 2)); break;
		case 7: drain(); break;
		default: op_claim(); break;
		}
	}
	finish();
	return 0;
}
