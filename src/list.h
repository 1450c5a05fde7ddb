/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one list shape the library's queues share: a FIFO of nodes of any type chained through
 * their own `next` field, with a head and a tail so that appending costs no walk. Requests
 * (completions, notifications to hand over, held list members, the claim list, a descriptor's
 * held reads and writes) and lists waiting for their notification all queue this way; a
 * node is in at most one FIFO at a time through a given field.
 *
 * Macros rather than functions so that one definition serves every node type with its type
 * checked (GNU C statement expressions, as the rest of the library assumes gcc or clang).
 */
#ifndef POSIXAIO_LIST_H
#define POSIXAIO_LIST_H

#include <stddef.h>

#define FIFO(type)                                                                        \
	struct {                                                                          \
		type *head, *tail;                                                        \
	}

#define fifo_empty(q) ((q)->head == NULL)

#define fifo_init(q) ((void)((q)->head = (q)->tail = NULL))

/* Append n (its next is cleared). */
#define fifo_push(q, n)                                                                   \
	do {                                                                              \
		__typeof__((q)->head) n_ = (n);                                           \
		n_->next = NULL;                                                          \
		if ((q)->tail)                                                            \
			(q)->tail->next = n_;                                             \
		else                                                                      \
			(q)->head = n_;                                                   \
		(q)->tail = n_;                                                           \
	} while (0)

/* Take the first node off, or NULL. */
#define fifo_pop(q)                                                                       \
	({                                                                                \
		__typeof__((q)->head) n_ = (q)->head;                                     \
		if (n_ && !((q)->head = n_->next))                                        \
			(q)->tail = NULL;                                                 \
		n_;                                                                       \
	})

/* Take every node at once: the chain, NULL-terminated, and an empty FIFO left behind. */
#define fifo_take(q)                                                                      \
	({                                                                                \
		__typeof__((q)->head) h_ = (q)->head;                                     \
		fifo_init(q);                                                             \
		h_;                                                                       \
	})

/* Unlink n if it is queued in q: true if it was (a walk: the queues this serves are short). */
#define fifo_remove(q, n)                                                                 \
	({                                                                                \
		__typeof__((q)->head) p_ = NULL, c_ = (q)->head;                          \
		while (c_ && c_ != (n)) {                                                 \
			p_ = c_;                                                          \
			c_ = c_->next;                                                    \
		}                                                                         \
		if (c_) {                                                                 \
			if (p_)                                                           \
				p_->next = c_->next;                                      \
			else                                                              \
				(q)->head = c_->next;                                     \
			if ((q)->tail == c_)                                              \
				(q)->tail = p_;                                           \
		}                                                                         \
		c_ != NULL;                                                               \
	})

#endif
