/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fileclient: load generator and verifier for fileserver and fileserver-threads (the protocol
 * is described at the top of fileserver.c). It does not use libposixaio.
 *
 * It reads every regular file of the served directory into memory, then starts one thread
 * per client. Each client connects and asks for random files of the directory, keeping up to
 * <depth> requests in flight on its connection (pipelining), and checks every answer: the
 * length header against the file's size and every byte against the file's content. About
 * one request in 32 asks for a name the server must refuse ("..", "x/y", a missing file...)
 * and checks that the answer is the not-found length with no bytes.
 *
 * With -x <percent>, that share of the answers is cut short: the client reads part of it,
 * then resets the connection (SO_LINGER 0) with the rest of the answer and the requests behind
 * it still pending, and reconnects. A server that does its reads asynchronously must then
 * cancel them and cope with a vanished client. Those requests are counted as aborted.
 *
 * Usage: fileclient -p port -d dir [-c clients] [-r requests] [-P depth] [-x percent]
 *                   [-s seed] [-t timeout] [-C]
 *   -c clients   concurrent connections, one thread each (default 1)
 *   -r requests  requests per client, aborted ones included (default 100)
 *   -P depth     requests in flight per connection, 1 to 64 (default 1: no pipelining)
 *   -x percent   share of answers cut short by a connection reset (default 0)
 *   -s seed      seed of the random choices (default 1)
 *   -t timeout   seconds without progress on a connection before giving up (default 60)
 *   -C           cold start: drop the files from the page cache once they are loaded
 *                (posix_fadvise DONTNEED), so that the server's first reads go to the disk
 *
 * On success it prints one line,
 *   ok clients=C requests=N aborted=A bytes=B seconds=S MiB/s=X req/s=Y
 * where N counts the verified answers and B their file bytes, and exits 0. Any wrong byte,
 * wrong length, short answer, error or timeout is reported on stderr and the exit status is 1.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RECV_SIZE (64 * 1024)
#define MAX_DEPTH 64 /* so that queued request lines always fit in the socket buffers */
#define NOT_FOUND UINT64_MAX

struct file {
	char *name;
	char *data;
	uint64_t size;
};

/* A request on the wire: which file it asked for, or NULL for a name that must be refused. */
struct request {
	const struct file *file;
	char line[300];
};

struct client {
	pthread_t tid;
	unsigned int id;
	uint64_t rng;
	unsigned long done;
	unsigned long aborted;
	uint64_t bytes;
	bool failed;
	char *buf;
};

static struct file *files;
static unsigned int nfiles;
static int port;
static unsigned long requests = 100;
static unsigned int depth = 1;
static unsigned int abort_percent;
static int timeout_sec = 60;
static bool drop_cache;

static const char *const refused_names[] = {
	".", "..", "../etc", "a/b", "/", "no-such-file.fileclient",
};

