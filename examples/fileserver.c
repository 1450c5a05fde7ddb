/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fileserver: a small TCP file server with one thread and one epoll loop, in which network
 * readiness and file-read completions arrive together. The sockets are non-blocking; the
 * files are read with aio_read(), and posixaio_fd() sits in the same epoll set as the
 * sockets: it polls readable when reads have completed, and aio_waitcomplete() with a zero
 * timeout claims them. No thread blocks on the disk and no signal is involved.
 *
 * Protocol (TCP): the client sends lines "GET <name>\n", as many as it likes per connection
 * and without waiting for the answers (pipelining). <name> is a regular file of the served
 * directory: no '/', not "." or "..". The server answers every line, in order, with the file
 * length as 8 bytes big-endian followed by the file's bytes; a name that is not such a file
 * gets the length 0xFFFFFFFFFFFFFFFF and no bytes. A line that is not a request ends the
 * connection.
 *
 * Usage: fileserver [-p port] [-d dir] [-n requests]
 *   -p port      TCP port on 127.0.0.1 (default 0: the kernel picks one). The port is
 *                printed on stdout as "port N".
 *   -d dir       the directory served (default: the current directory).
 *   -n requests  exit after answering that many requests (default: run until SIGTERM).
 * SIGTERM or SIGINT end the server cleanly: it stops accepting, closes every connection,
 * cancels the reads in flight, waits until every one of them is claimed, and exits 0.
 * It reports on stderr the engine serving it at the start, and what it served and the CPU
 * time it took at the end.
 *
 * Build: cc -D_GNU_SOURCE fileserver.c -lposixaio
 *
 * How a connection works. A connection answers one request at a time, and double-buffers
 * it: two 64 KiB chunks, each with its own aiocb, so that the next part of the file is being
 * read while the previous one is being sent. Chunks are filled in file order (index "fill")
 * and sent in the same order (index "head"). A completed aiocb leads back to its chunk with
 * container_of(), since the aiocb is the chunk's first member; the chunk knows its
 * connection. Complete request lines that arrive while an answer is in progress wait in the
 * input buffer; when it is full, the server stops reading the socket (no EPOLLIN) until it
 * has room again, so a client cannot make it buffer without limit.
 *
 * Lifetime. The kernel writes into a chunk's buffer and the library into its aiocb until the
 * read is claimed, so a connection's memory and its file descriptor outlive the socket: when
 * the client goes away, the socket is closed at once and the reads in flight are cancelled,
 * but the structure is freed only once every read has come back through aio_waitcomplete()
 * (cancelled or not), and only between two epoll_wait() calls, since the batch of events
 * being handled may still name it.
 */
#include <aio.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <posixaio.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_SIZE (64 * 1024)
#define NCHUNKS 2
#define IN_SIZE 4096 /* buffered request lines; a line is at most 4 + NAME_MAX + 2 bytes */
#define NOT_FOUND UINT64_MAX
#define MAX_EVENTS 64
#define DRAIN_TIMEOUT_SEC 30

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct list {
	struct list *next, *prev;
};

static void list_init(struct list *l)
{
	l->next = l->prev = l;
}

static void list_add(struct list *item, struct list *head)
{
	item->next = head->next;
	item->prev = head;
	head->next->prev = item;
	head->next = item;
}

static void list_del(struct list *item)
{
	item->prev->next = item->next;
	item->next->prev = item->prev;
}

struct server;

/* Whatever sits in the epoll set: epoll_event.data.ptr points to one of these. */
struct watch {
	void (*handle)(struct server *srv, struct watch *w, uint32_t events);
};

enum chunk_state {
	CHUNK_FREE,
	CHUNK_READING, /* an aio_read into buf is in flight */
	CHUNK_FULL,    /* holds [0, len) of the file at off, being sent */
};

struct chunk {
	struct aiocb cb; /* first member: completions come back as &chunk->cb */
	struct conn *conn;
	enum chunk_state state;
	off_t off;   /* where buf starts in the file */
	size_t len;  /* bytes this chunk carries */
	size_t done; /* bytes read so far while READING, bytes sent while FULL */
	char buf[CHUNK_SIZE];
};

