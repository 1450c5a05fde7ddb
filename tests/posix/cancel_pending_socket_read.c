/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_cancel of a read pending on a stream socket returns AIO_CANCELED, then ECANCELED and
 * aio_return -1; data the peer sends later stays in the socket for read(2).
 */
#define CANCEL_SOCKET 1
#define CANCEL_KIND "stream socket"
#include "cancel_pending_pipe_read.c"
