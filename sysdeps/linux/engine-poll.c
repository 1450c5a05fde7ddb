/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The poll part of the native AIO engine: reads and writes on pipes, FIFOs, sockets, ttys
 * and character devices, done without blocking and without touching the caller's O_NONBLOCK.
 * The io_uring engine gives it its pipes, FIFOs and sockets too (engine-uring.c says why).
 *
 * A request is tried at once (in a submitting call, one of at most SUBMIT_MOVE_MAX bytes:
 * glibc's aio_write() returns in microseconds however much a socket would take; nor does a
 * submitting call move other streams it finds ready, engine-kaio.c's reap); only when the
 * descriptor is not ready (EAGAIN) does it wait in the epoll set, for the one direction it
 * needs, and it is tried again when epoll reports the descriptor. The core keeps at most one
 * read and one write in flight per stream descriptor, so a descriptor has at most one
 * waiting request each way. Every transfer happens with core.lock held, so a cancellation
 * never races one: a request cancelled while waiting has moved no byte. While a request
 * waits, the stream holds a duplicate of the caller's descriptor (fdhold.c), registered in
 * the epoll set and used for the transfers, as io_uring holds the file of a pending request:
 * a program that closes its descriptor meanwhile neither strands the request (the file
 * stays open, so its data can still come) nor sends it to another file that takes the
 * number. Registrations are one-shot.
 *
 * How a transfer avoids blocking depends on the descriptor, chosen when the descriptor gets a
 * request after being idle (a descriptor number may have been reused since; a socket's or a
 * pipe's way is kept while the core finds the number naming the same file, resume()):
 *  - sockets: recv/send with MSG_DONTWAIT;
 *  - pipes: preadv2 and pwritev2 with RWF_NOWAIT;
 *  - FIFOs and ttys, which refuse RWF_NOWAIT: a private open file description of the same
 *    file from /proc/self/fd/N with the caller's access mode and O_NONBLOCK, kept only while
 *    requests are in flight (an extra FIFO writer would hide end-of-file from readers);
 *    where /proc cannot be reached (a container without it), readiness first and then
 *    transfers that cannot block: a read sized by FIONREAD, writes in PIPE_BUF pieces (what
 *    a pipe reporting POLLOUT surely takes);
 *  - other character devices, and a pty master (reopened, it would be a new pty): readiness
 *    first, then plain read(2) and write(2), which a ready device serves without blocking.
 *    A device reopened could be a new session of it, and RWF_NOWAIT is not used even where
 *    allowed: /dev/zero then stops short whenever the scheduler wants the CPU back. A tty
 *    transfer is sized not to block: FIONREAD for a read, 256-byte pieces for a write (what
 *    the tty layer takes when it reports POLLOUT).
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "engine-poll.h"
#include "fdtab.h"

#define TTY_CHUNK 256       /* WAKEUP_CHARS: a tty reporting POLLOUT takes this much */
#define SUBMIT_MOVE_MAX (64 * 1024) /* the most a submitting call moves itself */
#define EVENT_BATCH 64
#define TAG_EXTERNAL UINT64_MAX /* the epoll tag of the descriptor poll_init() was given */

#ifndef RWF_NOSIGNAL
#define RWF_NOSIGNAL 0x00000100 /* Linux 6.18: a write with no reader fails, raising no SIGPIPE */
#endif

#define RD_READY (EPOLLIN | EPOLLHUP | EPOLLERR)
#define WR_READY (EPOLLOUT | EPOLLHUP | EPOLLERR)

enum how {
	HOW_UNKNOWN,
	HOW_SOCK,   /* recv/send with MSG_DONTWAIT */
	HOW_NOWAIT, /* preadv2/pwritev2 with RWF_NOWAIT */
	HOW_REOPEN, /* read/write on a private O_NONBLOCK open file description */
	HOW_READY,  /* wait for readiness, then a transfer that cannot block */
};

struct stream {
	struct req *rd, *wr; /* requests waiting for readiness */
	uint32_t events;     /* directions enabled in the epoll set; 0: none */
	bool in_set;         /* registered, maybe disabled by a one-shot report */
	bool chr, tty, fifo;
	uint8_t how;
	uint8_t kept; /* HOW_SOCK or HOW_NOWAIT: how, for dev and ino, while idle; else 0 */
	int msg_flags; /* MSG_EOR on a SOCK_SEQPACKET socket, as write(2) adds it */
	dev_t dev;     /* the file setup() looked at */
	ino64_t ino;
	int priv;      /* HOW_REOPEN: the private description, else -1 */
	int hold;      /* while a request waits: a duplicate of the caller's descriptor, or -1 */
	bool serving;  /* serve() completes its requests: what they issue next reuses the above */
};

static struct {
	int epfd;
	struct fdtab s; /* struct stream * by descriptor */
	unsigned armed; /* streams with directions enabled; atomic */
	bool stale;     /* a registration may outlive its descriptor; atomic */
	bool served;    /* a program thread served the set since the last poll_served_lately() */
	bool bg_away;   /* the background thread sleeps without the set (core.lock) */
	int nosignal;   /* RWF_NOSIGNAL, or 0 once the kernel refused it; atomic */
} polls = { .epfd = -1, .s = FDTAB_INIT(struct stream *), .nosignal = RWF_NOSIGNAL };

static ssize_t sys_ret(ssize_t n)
{
	return n < 0 ? -errno : n;
}

static struct stream *stream_find(int fd)
{
	struct stream **slot = fdtab_find(&polls.s, fd);

	return slot ? *slot : NULL;
}

static struct stream *stream_get(int fd)
{
	struct stream **slot = fdtab_get(&polls.s, fd);

	if (!slot)
		return NULL;
	if (!*slot) {
		*slot = calloc(1, sizeof(struct stream));
		if (*slot) {
			(*slot)->priv = -1;
			(*slot)->hold = -1;
		}
	}
	return *slot;
}

static bool reopen(struct stream *s, int fd)
{
	char path[40];
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	s->priv = ownfd_new(open(path, (fl & O_ACCMODE) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC),
			    false);
	if (s->priv < 0)
		s->priv = -1;
	return s->priv >= 0;
}

static bool is_pty_master(int fd)
{
	unsigned n;

	return ioctl(fd, TIOCGPTN, &n) == 0;
}

/* Called when the descriptor gets a request after being idle. */
static void setup(struct stream *s, int fd)
{
	struct termios tio;
	struct stat64 st;

	s->how = HOW_NOWAIT;
	s->kept = 0;
	s->chr = s->tty = s->fifo = false;
	s->msg_flags = 0;
	if (fstat64(fd, &st) < 0)
		return; /* the transfer reports the error */
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->fifo = S_ISFIFO(st.st_mode);
	if (S_ISSOCK(st.st_mode)) {
		socklen_t len = sizeof(int);
		int type = 0;

		s->how = s->kept = HOW_SOCK;
		if (!getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) && type == SOCK_SEQPACKET)
			s->msg_flags = MSG_EOR;
		return;
	}
	s->chr = S_ISCHR(st.st_mode);
	if (!s->chr) {
		s->kept = HOW_NOWAIT;
		return;
	}
	s->how = HOW_READY;
	if (tcgetattr(fd, &tio) < 0)
		return;
	s->tty = true;
	if (!is_pty_master(fd) && reopen(s, fd))
		s->how = HOW_REOPEN;
}

/*
 * Does r's descriptor name the file setup() looked at? The core checked it for r with an
 * fstat() of its own (fdq_file()).
 */
static bool set_up_for(const struct stream *s, const struct req *r)
{
	dev_t dev;
	ino64_t ino;

	return fdq_file(r, &dev, &ino) && dev == s->dev && ino == s->ino;
}

/*
 * The stream was idle: its way of moving holds if r is for the file it was set up for. Only
 * the ways that keep nothing open are kept.
 */
static bool resume(struct stream *s, const struct req *r)
{
	if (!s->kept || !set_up_for(s, r))
		return false;
	s->how = s->kept;
	return true;
}

/* RWF_NOWAIT refused: a FIFO is reopened, a character device waits for readiness. */
static void nowait_refused(struct stream *s, int fd)
{
	s->kept = 0;
	s->how = !s->chr && reopen(s, fd) ? HOW_REOPEN : HOW_READY;
}

/* The descriptor a waiting request's transfers and registration use. */
static int io_fd(const struct stream *s, int fd)
{
	return s->hold >= 0 ? s->hold : fd;
}

/* The program closed a descriptor the stream holds (ownfd.c): never use the number again. */
static bool stream_lost(const struct stream *s)
{
	return (s->hold >= 0 && ownfd_lost(s->hold)) || (s->priv >= 0 && ownfd_lost(s->priv));
}

/*
 * Nothing waits, and serve() kept what the stream was set up with for the next request: r
 * may use it if it is for that file and the program did not close the duplicate meanwhile
 * (r's own descriptor may be fine: a new one is made).
 */
static bool still_set_up(const struct stream *s, const struct req *r)
{
	return s->serving && !stream_lost(s) && set_up_for(s, r);
}

/* Lock-free: polls.epfd is written with core.lock held, as an atomic. */
bool poll_lost(void)
{
	int epfd = __atomic_load_n(&polls.epfd, __ATOMIC_RELAXED);

	return epfd < 0 || ownfd_lost(epfd);
}

/* Called after arm(): nothing waits, let go of the file. */
static void release_if_idle(struct stream *s)
{
	if (s->rd || s->wr)
		return;
	ownfd_close(s->priv);
	if (s->hold >= 0) {
		/* A one-shot report leaves the registration in the set, disabled. */
		if (s->in_set && !poll_lost() && !ownfd_lost(s->hold))
			epoll_ctl(polls.epfd, EPOLL_CTL_DEL, s->hold, NULL);
		s->in_set = false;
		ownfd_close(s->hold);
	}
	s->priv = -1;
	s->hold = -1;
	s->how = HOW_UNKNOWN;
}

static uint32_t ready_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events, .revents = 0 };

	return poll(&p, 1, 0) > 0 ? (uint32_t)p.revents : 0;
}

