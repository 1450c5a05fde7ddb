/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads queued on a datagram socket are served in submission order: 64 aio_reads are queued,
 * then 64 distinct datagrams are sent one at a time; read i gets datagram i.
 */
#define STREAM_DGRAM 1
#define STREAM_KIND "datagram socket"
#include "pipe_reads_in_order.c"
