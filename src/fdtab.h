/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A table indexed by descriptor number that grows with the descriptors in use, not with the
 * largest number asked about: a top-level array of pages of FDTAB_PAGE entries, each page
 * made (zeroed) when a descriptor in its range first needs an entry. A process with a few
 * descriptors around 1,000,000 pays for a few pages and a top level of about a thousand
 * pointers; one with descriptors 0 to 100 pays for one page.
 *
 * Callers hold whatever lock guards the table (core.lock for every user today).
 */
#ifndef POSIXAIO_FDTAB_H
#define POSIXAIO_FDTAB_H

#include <stddef.h>

#define FDTAB_SHIFT 10
#define FDTAB_PAGE (1u << FDTAB_SHIFT)

struct fdtab {
	size_t esize;    /* bytes per entry */
	char **pages;    /* pages[fd >> FDTAB_SHIFT], NULL where none was needed yet */
	unsigned npages; /* entries of pages[] */
};

#define FDTAB_INIT(type) { .esize = sizeof(type), .pages = NULL, .npages = 0 }

/* fd's entry, or NULL when fd is negative or its page was never made. */
void *fdtab_find(const struct fdtab *t, int fd);
/* fd's entry, making its page if needed; NULL when fd is negative or memory is short. */
void *fdtab_get(struct fdtab *t, int fd);
/* Call fn on every entry of every page made (zeroed ones included), in descriptor order. */
void fdtab_each(const struct fdtab *t, void (*fn)(void *entry, int fd, void *arg), void *arg);
/* Free every page and the top level; the table is empty again and may be reused. */
void fdtab_clear(struct fdtab *t);

#endif