/*
 * A blocking FIFO read with nothing in the pipe waits for a writer, even after POLLHUP if
 * one opened it since: it is sized by FIONREAD, and end-of-file is answered here.
 */
static ssize_t ready_read_fifo(int fd, char *buf, size_t len)
{
	int avail;

	if (ioctl(fd, FIONREAD, &avail) < 0)
		return -errno;
	if (avail > 0)
		return sys_ret(read(fd, buf, (size_t)avail < len ? (size_t)avail : len));
	if (!len)
		return 0;
	/* No data: end-of-file if no writer holds it now, else wait for data. */
	return ready_now(fd, POLLIN) & POLLHUP ? 0 : -EAGAIN;
}

static ssize_t ready_read(struct stream *s, int fd, char *buf, size_t len, uint32_t revents)
{
	int avail;

	if (!(revents & RD_READY))
		revents = ready_now(fd, POLLIN);
	if (!(revents & RD_READY))
		return -EAGAIN;
	if (s->fifo)
		return ready_read_fifo(fd, buf, len);
	/* A tty read blocks while its line discipline holds nothing it may hand over. */
	if (s->tty && !(revents & (EPOLLHUP | EPOLLERR)) && ioctl(fd, FIONREAD, &avail) == 0) {
		if (avail <= 0)
			return -EAGAIN;
		if ((size_t)avail < len)
			len = (size_t)avail;
	}
	return sys_ret(read(fd, buf, len));
}

