/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libposixaio extensions. The POSIX AIO interface itself comes from the system <aio.h>:
 * libposixaio implements it for glibc's struct aiocb, unchanged. The extensions below exist
 * only in libposixaio (link with -lposixaio); see posixaio(7) and each function's page.
 */
#ifndef POSIXAIO_H
#define POSIXAIO_H

#include <aio.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The engine serving this process: "io_uring" or "kaio" (Linux native AIO). Starts the
 * library if it has not started yet. NULL, with nothing started, when no engine can run.
 */
const char *posixaio_engine(void);

/*
 * A descriptor owned by the library (close-on-exec, never to be closed, read or written by
 * the program) that polls readable while requests of this process have completed and not
 * yet been claimed by aio_return() or aio_waitcomplete(). Put it in any poll(), select() or
 * epoll loop; when it is readable, claim with aio_waitcomplete() and a zero timeout until
 * that fails with EAGAIN. -1 with errno set on failure. See posixaio_fd(3).
 */
int posixaio_fd(void);

/*
 * Wait for any completed, unclaimed request of this process, as on FreeBSD: *cbp receives
 * its aiocb and the return value is what aio_return() would give (which this call replaces).
 * A zero timeout polls, NULL waits without limit. -1 with errno EAGAIN when the timeout
 * passed with nothing complete (*cbp NULL), EINTR on a signal, EINVAL for a bad timeout, or
 * the request's own error (*cbp set). See aio_waitcomplete(3).
 */
#if defined(__USE_TIME_BITS64) && __TIMESIZE == 32
/* -D_TIME_BITS=64 where time_t has 32 bits: the name that reads a 64-bit struct timespec. */
#ifdef __REDIRECT
extern ssize_t __REDIRECT(aio_waitcomplete, (struct aiocb * *cbp, struct timespec *timeout),
			  __aio_waitcomplete_time64);
#else
#define aio_waitcomplete __aio_waitcomplete_time64
#endif
#else
ssize_t aio_waitcomplete(struct aiocb **cbp, struct timespec *timeout);
#endif

/*
 * Vectored requests, as on FreeBSD: aio_buf points to an array of struct iovec, aio_nbytes
 * is its count (1 to IOV_MAX). The array and the buffers must stay unchanged until the
 * request completes. See aio_readv(3).
 */
#if defined(__USE_FILE_OFFSET64) && !defined(__OFF_T_MATCHES_OFF64_T)
/*
 * With -D_FILE_OFFSET_BITS=64 on an ABI whose own off_t has 32 bits (i386, armhf), struct
 * aiocb is glibc's struct aiocb64: these names then call the *64 entry points, as <aio.h>
 * does for aio_read() and the others.
 */
#ifdef __REDIRECT_NTH
extern int __REDIRECT_NTH(aio_readv, (struct aiocb * cb), aio_readv64);
extern int __REDIRECT_NTH(aio_writev, (struct aiocb * cb), aio_writev64);
#else
#define aio_readv aio_readv64
#define aio_writev aio_writev64
#endif
#else
int aio_readv(struct aiocb *cb);
int aio_writev(struct aiocb *cb);
#endif

#ifdef __USE_LARGEFILE64
/* The same for struct aiocb64, whose aio_offset has 64 bits on every ABI. */
int aio_readv64(struct aiocb64 *cb);
int aio_writev64(struct aiocb64 *cb);
#endif

#define aio_iov aio_buf
#define aio_iovcnt aio_nbytes

/*
 * lio_listio() opcodes beyond glibc's LIO_READ (0), LIO_WRITE (1) and LIO_NOP (2), chosen
 * far from them and from glibc's internal values: vectored reads and writes, and a sync
 * that waits for the members before it on the same descriptor, as aio_fsync() does.
 */
#define LIO_READV 0x100
#define LIO_WRITEV 0x101
#define LIO_FSYNC 0x102
#define LIO_FDSYNC 0x103

#ifdef __cplusplus
}
#endif

#endif
