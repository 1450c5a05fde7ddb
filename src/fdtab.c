/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sparse per-descriptor tables: see fdtab.h. */
#include <stdlib.h>
#include <string.h>

#include "fdtab.h"

void *fdtab_find(const struct fdtab *t, int fd)
{
	unsigned p;

	if (fd < 0)
		return NULL;
	p = (unsigned)fd >> FDTAB_SHIFT;
	if (p >= t->npages || !t->pages[p])
		return NULL;
	return t->pages[p] + ((unsigned)fd & (FDTAB_PAGE - 1)) * t->esize;
}

/* Make pages[] hold index p. Doubling in unsigned arithmetic: p < 2^21 for any int fd. */
static int grow_top(struct fdtab *t, unsigned p)
{
	unsigned n = t->npages ? t->npages : 16;
	char **top;

	while (n <= p)
		n *= 2;
	top = realloc(t->pages, (size_t)n * sizeof(*top));
	if (!top)
		return -1;
	memset(top + t->npages, 0, (size_t)(n - t->npages) * sizeof(*top));
	t->pages = top;
	t->npages = n;
	return 0;
}

void *fdtab_get(struct fdtab *t, int fd)
{
	unsigned p;

	if (fd < 0)
		return NULL;
	p = (unsigned)fd >> FDTAB_SHIFT;
	if (p >= t->npages && grow_top(t, p) < 0)
		return NULL;
	if (!t->pages[p]) {
		t->pages[p] = calloc(FDTAB_PAGE, t->esize);
		if (!t->pages[p])
			return NULL;
	}
	return t->pages[p] + ((unsigned)fd & (FDTAB_PAGE - 1)) * t->esize;
}

void fdtab_each(const struct fdtab *t, void (*fn)(void *entry, int fd, void *arg), void *arg)
{
	for (unsigned p = 0; p < t->npages; p++) {
		if (!t->pages[p])
			continue;
		for (unsigned i = 0; i < FDTAB_PAGE; i++)
			fn(t->pages[p] + i * t->esize, (int)(p << FDTAB_SHIFT | i), arg);
	}
}

void fdtab_clear(struct fdtab *t)
{
	for (unsigned p = 0; p < t->npages; p++)
		free(t->pages[p]);
	free(t->pages);
	t->pages = NULL;
	t->npages = 0;
}