/*
 * What a descriptor reporting POLLOUT surely takes in one write: a tty TTY_CHUNK, a pipe or
 * FIFO PIPE_BUF (a free slot); 0 for other devices, which are given the whole buffer.
 */
static size_t ready_chunk(const struct stream *s)
{
	return s->tty ? TTY_CHUNK : s->fifo ? PIPE_BUF : 0;
}

static ssize_t ready_write(struct stream *s, int fd, const char *buf, size_t len,
			   uint32_t revents)
{
	size_t done = 0, chunk = ready_chunk(s);

	if (!(revents & WR_READY))
		revents = ready_now(fd, POLLOUT);
	if (!(revents & WR_READY))
		return -EAGAIN;
	if (!chunk)
		return sys_ret(write(fd, buf, len));
	while (done < len) {
		size_t n = len - done < chunk ? len - done : chunk;
		ssize_t w;

		if (done && !(ready_now(fd, POLLOUT) & WR_READY))
			break;
		w = write(fd, buf + done, n);
		if (w < 0)
			return done ? (ssize_t)done : -errno;
		done += (size_t)w;
		if ((size_t)w < n)
			break;
	}
	return (ssize_t)done;
}

/* One transfer that does not block: bytes moved or -errno; -EAGAIN when not ready. */
static ssize_t transfer_locked(struct stream *s, struct req *r, uint32_t revents);

/*
 * The first entry of the caller's v[n] that holds bytes, or the last (a zero-length
 * transfer), copied by the kernel: the array has not been through a system call yet and
 * may be a bad address, which must come back as EFAULT, not crash the library.
 */
static int first_nonempty(const struct iovec *v, int n, struct iovec *out)
{
	struct iovec local = { out, sizeof(*out) };
	struct iovec remote = { (void *)v, sizeof(*out) };

	for (int i = 0; i < n; i++, remote.iov_base = (void *)(v + i)) {
		ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

		if (got < 0 && (errno == ENOSYS || errno == EPERM))
			*out = v[i]; /* the call is filtered out (seccomp): read it ourselves */
		else if (got != (ssize_t)sizeof(*out))
			return -EFAULT;
		if (out->iov_len)
			return 0;
	}
	return 0;
}

/*
 * transfer() without the SIGPIPE guard. wflags: RWF_NOSIGNAL for a write to a pipe or FIFO,
 * which then answers -EOPNOTSUPP if refused (a kernel before 6.18), or 0.
 */