static void __attribute__((noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fileclient: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((format(printf, 2, 3))) fail(struct client *cl, const char *fmt, ...)
{
	va_list ap;

	flockfile(stderr);
	fprintf(stderr, "fileclient: client %u: ", cl->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	cl->failed = true;
}

static void usage(void)
{
	fprintf(stderr, "usage: fileclient -p port -d dir [-c clients] [-r requests] [-P depth]"
			" [-x percent] [-s seed] [-t timeout] [-C]\n");
	exit(2);
}

/* splitmix64: small, fast, and good enough to pick files. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void read_whole(int dir, struct file *f)
{
	struct stat st;
	uint64_t off;
	int fd;

	fd = openat(dir, f->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		die("%s: %s", f->name, strerror(errno));
	f->size = st.st_size;
	f->data = malloc(f->size ? f->size : 1);
	if (!f->data)
		die("out of memory for %s", f->name);
	for (off = 0; off < f->size;) {
		ssize_t n = pread(fd, f->data + off, f->size - off, off);

		if (n <= 0)
			die("%s: read failed or file shrank", f->name);
		off += n;
	}
	/* Best effort: pages that are dirty or mapped elsewhere stay. */
	if (drop_cache)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->name, ((const struct file *)b)->name);
}

/* Every regular file of the directory, sorted by name so that a seed replays the same run. */
static void load_files(const char *path)
{
	struct dirent *de;
	unsigned int cap = 0;
	DIR *d;

	d = opendir(path);
	if (!d)
		die("%s: %s", path, strerror(errno));
	while ((de = readdir(d))) {
		struct stat st;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (strlen(de->d_name) > 200 || strchr(de->d_name, '\n'))
			continue;
		if (nfiles == cap) {
			cap = cap ? 2 * cap : 64;
			files = realloc(files, cap * sizeof(*files));
			if (!files)
				die("out of memory");
		}
		files[nfiles].name = strdup(de->d_name);
		read_whole(dirfd(d), &files[nfiles]);
		nfiles++;
	}
	closedir(d);
	if (!nfiles)
		die("%s: no regular file to ask for", path);
	qsort(files, nfiles, sizeof(*files), by_name);
}

static void pick_request(struct client *cl, struct request *req)
{
	uint64_t r = next_random(&cl->rng);

	if (r % 32 == 0) {
		size_t n = sizeof(refused_names) / sizeof(refused_names[0]);

		req->file = NULL;
		snprintf(req->line, sizeof(req->line), "GET %s\n", refused_names[(r >> 8) % n]);
		return;
	}
	req->file = &files[(r >> 8) % nfiles];
	snprintf(req->line, sizeof(req->line), "GET %s\n", req->file->name);
}

static int connect_server(struct client *cl)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct timeval tv = { .tv_sec = timeout_sec };
	int one = 1, sock;

	sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		fail(cl, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(sock, (struct sockaddr *)&sin, sizeof(sin))) {
		fail(cl, "connect to port %d: %s", port, strerror(errno));
		close(sock);
		return -1;
	}
	return sock;
}

/* Reset the connection rather than close it: the server sees the client vanish at once. */
static void reset_connection(int sock)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(sock, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(sock);
}

