/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_fsync(O_DSYNC) completes only after every write queued before it on that descriptor. */
#define FSYNC_OP O_DSYNC
#define FSYNC_NAME "aio_fsync(O_DSYNC)"
#include "fsync_osync_waits_for_writes.c"