static ssize_t transfer_nb(struct stream *s, struct req *r, uint32_t revents, int wflags)
{
	struct iovec one = { NULL, 0 }, first;
	struct req_view v;
	const struct iovec *iov;
	int cnt, err = req_view(r, r->moved, &one, &v);
	bool rd = r->op == OP_READ;
	size_t len;
	ssize_t n;

	if (err < 0)
		return err;
	cnt = v.iovcnt;
	iov = v.iov;
	if (cnt == 0)
		return 0;
	len = one.iov_len;

	switch (s->how) {
	case HOW_SOCK: {
		struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt };

		if (rd && !len && iov == &one)
			return 0; /* read(2) of nothing on a socket consumes no datagram */
		n = rd ? recvmsg(io_fd(s, r->fd), &msg, MSG_DONTWAIT)
		       : sendmsg(io_fd(s, r->fd), &msg, MSG_DONTWAIT | MSG_NOSIGNAL | s->msg_flags);
		if (n < 0 && errno == ENOTSOCK) {
			/* A kept way, and the number was closed where close() cannot see it. */
			setup(s, io_fd(s, r->fd));
			if (s->how != HOW_SOCK)
				return transfer_locked(s, r, revents); /* with its guard */
		}
		return sys_ret(n);
	}
	case HOW_NOWAIT:
		n = rd ? preadv2(io_fd(s, r->fd), iov, cnt, -1, RWF_NOWAIT)
		       : pwritev2(io_fd(s, r->fd), iov, cnt, -1, RWF_NOWAIT | wflags);
		if (n >= 0 || errno != EOPNOTSUPP)
			return sys_ret(n);
		if (!rd && wflags)
			return -EOPNOTSUPP; /* which flag: transfer_locked() asks again without */
		nowait_refused(s, io_fd(s, r->fd));
		return transfer_nb(s, r, revents, 0); /* (a write here asked for no flag) */
	case HOW_REOPEN:
		if (rd)
			return sys_ret(readv(s->priv, iov, cnt));
		return sys_ret(wflags ? pwritev2(s->priv, iov, cnt, -1, wflags)
				      : writev(s->priv, iov, cnt));
	default:
		/* Readiness paths move one buffer at a time: a stream takes a partial transfer. */
		first = one;
		if (iov != &one && first_nonempty(iov, cnt, &first) < 0)
			return -EFAULT;
		len = first.iov_len > MAX_RW ? MAX_RW : first.iov_len;
		return rd ? ready_read(s, io_fd(s, r->fd), first.iov_base, len, revents)
			  : ready_write(s, io_fd(s, r->fd), first.iov_base, len, revents);
	}
}

/*
 * A write to a pipe or FIFO whose reader is gone raises SIGPIPE in the writing thread, which
 * may be one of the program's (glibc's workers block every signal: the program never sees
 * one). Linux 6.18 can be asked not to raise it (RWF_NOSIGNAL, transfer_locked()). Where it
 * refuses, and for writes that cannot carry the flag, the signal is blocked around the
 * write, and the one the write raised, if it failed with EPIPE, is taken back before the
 * mask is restored; one that was pending already is the program's and stays. Two system
 * calls around a write in the common case: where the thread let SIGPIPE through, none can be
 * pending for it (it would have run), so only a thread that blocked it already is asked what
 * is pending, and its mask needs no restoring. A thread of the library's own blocks every
 * signal for good: nothing to do there but take back what a write raised.
 */
struct pipe_guard {
	sigset_t old;
	bool pending; /* a SIGPIPE was pending before the write */
	bool restore; /* the mask was changed */
};

static void pipe_guard_on(struct pipe_guard *pg)
{
	sigset_t set;

	pg->pending = pg->restore = false;
	if (ownfd_is_internal())
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &pg->old);
	if (!sigismember(&pg->old, SIGPIPE))
		pg->restore = true;
	else
		pg->pending = sigpending(&set) == 0 && sigismember(&set, SIGPIPE);
}

static ssize_t pipe_guard_off(struct pipe_guard *pg, ssize_t n)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t set;

	if (n == -EPIPE && !pg->pending) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	if (pg->restore)
		pthread_sigmask(SIG_SETMASK, &pg->old, NULL);
	return n; /* errno: the exported call that got here gives the program's back */
}

/* A transfer on the stream's descriptors, which stay the library's meanwhile (ownfd.c). */
static ssize_t transfer(struct stream *s, struct req *r, uint32_t revents)
{
	ssize_t n;

	ownfd_enter();
	n = stream_lost(s) ? -ECANCELED : transfer_locked(s, r, revents);
	ownfd_done();
	return n;
}

