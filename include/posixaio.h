/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libposixaio extensions. The POSIX AIO interface itself comes from the system <aio.h>:
 * libposixaio implements it for glibc's struct aiocb, unchanged.
 */
#ifndef POSIXAIO_H
#define POSIXAIO_H

#include <aio.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The engine serving this process: "io_uring" or "kaio" (Linux native AIO). Starts the
 * library if it has not started yet. NULL, with nothing started, when no engine can run.
 */
const char *posixaio_engine(void);

#ifdef __cplusplus
}
#endif

#endif