struct conn {
	struct watch watch;
	struct list link; /* in server.conns, then in server.closing */
	struct server *srv;
	int sock;
	uint32_t events;    /* what epoll watches on sock now */
	bool closing;       /* sock is closed; waiting for reads in flight to come back */
	bool peer_done;     /* the client will send nothing more */
	bool send_blocked;  /* the socket was full: wait for EPOLLOUT */
	unsigned int reads; /* reads in flight (submitted, not yet claimed) */

	char in[IN_SIZE]; /* request lines received and not answered yet */
	size_t in_len;

	/* The answer in progress, if answering. */
	bool answering;
	int file;
	off_t size;      /* file size, as promised in the header */
	off_t next_read; /* file offset of the next chunk to read */
	off_t body_sent;
	uint64_t header; /* big-endian */
	size_t header_sent;
	unsigned int head; /* next chunk to send */
	unsigned int fill; /* next chunk to read into */
	struct chunk chunk[NCHUNKS];
};

struct server {
	int epfd;
	int dir;
	int lsock;
	struct watch listen_watch;
	struct watch signal_watch;
	int sigfd;
	struct watch aio_watch;
	struct list conns;   /* connections with an open socket */
	struct list closing; /* socket closed, reads may still be in flight */
	unsigned long reads; /* reads in flight, all connections */
	unsigned long served;
	unsigned long cancelled;    /* reads that came back ECANCELED */
	unsigned long max_requests; /* 0: no limit */
	bool stopping;
};

static void conn_progress(struct conn *c);

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "fileserver: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: fileserver [-p port] [-d dir] [-n requests]\n");
	exit(2);
}

static void watch_fd(struct server *srv, int fd, int op, uint32_t events, struct watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(srv->epfd, op, fd, &ev))
		die("epoll_ctl");
}

/* A name is served only if it names an entry of the directory itself, nothing above it. */
static bool name_is_safe(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
	       strlen(name) <= NAME_MAX;
}

