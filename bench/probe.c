// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * probe: which AIO implementation serves this process, and does it work.
 *
 * usage: probe FILE
 *
 * bench/run runs this before measuring an engine.  It reports the object that the program's
 * aio_read binds to (libc, or libposixaio when preloaded), the engine the library says it
 * runs (posixaio_engine(), looked up at run time so the program builds without the library),
 * the outcome of one aio_read of FILE, and which entry points of the API (fio and stress-ng
 * call the *64 ones) do not resolve to the library.  Prints one JSON line and exits 0 whatever
 * the outcome: the driver decides what a failure means (an engine that cannot start is "n/a").
 */
#include <aio.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include "common.h"

static void print_string(const char *key, const char *val)
{
	printf("\"%s\": ", key);
	if (!val) {
		printf("null");
		return;
	}
	putchar('"');
	for (; *val; val++) {
		if (*val == '"' || *val == '\\')
			putchar('\\');
		if ((unsigned char)*val >= 0x20)
			putchar(*val);
	}
	putchar('"');
}

/* One 4 KiB aio_read, waited for; NULL when it worked, else what went wrong. */
static const char *try_read(const char *path, char *why, size_t len)
{
	static char buf[4096];
	const struct aiocb *list[1];
	struct aiocb cb;
	struct timespec limit = { .tv_sec = 10 };
	int err, fd = open(path, O_RDONLY);

	if (fd < 0) {
		snprintf(why, len, "open %s: %s", path, strerror(errno));
		return why;
	}
	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = fd;
	cb.aio_buf = buf;
	cb.aio_nbytes = sizeof(buf);
	cb.aio_offset = 4096;
	list[0] = &cb;
	if (aio_read(&cb)) {
		snprintf(why, len, "aio_read: %s", strerror(errno));
		return why;
	}
	while ((err = aio_error(&cb)) == EINPROGRESS) {
		if (aio_suspend(list, 1, &limit) && errno == EAGAIN) {
			snprintf(why, len, "no completion in 10 s");
			return why;
		}
	}
	if (err) {
		snprintf(why, len, "read failed: %s", strerror(err));
		return why;
	}
	if (aio_return(&cb) != sizeof(buf)) {
		snprintf(why, len, "short read");
		return why;
	}
	if (*(uint64_t *)buf != 4096) {
		snprintf(why, len, "wrong data");
		return why;
	}
	close(fd);
	return NULL;
}

static const char *const api[] = {
	"aio_read", "aio_write", "aio_fsync", "aio_error", "aio_return", "aio_cancel",
	"aio_suspend", "lio_listio", "aio_read64", "aio_write64", "aio_fsync64", "aio_error64",
	"aio_return64", "aio_cancel64", "aio_suspend64", "lio_listio64", "aio_init",
};

/* Names whose first definition in lookup order is not in the object serving aio_read. */
static void print_foreign(const char *lib)
{
	const char *sep = "";

	printf("\"not_from_same_object\": [");
	for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		Dl_info info;
		void *sym = dlsym(RTLD_DEFAULT, api[i]);

		if (sym && dladdr(sym, &info) && info.dli_fname && lib && !strcmp(info.dli_fname, lib))
			continue;
		printf("%s\"%s\"", sep, api[i]);
		sep = ", ";
	}
	printf("]");
}

int main(int argc, char **argv)
{
	const char *(*engine_fn)(void);
	const char *engine = NULL, *error;
	char why[256];
	Dl_info info;

	if (argc != 2)
		die("usage: probe FILE");
	error = try_read(argv[1], why, sizeof(why));
	/* After the first call: the library may name its engine only once it chose one. */
	*(void **)&engine_fn = dlsym(RTLD_DEFAULT, "posixaio_engine");
	if (engine_fn)
		engine = engine_fn();
	if (!dladdr((void *)aio_read, &info))
		info.dli_fname = NULL;

	putchar('{');
	print_string("aio_read_from", info.dli_fname);
	printf(", ");
	print_string("engine", engine);
	printf(", ");
	print_string("error", error);
	printf(", ");
	print_foreign(info.dli_fname);
	printf("}\n");
	return 0;
}
