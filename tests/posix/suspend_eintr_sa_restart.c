/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aio_suspend is not restarted after a signal handler even when the handler was installed with
 * SA_RESTART: it returns -1/EINTR ("[EINTR] A signal interrupted the aio_suspend() function"),
 * with no timeout and with a long one.
 */
#define HANDLER_FLAGS SA_RESTART
#define HANDLER_KIND "with SA_RESTART"
#include "suspend_eintr_signal.c"
