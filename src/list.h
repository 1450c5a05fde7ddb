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

/* Append n (its link is cleared); fifo_push_by() for a node linked through another field. */
#define fifo_push_by(q, n, link)                                                          \
	do {                                                                              \
		__typeof__((q)->head) n_ = (n);                                           \
		n_->link = NULL;                                                          \
		if ((q)->tail)                                                            \
			(q)->tail->link = n_;                                             \
		else                                                                      \
			(q)->head = n_;                                                   \
		(q)->tail = n_;                                                           \
	} while (0)
#define fifo_push(q, n) fifo_push_by(q, n, next)

/* Take the first node off, or NULL. */
#define fifo_pop_by(q, link)                                                              \
	({                                                                                \
		__typeof__((q)->head) n_ = (q)->head;                                     \
		if (n_ && !((q)->head = n_->link))                                        \
			(q)->tail = NULL;                                                 \
		n_;                                                                       \
	})
#define fifo_pop(q) fifo_pop_by(q, next)

/* Take every node at once: the chain, NULL-terminated, and an empty FIFO left behind. */
#define fifo_take(q)                                                                      \
	({                                                                                \
		__typeof__((q)->head) h_ = (q)->head;                                     \
		fifo_init(q);                                                             \
		h_;                                                                       \
	})

/* Unlink n if it is queued in q: true if it was (a walk: the queues this serves are short). */
#define fifo_remove_by(q, n, link)                                                        \
	({                                                                                \
		__typeof__((q)->head) p_ = NULL, c_ = (q)->head;                          \
		while (c_ && c_ != (n)) {                                                 \
			p_ = c_;                                                          \
			c_ = c_->link;                                                    \
		}                                                                         \
		if (c_) {                                                                 \
			if (p_)                                                           \
				p_->link = c_->link;                                      \
			else                                                              \
				(q)->head = c_->link;                                     \
			if ((q)->tail == c_)                                              \
				(q)->tail = p_;                                           \
		}                                                                         \
		c_ != NULL;                                                               \
	})
#define fifo_remove(q, n) fifo_remove_by(q, n, next)

/*
 * A two-way list: the same head and tail, nodes linked through a prev and a next field (named
 * by the _by forms), for queues whose members leave from the middle in O(1) (a descriptor's
 * requests, the native AIO engine's queues, a thread pool's jobs), as libuv's queue.h.
 */
#define dlist_push_by(q, n, prev, next)                                                   \
	do {                                                                              \
		__typeof__((q)->head) n_ = (n);                                           \
		n_->next = NULL;                                                          \
		n_->prev = (q)->tail;                                                     \
		if ((q)->tail)                                                            \
			(q)->tail->next = n_;                                             \
		else                                                                      \
			(q)->head = n_;                                                   \
		(q)->tail = n_;                                                           \
	} while (0)
#define dlist_push(q, n) dlist_push_by(q, n, prev, next)

#define dlist_push_front(q, n)                                                            \
	do {                                                                              \
		__typeof__((q)->head) n_ = (n);                                           \
		n_->prev = NULL;                                                          \
		n_->next = (q)->head;                                                     \
		if ((q)->head)                                                            \
			(q)->head->prev = n_;                                             \
		else                                                                      \
			(q)->tail = n_;                                                   \
		(q)->head = n_;                                                           \
	} while (0)

/* Unlink n, which is in q; its own links are left as they were. */
#define dlist_remove_by(q, n, prev, next)                                                 \
	do {                                                                              \
		__typeof__((q)->head) n_ = (n);                                           \
		if (n_->prev)                                                             \
			n_->prev->next = n_->next;                                        \
		else                                                                      \
			(q)->head = n_->next;                                             \
		if (n_->next)                                                             \
			n_->next->prev = n_->prev;                                        \
		else                                                                      \
			(q)->tail = n_->prev;                                             \
	} while (0)
#define dlist_remove(q, n) dlist_remove_by(q, n, prev, next)

#endif
