/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * no-uring [--errno NAME] PROGRAM [ARGS...]: run PROGRAM with io_uring refused the way
 * container runtimes refuse it (Docker's and containerd's default seccomp profiles):
 * io_uring_setup, io_uring_enter and io_uring_register fail with EPERM. Tests use it to prove
 * that the library falls back to native AIO by itself. --errno picks another error: ENOSYS is
 * what a kernel built without io_uring answers, EACCES what kernel.io_uring_disabled gives an
 * unprivileged process.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * The architectures whose system calls the filter checks: the one it is built for and the
 * other one its kernel runs, so that a 32-bit program run under a 64-bit no-uring (or the
 * reverse) is refused io_uring as well. The rest pass untouched.
 */
#if defined(__x86_64__) || defined(__i386__)
#define ARCH_A AUDIT_ARCH_X86_64
#define ARCH_B AUDIT_ARCH_I386
#elif defined(__aarch64__) || defined(__arm__)
#define ARCH_A AUDIT_ARCH_AARCH64
#define ARCH_B AUDIT_ARCH_ARM
#else
#error "no-uring: add this architecture's AUDIT_ARCH value"
#endif

/*
 * io_uring came after Linux 5.1 gave new system calls one number on every architecture, so
 * these hold for both architectures of the pair (x86_64 and i386, arm64 and arm).
 */
#define NR_IO_URING_SETUP 425
#define NR_IO_URING_ENTER 426
#define NR_IO_URING_REGISTER 427
_Static_assert(__NR_io_uring_setup == NR_IO_URING_SETUP && __NR_io_uring_enter == NR_IO_URING_ENTER &&
		       __NR_io_uring_register == NR_IO_URING_REGISTER,
	       "io_uring system call numbers differ here: give each architecture its own");

#define DENY(nr, err)                                                                              \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                                           \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((err) & SECCOMP_RET_DATA))

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{"EPERM", EPERM}, {"ENOSYS", ENOSYS}, {"EACCES", EACCES}, {"EINVAL", EINVAL},
	{"ENOMEM", ENOMEM},
};

/* An errno by name (ENOSYS) or number (38); -1 if it is neither. */
static int parse_errno(const char *arg)
{
	char *end;
	long n;

	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(arg, errnos[i].name))
			return errnos[i].err;
	n = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || n <= 0 || n > 4095)
		return -1;
	return (int)n;
}

static int usage(void)
{
	fprintf(stderr, "usage: no-uring [--errno EPERM|ENOSYS|EACCES|EINVAL|ENOMEM|NUMBER] "
			"PROGRAM [ARGS...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int err = EPERM;

	if (argc >= 2 && !strcmp(argv[1], "--errno")) {
		if (argc < 3 || (err = parse_errno(argv[2])) < 0)
			return usage();
		argv += 2;
		argc -= 2;
	}
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_A, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_B, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		DENY(NR_IO_URING_SETUP, err),
		DENY(NR_IO_URING_ENTER, err),
		DENY(NR_IO_URING_REGISTER, err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (argc < 2 || !strcmp(argv[1], "--help"))
		return usage();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		perror("no-uring: seccomp");
		return 125;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-uring: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
