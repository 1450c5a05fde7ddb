/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * POSIXAIO_ENGINE=bogus: a message on stderr, then the library behaves as auto: io_uring
 * when this process may use it, native AIO when io_uring is refused.
 */
#include "faults.h"

#include <posixaio.h>

static int test(void)
{
	static char buf[512];
	struct aiocb cb;
	int fd, out, saved, uring_err;
	const char *text, *engine, *want = getenv("POSIXAIO_ENGINE");

	if (!want || strcmp(want, "bogus"))
		skip("POSIXAIO_ENGINE is %s, not bogus", want ? want : "unset");
	uring_err = uring_setup_errno();
	fd = tmp_file_with(0, sizeof(buf), pattern_byte);
	saved = stderr_capture(&out);
	aiocb_prep(&cb, fd, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(buf), "read with POSIXAIO_ENGINE=bogus");
	engine = posixaio_engine();
	text = stderr_restore(saved, out);
	EXPECT(buf[7] == (char)pattern_byte(7), "the read returned other bytes");
	EXPECT(strstr(text, "bogus") != NULL,
	       "expected a message on stderr about POSIXAIO_ENGINE=bogus, got \"%s\"", text);
	EXPECT(engine && !strcmp(engine, uring_err ? "kaio" : "io_uring"),
	       "io_uring_setup answers %s here: auto should pick %s, posixaio_engine() says %s",
	       errname(uring_err), uring_err ? "kaio" : "io_uring", engine ? engine : "NULL");
	close(fd);
	return 0;
}

TEST_MAIN(test)
