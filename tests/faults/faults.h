/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers the fault-injection tests share on top of the conformance tests' common.h.
 */
#ifndef FAULTS_H
#define FAULTS_H

#include "../posix/common.h"

#include <linux/io_uring.h>

/* The errno io_uring_setup gives this process (0 if io_uring works). */
static inline int uring_setup_errno(void)
{
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(__NR_io_uring_setup, 4, &p);
	if (fd >= 0) {
		close((int)fd);
		return 0;
	}
	return errno;
}

/* Stderr goes to a fresh temporary file until stderr_restore(); returns the saved stderr. */
static inline int stderr_capture(int *file)
{
	int saved = dup(2);

	fflush(stderr);
	*file = tmp_file(O_RDWR);
	SYSCHECK(saved);
	SYSCHECK(dup2(*file, 2));
	return saved;
}

/* Put stderr back and return what was written to it meanwhile (a static buffer). */
static inline const char *stderr_restore(int saved, int file)
{
	static char text[4096];
	ssize_t n;

	fflush(stderr);
	SYSCHECK(dup2(saved, 2));
	close(saved);
	n = pread(file, text, sizeof(text) - 1, 0);
	close(file);
	text[n > 0 ? n : 0] = '\0';
	return text;
}

/* Wait for a process with a deadline in ms (scaled); SIGKILL it and fail on a hang. */
static inline int wait_child(pid_t pid, int timeout_ms, const char *what)
{
	int64_t deadline = now_ms() + (int64_t)timeout_ms * time_scale();
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r == -1 && errno != EINTR)
			FAIL("%s: waitpid: %s", what, strerror(errno));
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			FAIL("%s: the process did not end within %d ms (hang); killed", what,
			     timeout_ms * time_scale());
		}
		sleep_ms(1);
	}
}

#endif