/*
 * A write to a pipe or FIFO asks the kernel not to raise SIGPIPE (RWF_NOSIGNAL, Linux 6.18)
 * where it can; the guard's two system calls around every write are for kernels that refuse
 * it. EOPNOTSUPP does not say which flag was refused: a named FIFO refuses RWF_NOWAIT too
 * (and is reopened, nowait_refused()). So the write is done again under the guard, and the
 * flag is forgotten only if the same way took it then (else the first write to any FIFO
 * turned it off for every pipe of the process).
 */
static ssize_t transfer_locked(struct stream *s, struct req *r, uint32_t revents)
{
	int nosignal = __atomic_load_n(&polls.nosignal, __ATOMIC_RELAXED);
	uint8_t refused_how = HOW_UNKNOWN; /* the way that was refused with the flag, if any */
	struct pipe_guard pg;
	ssize_t n;

	if (r->op == OP_READ || s->how == HOW_SOCK)
		return transfer_nb(s, r, revents, 0); /* (MSG_NOSIGNAL) */
	if (nosignal && (s->how == HOW_NOWAIT || s->how == HOW_REOPEN)) {
		n = transfer_nb(s, r, revents, nosignal);
		if (n != -EOPNOTSUPP)
			return n;
		refused_how = s->how;
	}
	pipe_guard_on(&pg);
	n = pipe_guard_off(&pg, transfer_nb(s, r, revents, 0));
	if (refused_how != HOW_UNKNOWN && s->how == refused_how && n != -EOPNOTSUPP)
		__atomic_store_n(&polls.nosignal, 0, __ATOMIC_RELAXED);
	return n;
}

static void set_events(struct stream *s, uint32_t events)
{
	LOCK_HELD();
	if (!s->events && events) {
		if (__atomic_add_fetch(&polls.armed, 1, __ATOMIC_RELAXED) == 1 && polls.bg_away) {
			polls.bg_away = false;
			bg_wake(); /* the first stream to wait: it must watch the set again */
		}
	} else if (s->events && !events) {
		__atomic_sub_fetch(&polls.armed, 1, __ATOMIC_RELAXED);
	}
	s->events = events;
}

/*
 * Make the epoll set watch exactly the directions that have a waiting request. 0 or -errno.
 * fresh: a request just submitted on fd, which may name a new file since the last one;
 * otherwise the requests wait for the file they were submitted for, and a registration
 * gone (that file was closed, and the number may now name another) is -ECANCELED: they
 * must never touch another file.
 */
static int arm_locked(struct stream *s, int fd, bool fresh);

/* The epoll set and the stream's descriptors stay the library's meanwhile (ownfd.c). */
static int arm(struct stream *s, int fd, bool fresh)
{
	int ret;

	ownfd_enter();
	ret = arm_locked(s, fd, fresh);
	ownfd_done();
	return ret;
}

static int arm_locked(struct stream *s, int fd, bool fresh)
{
	uint32_t want = (s->rd ? EPOLLIN : 0) | (s->wr ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want | EPOLLONESHOT, .data.u64 = (uint64_t)fd };
	int ret;

	if (want == s->events)
		return 0;
	if (stream_lost(s) || poll_lost()) {
		/* Its registration went with the number; the set is the program's number now. */
		s->in_set = false;
		set_events(s, 0);
		return want ? -ECANCELED : 0;
	}
	if (!want) {
		/* A closed descriptor may leave its registration behind: it reports once. */
		if (epoll_ctl(polls.epfd, EPOLL_CTL_DEL, io_fd(s, fd), NULL) < 0 && errno != ENOENT)
			__atomic_store_n(&polls.stale, true, __ATOMIC_RELAXED);
		s->in_set = false;
		set_events(s, 0);
		return 0;
	}
	ret = epoll_ctl(polls.epfd, s->in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, io_fd(s, fd), &ev);
	if (ret < 0 && errno == ENOENT && !fresh)
		return -ECANCELED;
	if (ret < 0 && errno == ENOENT) /* the number now names another file */
		ret = epoll_ctl(polls.epfd, EPOLL_CTL_ADD, io_fd(s, fd), &ev);
	else if (ret < 0 && errno == EEXIST)
		ret = epoll_ctl(polls.epfd, EPOLL_CTL_MOD, io_fd(s, fd), &ev);
	if (ret < 0)
		return -errno;
	s->in_set = true;
	set_events(s, want);
	return 0;
}

/*
 * A request arrives on fd while others wait on the file s holds, and fd names another file
 * now: the program closed theirs. They are cancelled (POSIX close() allows it), and the
 * stream starts afresh for the new file.
 */