static int send_all(struct client *cl, int sock, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(cl, "send: %s", errno == EAGAIN ? "timed out" : strerror(errno));
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* Exactly len bytes, or a failure: the server never closes in the middle of an answer. */
static int recv_all(struct client *cl, int sock, char *p, size_t len)
{
	while (len) {
		ssize_t n = recv(sock, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(cl, "recv: %s", n == 0 ? "server closed the connection" :
					     errno == EAGAIN ? "timed out" : strerror(errno));
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Read and check the answer to req. With stop_after not NULL, read only that many bytes of the
 * body (the caller then resets the connection). -1 on any failure, reported.
 */
static int check_answer(struct client *cl, int sock, const struct request *req,
			const uint64_t *stop_after)
{
	uint64_t header, want, off, end;

	if (recv_all(cl, sock, (char *)&header, sizeof(header)))
		return -1;
	header = be64toh(header);
	want = req->file ? req->file->size : NOT_FOUND;
	if (header != want) {
		fail(cl, "%.*s: length %" PRIu64 ", expected %" PRIu64,
		     (int)strlen(req->line) - 1, req->line, header, want);
		return -1;
	}
	if (!req->file)
		return 0;
	end = stop_after && *stop_after < want ? *stop_after : want;
	for (off = 0; off < end;) {
		size_t len = end - off < RECV_SIZE ? end - off : RECV_SIZE;

		if (recv_all(cl, sock, cl->buf, len))
			return -1;
		if (memcmp(cl->buf, req->file->data + off, len)) {
			size_t i = 0;

			while (cl->buf[i] == req->file->data[off + i])
				i++;
			fail(cl, "%s: wrong byte at offset %" PRIu64 " of %" PRIu64,
			     req->file->name, off + i, want);
			return -1;
		}
		off += len;
	}
	if (!stop_after)
		cl->bytes += end;
	return 0;
}

static void *client_main(void *arg)
{
	struct request queue[MAX_DEPTH];
	struct client *cl = arg;
	unsigned long issued = 0, settled = 0;
	unsigned int head = 0, inflight = 0;
	int sock = -1;

	while (settled < requests && !cl->failed) {
		char lines[MAX_DEPTH * sizeof(queue[0].line)];
		size_t len = 0;
		uint64_t r, cut;
		bool cut_short;

		if (sock < 0)
			sock = connect_server(cl);
		if (sock < 0)
			break;

		/* Top the pipeline up, all new lines in one send. */
		while (inflight < depth && issued < requests) {
			struct request *req = &queue[(head + inflight) % MAX_DEPTH];

			pick_request(cl, req);
			len += stpcpy(lines + len, req->line) - (lines + len);
			inflight++;
			issued++;
		}
		if (len && send_all(cl, sock, lines, len))
			break;

		cut_short = abort_percent && next_random(&cl->rng) % 100 < abort_percent;
		if (!cut_short) {
			if (check_answer(cl, sock, &queue[head], NULL))
				break;
			cl->done++;
			settled++;
			head = (head + 1) % MAX_DEPTH;
			inflight--;
			continue;
		}

		/*
		 * Read the header and a random part of the body, or, one time in four, nothing at
		 * all; then vanish with the rest still coming.
		 */
		r = next_random(&cl->rng);
		if (r % 4) {
			cut = queue[head].file ? (r >> 2) % (queue[head].file->size + 1) : 0;
			if (check_answer(cl, sock, &queue[head], &cut))
				break;
		}
		reset_connection(sock);
		sock = -1;
		cl->aborted += inflight;
		settled += inflight;
		inflight = 0;
	}
	if (sock >= 0)
		close(sock);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned int nclients = 1, i;
	const char *dir = NULL;
	struct client *clients;
	unsigned long done = 0, aborted = 0;
	uint64_t seed = 1, bytes = 0;
	bool failed = false;
	double start, secs;
	int opt;

	while ((opt = getopt(argc, argv, "p:d:c:r:P:x:s:t:C")) != -1) {
		switch (opt) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'c':
			nclients = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			requests = strtoul(optarg, NULL, 0);
			break;
		case 'P':
			depth = strtoul(optarg, NULL, 0);
			break;
		case 'x':
			abort_percent = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			timeout_sec = atoi(optarg);
			break;
		case 'C':
			drop_cache = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !dir || port <= 0 || port > 65535 || !nclients || !depth ||
	    depth > MAX_DEPTH || abort_percent > 100 || timeout_sec <= 0)
		usage();

	load_files(dir);
	clients = calloc(nclients, sizeof(*clients));
	if (!clients)
		die("out of memory");

	start = now();
	for (i = 0; i < nclients; i++) {
		struct client *cl = &clients[i];

		cl->id = i;
		cl->rng = seed * 1000003 + i;
		cl->buf = malloc(RECV_SIZE);
		if (!cl->buf || pthread_create(&cl->tid, NULL, client_main, cl))
			die("cannot start client %u", i);
	}
	for (i = 0; i < nclients; i++) {
		struct client *cl = &clients[i];

		pthread_join(cl->tid, NULL);
		failed |= cl->failed;
		done += cl->done;
		aborted += cl->aborted;
		bytes += cl->bytes;
		free(cl->buf);
	}
	secs = now() - start;
	free(clients);
	for (i = 0; i < nfiles; i++) {
		free(files[i].name);
		free(files[i].data);
	}
	free(files);
	if (failed) {
		fprintf(stderr, "fileclient: FAILED (%lu answers verified before the failure)\n",
			done);
		return 1;
	}
	printf("ok clients=%u requests=%lu aborted=%lu bytes=%" PRIu64
	       " seconds=%.3f MiB/s=%.1f req/s=%.0f\n",
	       nclients, done, aborted, bytes, secs, bytes / 1048576.0 / secs, done / secs);
	return 0;
}
