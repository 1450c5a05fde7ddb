/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_read from /dev/zero fills zeros; aio_write to /dev/null and aio_read from it (EOF). */
#include "common.h"

static int test(void)
{
	static char buf[65536];
	struct aiocb cb;
	int zero, null;

	zero = open("/dev/zero", O_RDONLY);
	null = open("/dev/null", O_RDWR);
	if (zero == -1 || null == -1)
		skip("cannot open /dev/zero or /dev/null: %s", strerror(errno));

	memset(buf, 0xaa, sizeof(buf));
	aiocb_prep(&cb, zero, buf, sizeof(buf), 12345);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, sizeof(buf), "aio_read from /dev/zero");
	for (size_t i = 0; i < sizeof(buf); i++)
		EXPECT(buf[i] == 0, "byte %zu read from /dev/zero is 0x%02x", i,
		       (unsigned char)buf[i]);

	aiocb_prep(&cb, null, buf, sizeof(buf), 0);
	EXPECT_OK(aio_write(&cb));
	expect_done_ok(&cb, sizeof(buf), "aio_write to /dev/null");

	aiocb_prep(&cb, null, buf, sizeof(buf), 0);
	EXPECT_OK(aio_read(&cb));
	expect_done_ok(&cb, 0, "aio_read from /dev/null");
	close(zero);
	close(null);
	return 0;
}

TEST_MAIN(test)
