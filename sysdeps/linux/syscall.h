/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Raw system calls the C library does not wrap, returning >= 0 or -errno. errno is left as
 * the caller found it: only the public entry points set errno.
 */
#ifndef POSIXAIO_SYSCALL_H
#define POSIXAIO_SYSCALL_H

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline long sys_result(long ret)
{
	return ret < 0 ? -errno : ret;
}

static inline int sys_rt_sigqueueinfo(pid_t tgid, int sig, siginfo_t *si)
{
	int saved = errno;
	long ret = sys_result(syscall(SYS_rt_sigqueueinfo, tgid, sig, si));

	errno = saved;
	return (int)ret;
}

static inline int sys_rt_tgsigqueueinfo(pid_t tgid, pid_t tid, int sig, siginfo_t *si)
{
	int saved = errno;
	long ret = sys_result(syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, si));

	errno = saved;
	return (int)ret;
}

#endif