static void drop_old(struct stream *s, int fd)
{
	struct req *old[2] = { s->rd, s->wr };

	s->rd = s->wr = NULL;
	s->kept = 0;
	arm(s, fd, false);
	release_if_idle(s);
	for (int i = 0; i < 2; i++) {
		if (!old[i])
			continue;
		old[i]->flags |= RF_CANCEL;
		req_complete(old[i], -ECANCELED);
	}
}

/* A request is about to wait: keep its file open while it does. */
static void hold(struct stream *s, int fd)
{
	if (s->hold >= 0 || s->in_set)
		return; /* held already, or registered by number (no descriptor was spare) */
	s->hold = fdhold_dup(fd);
}

/* Called with core.lock held. */
void poll_submit(struct req *r)
{
	struct stream *s = stream_get(r->fd);
	struct req **slot;
	ssize_t n;
	int err;

	LOCK_HELD();

	if (!s) {
		req_complete(r, -EAGAIN);
		return;
	}
	slot = r->op == OP_READ ? &s->rd : &s->wr;
	if (*slot) {
		/* The core keeps one read and one write in flight per stream. */
		req_complete(r, -EAGAIN);
		return;
	}
	/* Whatever waits was classified with its file (fdq): is the number still that file? */
	if ((s->rd || s->wr) && s->hold >= 0 && !fdq_same_file(s->rd ? s->rd : s->wr))
		drop_old(s, r->fd);
	/* Nothing waits, yet serve() left the stream set up: for r's file only. */
	if (!s->rd && !s->wr && s->how != HOW_UNKNOWN && !still_set_up(s, r))
		release_if_idle(s);
	if (s->how == HOW_UNKNOWN && !resume(s, r))
		setup(s, r->fd);
	/*
	 * Tried at once, but inside aio_read() or aio_write() only up to SUBMIT_MOVE_MAX bytes:
	 * a socket may hold megabytes, and glibc's call returns in microseconds whatever the
	 * size. A larger one waits for readiness, which is there already, and moves then. (A
	 * vectored one, aio_readv() or aio_writev(), is tried: only the kernel may read its
	 * array before it was taken once, and glibc has no such call to compare with.)
	 */
	if (req_in_submit() && !r->vec && r->cb->aio_nbytes - r->moved > SUBMIT_MOVE_MAX)
		n = -EAGAIN;
	else
		n = transfer(s, r, 0);
	if (n == -EAGAIN) {
		*slot = r;
		hold(s, r->fd);
		err = arm(s, r->fd, true);
		if (!err)
			return;
		*slot = NULL;
		n = err;
	}
	if (!s->serving)
		release_if_idle(s); /* else serve() does, once its completions issued what follows */
	req_complete(r, n);
}

/* Called with core.lock held. */
int poll_cancel(struct req *r)
{
	struct stream *s = stream_find(r->fd);

	LOCK_HELD();

	if (!s)
		return -ENOENT;
	if (s->rd == r)
		s->rd = NULL;
	else if (s->wr == r)
		s->wr = NULL;
	else
		return -ENOENT;
	arm(s, r->fd, false); /* only ever narrows or removes */
	release_if_idle(s);
	req_complete(r, -ECANCELED);
	return 0;
}

/* Called with core.lock held: epoll reported fd. */
static void serve(int fd, uint32_t revents)
{
	struct stream *s = stream_find(fd);
	struct req *done[2];
	int64_t res[2];
	unsigned n = 0;
	ssize_t got;
	int err;

	LOCK_HELD();

	if (!s || !s->events)
		return; /* a registration that outlived its request */
	set_events(s, 0); /* one-shot: the report disabled it */
	if (s->hold < 0 && ((s->rd && !fdq_same_file(s->rd)) || (s->wr && !fdq_same_file(s->wr)))) {
		/* Not held, and the file was closed and the number reused: cancel them. */
		revents = 0;
		if (s->rd) {
			s->rd->flags |= RF_CANCEL;
			done[n] = s->rd;
			res[n++] = -ECANCELED;
			s->rd = NULL;
		}
		if (s->wr) {
			s->wr->flags |= RF_CANCEL;
			done[n] = s->wr;
			res[n++] = -ECANCELED;
			s->wr = NULL;
		}
	}
	if (s->rd && (revents & RD_READY)) {
		got = transfer(s, s->rd, revents);
		if (got != -EAGAIN) {
			done[n] = s->rd;
			res[n++] = got;
			s->rd = NULL;
		}
	}
	if (s->wr && (revents & WR_READY)) {
		got = transfer(s, s->wr, revents);
		if (got != -EAGAIN) {
			done[n] = s->wr;
			res[n++] = got;
			s->wr = NULL;
		}
	}
	/*
	 * With nothing left waiting, a held stream keeps its duplicate and its registration
	 * (disabled by the report) while the completions below run: the next request on fd,
	 * which they issue, mostly waits again and would make both anew (a dup, an
	 * EPOLL_CTL_ADD, and an EPOLL_CTL_DEL and a close for these: a third of the system
	 * calls of a socket with 16 outstanding).
	 */
	err = s->rd || s->wr || s->hold < 0 ? arm(s, fd, false) : 0;
	if (err) {
		/* Nothing left to wait with: fail what still waits. */
		if (s->rd) {
			done[n] = s->rd;
			res[n++] = err;
		}
		if (s->wr) {
			done[n] = s->wr;
			res[n++] = err;
		}
		s->rd = s->wr = NULL;
	}
	/* The slots are settled first: a completion may issue the next request on fd. */
	s->serving = true;
	for (unsigned i = 0; i < n; i++)
		req_complete(done[i], res[i]);
	s->serving = false;
	release_if_idle(s);
}