/* Open a regular file of the served directory; -1 if there is no such file. */
static int open_served(struct server *srv, const char *name, off_t *size)
{
	struct stat st;
	int fd;

	if (!name_is_safe(name))
		return -1;
	fd = openat(srv->dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	*size = st.st_size;
	return fd;
}

/*
 * Close the socket now; keep the structure until the reads in flight are claimed. A cancelled
 * read still completes (with ECANCELED) and comes back through aio_waitcomplete(), like one
 * that could not be cancelled and simply finishes.
 */
static void conn_close(struct conn *c)
{
	unsigned int i;

	if (c->closing)
		return;
	c->closing = true;
	epoll_ctl(c->srv->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	close(c->sock);
	for (i = 0; i < NCHUNKS; i++) {
		if (c->chunk[i].state == CHUNK_READING &&
		    aio_cancel(c->file, &c->chunk[i].cb) < 0)
			perror("fileserver: aio_cancel");
	}
	list_del(&c->link);
	list_add(&c->link, &c->srv->closing);
}

static void conn_free(struct conn *c)
{
	list_del(&c->link);
	if (c->answering)
		close(c->file);
	free(c);
}

/* Read (the rest of) a chunk: from off + done, len - done bytes. */
static int chunk_submit(struct chunk *ch)
{
	struct conn *c = ch->conn;

	memset(&ch->cb, 0, sizeof(ch->cb));
	ch->cb.aio_fildes = c->file;
	ch->cb.aio_offset = ch->off + ch->done;
	ch->cb.aio_buf = ch->buf + ch->done;
	ch->cb.aio_nbytes = ch->len - ch->done;
	ch->cb.aio_sigevent.sigev_notify = SIGEV_NONE;
	if (aio_read(&ch->cb)) {
		perror("fileserver: aio_read");
		return -1;
	}
	ch->state = CHUNK_READING;
	c->reads++;
	c->srv->reads++;
	return 0;
}

/* Keep every free chunk reading the next part of the file. */
static int conn_issue_reads(struct conn *c)
{
	while (c->answering && c->next_read < c->size && c->chunk[c->fill].state == CHUNK_FREE) {
		struct chunk *ch = &c->chunk[c->fill];

		ch->off = c->next_read;
		ch->len = c->size - ch->off < CHUNK_SIZE ? c->size - ch->off : CHUNK_SIZE;
		ch->done = 0;
		if (chunk_submit(ch))
			return -1;
		c->next_read += ch->len;
		c->fill = (c->fill + 1) % NCHUNKS;
	}
	return 0;
}

/* Take the next complete request line from the input, if there is one, and start answering. */
static int conn_next_request(struct conn *c)
{
	char *line = c->in, *nl = memchr(c->in, '\n', c->in_len);
	size_t used;
	off_t size;

	if (!nl) {
		/* A full buffer without a newline holds no request. */
		return c->in_len == IN_SIZE ? -1 : 0;
	}
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	if (strncmp(line, "GET ", 4))
		return -1;

	c->file = open_served(c->srv, line + 4, &size);
	c->size = c->file < 0 ? 0 : size;
	c->header = htobe64(c->file < 0 ? NOT_FOUND : (uint64_t)size);
	c->header_sent = 0;
	c->next_read = 0;
	c->body_sent = 0;
	c->answering = true;

	used = nl - line + 1;
	c->in_len -= used;
	memmove(c->in, c->in + used, c->in_len);
	return 1;
}

static void conn_answered(struct conn *c)
{
	struct server *srv = c->srv;

	c->answering = false;
	if (c->file >= 0)
		close(c->file);
	c->file = -1;
	if (++srv->served == srv->max_requests)
		srv->stopping = true;
}

/*
 * Send what is ready, in order: the header, then each full chunk at the head. Returns 1 when
 * the answer is complete, 0 when waiting (for a read or for room in the socket), -1 on a
 * connection error.
 */
static int conn_send(struct conn *c)
{
	while (c->header_sent < sizeof(c->header)) {
		int more = c->size ? MSG_MORE : 0; /* the body follows: no tiny segment */
		ssize_t n = send(c->sock, (char *)&c->header + c->header_sent,
				 sizeof(c->header) - c->header_sent, MSG_NOSIGNAL | more);

		if (n < 0 && errno == EAGAIN)
			goto blocked;
		if (n < 0)
			return -1;
		c->header_sent += n;
	}
	while (c->chunk[c->head].state == CHUNK_FULL) {
		struct chunk *ch = &c->chunk[c->head];
		bool last = ch->off + (off_t)ch->len == c->size;
		ssize_t n = send(c->sock, ch->buf + ch->done, ch->len - ch->done,
				 MSG_NOSIGNAL | (last ? 0 : MSG_MORE));

		if (n < 0 && errno == EAGAIN)
			goto blocked;
		if (n < 0)
			return -1;
		ch->done += n;
		c->body_sent += n;
		if (ch->done < ch->len)
			continue;
		ch->state = CHUNK_FREE;
		c->head = (c->head + 1) % NCHUNKS;
		if (conn_issue_reads(c))
			return -1;
	}
	return c->body_sent == c->size;
blocked:
	c->send_blocked = true;
	return 0;
}

/* Ask epoll for what the connection can use now, and only that: level-triggered stays quiet. */
static void conn_update_events(struct conn *c)
{
	uint32_t want = 0;

	if (!c->peer_done && c->in_len < IN_SIZE)
		want |= EPOLLIN;
	if (c->send_blocked)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	c->events = want;
	watch_fd(c->srv, c->sock, EPOLL_CTL_MOD, want, &c->watch);
}

/* Move the connection forward as far as it goes without waiting. */
static void conn_progress(struct conn *c)
{
	for (;;) {
		int ret;

		if (!c->answering) {
			ret = conn_next_request(c);
			if (ret < 0)
				goto close;
			if (ret == 0)
				break;
		}
		if (conn_issue_reads(c))
			goto close;
		if (c->send_blocked)
			break;
		ret = conn_send(c);
		if (ret < 0)
			goto close;
		if (ret == 0)
			break;
		conn_answered(c);
	}
	/* The client said everything it will say, and all of it has been answered. */
	if (c->peer_done && !c->answering)
		goto close;
	conn_update_events(c);
	return;
close:
	conn_close(c);
}

static int conn_receive(struct conn *c)
{
	while (c->in_len < IN_SIZE) {
		ssize_t n = recv(c->sock, c->in + c->in_len, IN_SIZE - c->in_len, 0);

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (n == 0) {
			c->peer_done = true;
			return 0;
		}
		c->in_len += n;
	}
	return 0;
}

static void conn_handle(struct server *srv, struct watch *w, uint32_t events)
{
	struct conn *c = container_of(w, struct conn, watch);

	(void)srv;
	if (c->closing)
		return; /* closed earlier in this batch of events */
	if (events & (EPOLLERR | EPOLLHUP))
		goto close;
	if ((events & EPOLLIN) && conn_receive(c))
		goto close;
	if (events & EPOLLOUT)
		c->send_blocked = false;
	conn_progress(c);
	return;
close:
	conn_close(c);
}

static void conn_open(struct server *srv, int sock)
{
	struct conn *c;
	unsigned int i;
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "fileserver: out of memory, refusing a connection\n");
		close(sock);
		return;
	}
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->watch.handle = conn_handle;
	c->srv = srv;
	c->sock = sock;
	c->file = -1;
	c->events = EPOLLIN;
	for (i = 0; i < NCHUNKS; i++)
		c->chunk[i].conn = c;
	list_add(&c->link, &srv->conns);
	watch_fd(srv, sock, EPOLL_CTL_ADD, c->events, &c->watch);
}

