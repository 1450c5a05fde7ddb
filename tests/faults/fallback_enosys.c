/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io_uring missing (a kernel built without it answers ENOSYS; run under
 * `no-uring --errno ENOSYS`): with POSIXAIO_ENGINE unset or auto the library takes native
 * AIO by itself, says nothing on stderr, and serves a file and a pipe.
 */
#include "faults.h"

#include <posixaio.h>

static int test(void)
{
	static char wbuf[4096], rbuf[4096];
	struct aiocb w, r, pr;
	int p[2], fd, err, out, saved;
	const char *text, *engine;

	err = uring_setup_errno();
	if (err != ENOSYS)
		skip("io_uring_setup answers %s, not ENOSYS: run me under no-uring --errno ENOSYS",
		     errname(err));
	saved = stderr_capture(&out);
	fd = tmp_file(O_RDWR);
	for (size_t i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (char)pattern_byte(i);
	aiocb_prep(&w, fd, wbuf, sizeof(wbuf), 0);
	EXPECT_OK(aio_write(&w));
	expect_done_ok(&w, sizeof(wbuf), "write with io_uring missing");
	aiocb_prep(&r, fd, rbuf, sizeof(rbuf), 0);
	EXPECT_OK(aio_read(&r));
	expect_done_ok(&r, sizeof(rbuf), "read with io_uring missing");
	EXPECT(memcmp(rbuf, wbuf, sizeof(rbuf)) == 0, "the read did not return what was written");

	SYSCHECK(pipe(p));
	aiocb_prep(&pr, p[0], rbuf, 5, 0);
	EXPECT_OK(aio_read(&pr));
	expect_pending(&pr, "pipe read with io_uring missing");
	write_all(p[1], "hello", 5);
	expect_done_ok(&pr, 5, "pipe read with io_uring missing");
	EXPECT(memcmp(rbuf, "hello", 5) == 0, "the pipe read got other bytes");

	engine = posixaio_engine();
	text = stderr_restore(saved, out);
	EXPECT(engine && !strcmp(engine, "kaio"),
	       "expected the library to fall back to kaio, posixaio_engine() says %s",
	       engine ? engine : "NULL");
	EXPECT(text[0] == '\0', "the automatic fallback wrote to stderr: %s", text);
	return 0;
}

TEST_MAIN(test)
