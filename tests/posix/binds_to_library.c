/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The AIO functions this program calls are the library's: dladdr() on the address of
 * aio_read, aio_error, aio_return, aio_suspend, aio_cancel, aio_fsync, aio_write and lio_listio
 * (and of what dlsym finds first for them) names a file whose basename starts with
 * "libposixaio". Proves that a program built against the C library, run with LD_PRELOAD, and a
 * program linked with -lposixaio both use the library.
 */
#include "common.h"

#include <dlfcn.h>
#include <libgen.h>

struct sym {
	const char *name;
	void *addr;
};

static void check(const char *name, void *addr, const char *how)
{
	Dl_info info;
	char path[4096];
	const char *base;

	EXPECT(addr, "%s: no address for %s", how, name);
	EXPECT(dladdr(addr, &info) && info.dli_fname, "%s: dladdr knows no object for %s", how,
	       name);
	snprintf(path, sizeof(path), "%s", info.dli_fname);
	base = basename(path);
	EXPECT(strncmp(base, "libposixaio", 11) == 0,
	       "%s: %s is defined in %s, expected the libposixaio library", how, name,
	       info.dli_fname);
}

static int test(void)
{
	const struct sym syms[] = {
		{"aio_read", (void *)aio_read},	      {"aio_write", (void *)aio_write},
		{"aio_error", (void *)aio_error},     {"aio_return", (void *)aio_return},
		{"aio_suspend", (void *)aio_suspend}, {"aio_cancel", (void *)aio_cancel},
		{"aio_fsync", (void *)aio_fsync},     {"lio_listio", (void *)lio_listio},
	};

	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		check(syms[i].name, syms[i].addr, "the address this program calls");
		check(syms[i].name, dlsym(RTLD_DEFAULT, syms[i].name), "dlsym(RTLD_DEFAULT)");
	}
	return 0;
}

TEST_MAIN(test)