static void listen_handle(struct server *srv, struct watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	for (;;) {
		int sock = accept4(srv->lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (sock >= 0) {
			conn_open(srv, sock);
			continue;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno != ECONNABORTED) {
			perror("fileserver: accept"); /* EMFILE and the like: serve the others */
			return;
		}
	}
}

/*
 * One read came back. A short read is continued where it stopped; a read at end of file
 * means the file shrank since its length was sent, and the connection cannot keep its
 * promise, so it ends.
 */
static void chunk_completed(struct chunk *ch, ssize_t ret, int err)
{
	struct conn *c = ch->conn;

	c->reads--;
	c->srv->reads--;
	ch->state = CHUNK_FREE;
	if (ret < 0 && err == ECANCELED)
		c->srv->cancelled++;
	if (c->closing)
		return;
	if (ret <= 0) {
		if (ret < 0)
			fprintf(stderr, "fileserver: read: %s\n", strerror(err));
		conn_close(c);
		return;
	}
	ch->done += ret;
	if (ch->done < ch->len) {
		if (chunk_submit(ch))
			conn_close(c);
		return;
	}
	ch->state = CHUNK_FULL;
	ch->done = 0;
	conn_progress(c);
}

/*
 * Claim one completed read, waiting up to *timeout. Returns 0 when one was handled, -1 when
 * none was ready.
 */
static int claim_one(struct timespec *timeout)
{
	struct aiocb *cb = NULL;
	ssize_t ret;

	ret = aio_waitcomplete(&cb, timeout);
	if (!cb) {
		if (errno != EAGAIN && errno != EINTR)
			die("aio_waitcomplete");
		return -1;
	}
	chunk_completed(container_of(cb, struct chunk, cb), ret, ret < 0 ? errno : 0);
	return 0;
}

/* posixaio_fd() is readable: claim every completed read, without waiting. */
static void aio_handle(struct server *srv, struct watch *w, uint32_t events)
{
	struct timespec zero = { 0, 0 };

	(void)srv;
	(void)w;
	(void)events;
	while (claim_one(&zero) == 0)
		;
}

static void signal_handle(struct server *srv, struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)w;
	(void)events;
	if (read(srv->sigfd, &si, sizeof(si)) == sizeof(si))
		srv->stopping = true;
}

