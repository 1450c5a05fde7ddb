/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes queued on a stream socket arrive whole and in submission order: 64 aio_writes of
 * 64 KiB each, a reader thread checks the byte stream.
 */
#define STREAM_SOCKET 1
#define STREAM_KIND "stream socket"
#include "pipe_writes_whole_in_order.c"
