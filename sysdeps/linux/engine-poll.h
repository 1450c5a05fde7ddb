/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The poll part of the native AIO engine (engine-kaio.c): reads and writes on descriptors
 * native AIO cannot serve asynchronously (pipes, FIFOs, sockets, ttys, character devices).
 * It owns the epoll set that is the engine's one wait point; the native AIO eventfd sits in
 * it too, so a waiter sleeps on one descriptor for disk and network alike.
 *
 * Called with core.lock held: poll_submit, poll_cancel, poll_fd. With core.reap_lock held and
 * without core.lock: poll_reap. From anywhere: poll_has_completions.
 */
#ifndef POSIXAIO_ENGINE_POLL_H
#define POSIXAIO_ENGINE_POLL_H

#include "internal.h"

/* Create the epoll set and put efd in it. 0 or -errno. */
int poll_init(int efd);
/* Transfer now if the descriptor is ready, else wait for it; the result goes to req_complete. */
void poll_submit(struct req *r);
/* 0: removed before any byte moved, completed with -ECANCELED; -ENOENT: not waiting here. */
int poll_cancel(struct req *r);
/* Something waits for readiness and the epoll set reports some: one poll(2), else none. */
bool poll_has_completions(void);
/* Serve the descriptors the epoll set reports ready; true if it reported efd too. */
bool poll_reap(void);
/* The descriptor a waiter sleeps on. */
int poll_fd(void);
/* Streams wait, and a program thread looked at the set since the last call. */
bool poll_served_lately(void);
/* No stream waits for readiness: the background thread may sleep without the set. */
bool poll_bg_leaves(void);
int poll_reserve(int fd);
/* The program closed the epoll set (ownfd.c): it must not be used until poll_renew(). */
bool poll_lost(void);
/*
 * After a loss: fail the requests of streams whose duplicate the program closed; forget a
 * lost epoll set and, in a call of the program's, make a new one with efd (if not negative)
 * and every waiting stream in it.
 */
void poll_renew(int efd);
void poll_fork_child(void);

#endif
