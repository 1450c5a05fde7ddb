/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fileserver-threads: the file server of fileserver.c written the classic way, one blocking
 * thread per connection doing pread() and send(). It speaks the same protocol and takes the
 * same options, so the two can be compared under the same load (see compare.sh); it does not
 * use libposixaio at all.
 *
 * Protocol (TCP): the client sends lines "GET <name>\n", as many as it likes per connection
 * and without waiting for the answers (pipelining). <name> is a regular file of the served
 * directory: no '/', not "." or "..". The server answers every line, in order, with the file
 * length as 8 bytes big-endian followed by the file's bytes; a name that is not such a file
 * gets the length 0xFFFFFFFFFFFFFFFF and no bytes. A line that is not a request ends the
 * connection.
 *
 * Usage: fileserver-threads [-p port] [-d dir] [-n requests]
 *   -p port      TCP port on 127.0.0.1 (default 0: the kernel picks one). The port is
 *                printed on stdout as "port N".
 *   -d dir       the directory served (default: the current directory).
 *   -n requests  exit after answering that many requests (default: run until SIGTERM).
 * SIGTERM or SIGINT end the server cleanly: it stops accepting, shuts every connection
 * down, waits for its threads and exits 0, reporting on stderr what it served and the CPU
 * time it took.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_SIZE (64 * 1024)
#define LINE_MAX_LEN (4 + NAME_MAX + 2) /* "GET " + name + "\r\n" */
#define NOT_FOUND UINT64_MAX

struct conn {
	int sock;
	struct conn *next;
	struct conn **pprev;
};

static int served_dir = -1;
static unsigned long max_requests; /* 0: no limit */
static atomic_ulong served;
static int stop_event = -1; /* eventfd: a connection thread asks main to stop */

/* Live connections, so that main can shut them down and wait for their threads. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conns_gone = PTHREAD_COND_INITIALIZER;
static struct conn *conns;
static unsigned int nconns;

static void __attribute__((noreturn)) die(const char *what)
{
	perror(what);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: fileserver-threads [-p port] [-d dir] [-n requests]\n");
	exit(2);
}

/* A name is served only if it names an entry of the directory itself, nothing above it. */
static bool name_is_safe(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
	       strlen(name) <= NAME_MAX;
}

/* Open a regular file of the served directory; -1 if there is no such file. */
static int open_served(const char *name, off_t *size)
{
	struct stat st;
	int fd;

	if (!name_is_safe(name))
		return -1;
	fd = openat(served_dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	*size = st.st_size;
	return fd;
}

static int send_all(int sock, const void *buf, size_t len, int flags)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(sock, p, len, flags | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* Answer one request: the length header, then the file. -1 if the connection failed. */
static int answer(int sock, const char *name, char *buf)
{
	uint64_t header;
	off_t size, off;
	int fd, ret = -1;

	fd = open_served(name, &size);
	if (fd < 0) {
		header = htobe64(NOT_FOUND);
		return send_all(sock, &header, sizeof(header), 0);
	}
	header = htobe64(size);
	if (send_all(sock, &header, sizeof(header), size ? MSG_MORE : 0))
		goto out;
	for (off = 0; off < size;) {
		size_t want = size - off < CHUNK_SIZE ? size - off : CHUNK_SIZE;
		ssize_t n = pread(fd, buf, want, off);

		/* The file shrank under us: the length already sent can no longer be kept. */
		if (n <= 0)
			goto out;
		off += n;
		if (send_all(sock, buf, n, off < size ? MSG_MORE : 0))
			goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

static void count_served(void)
{
	uint64_t one = 1;

	if (atomic_fetch_add(&served, 1) + 1 == max_requests &&
	    write(stop_event, &one, sizeof(one)) < 0)
		perror("write stop event");
}

/*
 * Serve requests until the client closes, a line is malformed, or main shuts the socket
 * down. Complete lines are answered in the order they arrived.
 */
static void serve(int sock)
{
	char line[LINE_MAX_LEN + 1];
	size_t len = 0;
	char *buf, *nl;

	buf = malloc(CHUNK_SIZE);
	if (!buf)
		return;
	for (;;) {
		ssize_t n;

		while ((nl = memchr(line, '\n', len))) {
			size_t used = nl - line + 1;

			*nl = '\0';
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
			if (strncmp(line, "GET ", 4) || answer(sock, line + 4, buf))
				goto out;
			count_served();
			len -= used;
			memmove(line, line + used, len);
		}
		if (len == LINE_MAX_LEN)
			goto out; /* a line too long to be a request */
		n = recv(sock, line + len, LINE_MAX_LEN - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		len += n;
	}
out:
	free(buf);
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;

	serve(c->sock);

	/* Close under the lock: main never shuts down a descriptor number reused elsewhere. */
	pthread_mutex_lock(&conns_lock);
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	close(c->sock);
	if (--nconns == 0)
		pthread_cond_signal(&conns_gone);
	pthread_mutex_unlock(&conns_lock);
	free(c);
	return NULL;
}

static void start_conn(int sock)
{
	pthread_attr_t attr;
	struct conn *c;
	pthread_t tid;
	int one = 1;

	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = malloc(sizeof(*c));
	if (!c) {
		close(sock);
		return;
	}
	c->sock = sock;
	pthread_mutex_lock(&conns_lock);
	c->next = conns;
	c->pprev = &conns;
	if (conns)
		conns->pprev = &c->next;
	conns = c;
	nconns++;
	pthread_mutex_unlock(&conns_lock);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, conn_thread, c)) {
		/* Let the thread's own exit path undo the registration. */
		fprintf(stderr, "fileserver-threads: no thread for a connection, closing it\n");
		conn_thread(c);
	}
	pthread_attr_destroy(&attr);
}

static void stop_all(void)
{
	struct conn *c;

	pthread_mutex_lock(&conns_lock);
	for (c = conns; c; c = c->next)
		shutdown(c->sock, SHUT_RDWR);
	while (nconns)
		pthread_cond_wait(&conns_gone, &conns_lock);
	pthread_mutex_unlock(&conns_lock);
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

	sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
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

int main(int argc, char **argv)
{
	const char *dir = ".";
	int opt, port = 0, lsock, sigfd;
	struct pollfd pfd[3];
	struct rusage ru;
	sigset_t sigs;

	while ((opt = getopt(argc, argv, "p:d:n:")) != -1) {
		switch (opt) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'n':
			max_requests = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	served_dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (served_dir < 0)
		die(dir);

	/* Blocked before any thread starts, so every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	stop_event = eventfd(0, EFD_CLOEXEC);
	if (sigfd < 0 || stop_event < 0)
		die("signalfd/eventfd");
	lsock = listen_on(port);

	pfd[0] = (struct pollfd){ .fd = lsock, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = stop_event, .events = POLLIN };
	for (;;) {
		int sock;

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[1].revents || pfd[2].revents)
			break;
		sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
		if (sock >= 0)
			start_conn(sock);
		else if (errno != EINTR && errno != ECONNABORTED)
			perror("accept"); /* EMFILE and the like: keep serving the others */
	}

	close(lsock);
	stop_all();
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "fileserver-threads: served %lu requests, cpu %.3f s\n",
		atomic_load(&served), ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6);
	return 0;
}
