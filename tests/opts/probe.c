// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which AIO implementation serves a program built the way the Open POSIX
 * tests are built? The harness builds this next to the tests, runs it in the
 * same environment, and refuses to report results for libposixaio if the
 * calls land in glibc (a preload that did not take, or a link that bound to
 * libc): without this check a broken setup silently tests glibc instead.
 *
 * Prints "aio_read=<object> aio_suspend=<object> engine=<name|->" on one
 * line, after one real request, so an engine that is chosen lazily at the
 * first call has been chosen.
 */
#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *object_of(void *fn)
{
	Dl_info info;

	if (!dladdr(fn, &info) || !info.dli_fname)
		return "?";
	return info.dli_fname;
}

/* One write and one read through AIO, so the engine is really in use. */
static int one_request(void)
{
	char path[] = "/tmp/opts-probe-XXXXXX";
	char buf[16] = "probe";
	const struct aiocb *list[1];
	struct aiocb cb;
	int fd;
	int ret = -1;

	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = fd;
	cb.aio_buf = buf;
	cb.aio_nbytes = sizeof(buf);
	if (aio_write(&cb))
		goto out;
	list[0] = &cb;
	while (aio_error(&cb) == EINPROGRESS)
		aio_suspend(list, 1, NULL);
	if (aio_return(&cb) == (ssize_t)sizeof(buf))
		ret = 0;
out:
	close(fd);
	return ret;
}

int main(void)
{
	const char *(*engine)(void);
	const char *name = "-";

	if (one_request()) {
		fprintf(stderr, "probe: one aio_write failed: %s\n", strerror(errno));
		return 1;
	}
	/* Looked up, not linked: glibc has no such function. */
	*(void **)&engine = dlsym(RTLD_DEFAULT, "posixaio_engine");
	if (engine && engine())
		name = engine();
	printf("aio_read=%s aio_suspend=%s engine=%s\n", object_of((void *)aio_read),
	       object_of((void *)aio_suspend), name);
	return 0;
}
