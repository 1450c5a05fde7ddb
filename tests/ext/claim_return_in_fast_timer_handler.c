/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_return is async-signal-safe also once posixaio_fd() put the library in claim mode,
 * where a result read by aio_return takes the completion off the claim list and may clear
 * posixaio_fd()'s eventfd: tests/posix/error_in_fast_timer_handler.c (a timer firing every
 * 100 us whose handler calls aio_error and aio_return on live aiocbs, while the interrupted
 * thread submits and reaps thousands of requests), run in claim mode.
 */
#include "ext.h"

#define BEFORE_TIMER() EXPECT(posixaio_fd() >= 0, "posixaio_fd failed: %s", errname(errno))

#include "../posix/error_in_fast_timer_handler.c"