/*
 * Without a system call: the reaper's epoll_wait() (poll_reap()) costs what a poll() of the
 * set here would, and serves what it finds; asking first cost both whenever a stream was
 * ready (a socket with 16 outstanding: 0.6 poll() per message, nearly each followed by the
 * epoll_wait()).
 */
bool poll_has_completions(void)
{
	/* A submitting call serves no stream (engine-kaio.c's reap). */
	if (req_in_submit())
		return false;
	if (!__atomic_load_n(&polls.armed, __ATOMIC_RELAXED) &&
	    !__atomic_load_n(&polls.stale, __ATOMIC_RELAXED))
		return false;
	return !poll_lost();
}

/* Called with core.lock held: serve what epoll_wait() reported. True if it named TAG_EXTERNAL. */
static bool serve_events(const struct epoll_event *ev, int n)
{
	bool external = false;

	LOCK_HELD();
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == TAG_EXTERNAL)
			external = true;
		else
			serve((int)ev[i].data.u64, ev[i].events);
	}
	return external;
}

/*
 * poll_reap() while posixaio_fd() watches epfd: the readiness epoll_wait() takes stops
 * showing there at once (one-shot), and the completion serving makes shows only once listed.
 * So look first without taking (a reap that finds nothing costs one system call, as before),
 * and take it with core.lock held, the claim eventfd showing the completion on its way until
 * the completion is listed.
 */
static bool reap_watched(int epfd)
{
	struct epoll_event ev[EVENT_BATCH];
	struct pollfd p = { .fd = epfd, .events = POLLIN, .revents = 0 };
	bool external = false;
	int n;

	if (!ownfd_use(epfd))
		return false;
	n = poll(&p, 1, 0);
	ownfd_done();
	if (n <= 0)
		return false;
	core_lock();
	claim_expect();
	n = 0;
	if (ownfd_use(epfd)) {
		n = epoll_wait(epfd, ev, EVENT_BATCH, 0);
		ownfd_done();
	}
	if (n > 0)
		external = serve_events(ev, n);
	req_finish_deferred(); /* lists the completions, as core_unlock() would */
	claim_expected();
	core_unlock();
	return external;
}

/*
 * Called with core.reap_lock held, without core.lock: polls.epfd is read as the atomic it is
 * (poll_renew() replaces it with core.lock held).
 */
bool poll_reap(void)
{
	struct epoll_event ev[EVENT_BATCH];
	int epfd = __atomic_load_n(&polls.epfd, __ATOMIC_RELAXED);
	bool external = false;
	int n;

	if (!bg_self() && !__atomic_load_n(&polls.served, __ATOMIC_RELAXED))
		__atomic_store_n(&polls.served, true, __ATOMIC_RELAXED);
	if (!__atomic_load_n(&polls.armed, __ATOMIC_RELAXED) &&
	    !__atomic_load_n(&polls.stale, __ATOMIC_RELAXED))
		return false;
	if (claim_watching())
		return reap_watched(epfd);
	if (!ownfd_use(epfd))
		return false;
	n = epoll_wait(epfd, ev, EVENT_BATCH, 0);
	ownfd_done();
	if (n <= 0)
		return false;
	core_lock();
	external = serve_events(ev, n);
	core_unlock();
	return external;
}

/*
 * Lock-free, for the background thread: do streams wait for readiness, and did a program
 * thread look at the set since the last call?
 */
bool poll_served_lately(void)
{
	if (!__atomic_load_n(&polls.armed, __ATOMIC_RELAXED))
		return false; /* no stream waits for readiness: nothing to leave to anyone */
	return __atomic_exchange_n(&polls.served, false, __ATOMIC_RELAXED);
}