/* User plus system time of the process, for the summary printed at exit. */
static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* Free the closed connections whose reads have all been claimed. */
static void reap_closed(struct server *srv)
{
	struct list *l, *next;

	for (l = srv->closing.next; l != &srv->closing; l = next) {
		struct conn *c = container_of(l, struct conn, link);

		next = l->next;
		if (!c->reads)
			conn_free(c);
	}
}

/*
 * Stop: no new connections, close the open ones (cancelling their reads), then claim every
 * read still in flight before freeing the memory it points to. A read that never comes back
 * would be a bug, in this program or in the library: say so instead of hanging.
 */
static int server_stop(struct server *srv)
{
	struct timespec timeout = { DRAIN_TIMEOUT_SEC, 0 };

	close(srv->lsock);
	while (srv->conns.next != &srv->conns)
		conn_close(container_of(srv->conns.next, struct conn, link));
	while (srv->reads) {
		if (claim_one(&timeout) && errno == EAGAIN) {
			fprintf(stderr, "fileserver: %lu reads still in flight after %d s\n",
				srv->reads, DRAIN_TIMEOUT_SEC);
			return 1;
		}
	}
	reap_closed(srv);
	fprintf(stderr, "fileserver: served %lu requests, %lu reads cancelled, cpu %.3f s\n",
		srv->served, srv->cancelled, cpu_seconds());
	close(srv->epfd);
	close(srv->sigfd);
	close(srv->dir);
	return 0;
}

static int listen_on(int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sin);
	int one = 1, sock;

	sock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die("socket");
	setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(sock, (struct sockaddr *)&sin, sizeof(sin)) || listen(sock, SOMAXCONN))
		die("bind/listen");
	if (getsockname(sock, (struct sockaddr *)&sin, &len))
		die("getsockname");
	printf("port %d\n", ntohs(sin.sin_port));
	fflush(stdout);
	return sock;
}

static void server_init(struct server *srv, const char *dir, int port)
{
	sigset_t sigs;
	int aiofd;

	list_init(&srv->conns);
	list_init(&srv->closing);
	srv->dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srv->dir < 0)
		die(dir);

	/*
	 * SIGTERM and SIGINT arrive through a descriptor in the loop, not a handler. Blocked
	 * before anything may start a thread, so every thread inherits the mask.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	srv->sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv->sigfd < 0)
		die("signalfd");

	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0)
		die("epoll_create1");
	aiofd = posixaio_fd();
	if (aiofd < 0)
		die("posixaio_fd");
	srv->lsock = listen_on(port);
	fprintf(stderr, "fileserver: engine %s\n", posixaio_engine());

	srv->listen_watch.handle = listen_handle;
	srv->signal_watch.handle = signal_handle;
	srv->aio_watch.handle = aio_handle;
	watch_fd(srv, srv->lsock, EPOLL_CTL_ADD, EPOLLIN, &srv->listen_watch);
	watch_fd(srv, srv->sigfd, EPOLL_CTL_ADD, EPOLLIN, &srv->signal_watch);
	watch_fd(srv, aiofd, EPOLL_CTL_ADD, EPOLLIN, &srv->aio_watch);
}

int main(int argc, char **argv)
{
	struct epoll_event events[MAX_EVENTS];
	struct server srv = { 0 };
	const char *dir = ".";
	int opt, port = 0;

	while ((opt = getopt(argc, argv, "p:d:n:")) != -1) {
		switch (opt) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'n':
			srv.max_requests = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	server_init(&srv, dir, port);
	while (!srv.stopping) {
		int i, n = epoll_wait(srv.epfd, events, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			struct watch *w = events[i].data.ptr;

			w->handle(&srv, w, events[i].events);
		}
		/* Only now: the events just handled may name a connection closed meanwhile. */
		reap_closed(&srv);
	}
	return server_stop(&srv);
}