/*
 * Called with core.lock held, by the background thread as it goes to sleep: true if no
 * stream waits for readiness, so that it may sleep without the set; the first stream armed
 * then wakes it (set_events()).
 */
bool poll_bg_leaves(void)
{
	LOCK_HELD();
	if (__atomic_load_n(&polls.armed, __ATOMIC_RELAXED))
		return false;
	polls.bg_away = true;
	return true;
}

/* Called with core.lock held: the record a request on fd may need exists. 0 or -ENOMEM. */
int poll_reserve(int fd)
{
	LOCK_HELD();
	return stream_get(fd) ? 0 : -ENOMEM;
}

int poll_fd(void)
{
	return __atomic_load_n(&polls.epfd, __ATOMIC_RELAXED);
}

int poll_init(int efd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_EXTERNAL };
	int ret;

	polls.epfd = ownfd_new(epoll_create1(EPOLL_CLOEXEC), false);
	if (polls.epfd < 0) {
		ret = polls.epfd;
		polls.epfd = -1;
		return ret;
	}
	if (epoll_ctl(polls.epfd, EPOLL_CTL_ADD, efd, &ev) < 0) {
		ret = -errno;
		ownfd_close(polls.epfd);
		polls.epfd = -1;
		return ret;
	}
	return 0;
}

struct renew {
	bool new_set;
	struct req *failed[64];
	unsigned nfailed;
};

/* A stream after a loss: failed if its duplicate went, put in a new set if that was made. */
static void stream_renew(void *entry, int fd, void *arg)
{
	struct stream *s = *(struct stream **)entry;
	struct renew *rn = arg;

	if (!s || (!s->rd && !s->wr))
		return;
	if (stream_lost(s)) {
		struct req *old[2] = { s->rd, s->wr };

		for (int i = 0; i < 2; i++) {
			if (old[i] && rn->nfailed < 64) {
				old[i]->flags |= RF_CANCEL;
				rn->failed[rn->nfailed++] = old[i];
				*(old[i] == s->rd ? &s->rd : &s->wr) = NULL;
			}
		}
		arm(s, fd, false);
		release_if_idle(s);
		return;
	}
	if (!rn->new_set)
		return;
	/* Its registration went with the old set: register what it waits for again. */
	s->in_set = false;
	set_events(s, 0);
	if (arm(s, fd, true) < 0) {
		struct req *old[2] = { s->rd, s->wr };

		s->rd = s->wr = NULL;
		for (int i = 0; i < 2; i++) {
			if (old[i] && rn->nfailed < 64)
				rn->failed[rn->nfailed++] = old[i];
		}
		release_if_idle(s);
	}
}

void poll_renew(int efd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_EXTERNAL };
	struct renew rn;

	do {
		rn.new_set = false;
		rn.nfailed = 0;
		if (polls.epfd >= 0 && ownfd_lost(polls.epfd)) {
			ownfd_close(polls.epfd); /* lost: forgotten, not closed */
			__atomic_store_n(&polls.epfd, -1, __ATOMIC_RELAXED);
		}
		/* A new set only in a call of the program's (ownfd.c). */
		if (polls.epfd < 0 && ownfd_may_open()) {
			int epfd = ownfd_new(epoll_create1(EPOLL_CLOEXEC), false);

			__atomic_store_n(&polls.epfd, epfd < 0 ? -1 : epfd, __ATOMIC_RELAXED);
			rn.new_set = epfd >= 0;
		}
		/* Meanwhile sleepers look every 10 ms (poll_lost()). */
		if (polls.epfd >= 0 && efd >= 0 &&
		    epoll_ctl(polls.epfd, EPOLL_CTL_ADD, efd, &ev) < 0 && errno != EEXIST) {
			/* no memory: completions are still seen by looking */
		}
		fdtab_each(&polls.s, stream_renew, &rn);
		for (unsigned i = 0; i < rn.nfailed; i++)
			req_complete(rn.failed[i], -ECANCELED);
	} while (rn.nfailed == 64); /* more than one pass could hold */
}

static void stream_free(void *entry, int fd, void *arg)
{
	struct stream *s = *(struct stream **)entry;

	(void)fd;
	(void)arg;
	if (s) {
		ownfd_close(s->priv);
		ownfd_close(s->hold);
	}
	free(s);
}

void poll_fork_child(void)
{
	/* The parent's waiting requests are not ours; its private descriptors must not linger. */
	fdtab_each(&polls.s, stream_free, NULL);
	fdtab_clear(&polls.s);
	ownfd_close(polls.epfd);
	polls.epfd = -1;
	polls.armed = 0;
	polls.stale = false;
	polls.bg_away = false;
}
