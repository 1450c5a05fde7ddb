/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the library's internal pieces: request tokens, per-descriptor order rules,
 * sigevent validation and the claim list. They drive src/ functions directly, as the single
 * thread that holds core.lock, without an engine.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static struct req *mkreq(struct aiocb *cb, int fd, int op)
{
	struct req *r = req_alloc();

	ck_assert_ptr_nonnull(r);
	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = fd;
	r->cb = cb;
	r->fd = fd;
	r->op = (uint8_t)op;
	r->state = REQ_LIVE;
	return r;
}

static int tmpfile_fd(int extra)
{
	char path[] = "/tmp/posixaio-unit-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	if (extra)
		ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | extra), 0);
	return fd;
}

/* Retire r as the completion path would, collecting what may run next. */
static unsigned retire(struct req *r, struct req **ready)
{
	unsigned n = 0;

	fdq_retire(r, ready, &n);
	r->state = REQ_DONE;
	return n;
}

START_TEST(token_finds_live_request_only)
{
	struct aiocb cb, copy;
	struct req *r;

	core_lock();
	r = mkreq(&cb, 3, OP_READ);
	req_set_token(r);
	ck_assert_ptr_eq(req_lookup(&cb), r);
	copy = cb; /* same token, another aiocb: must not match */
	ck_assert_ptr_null(req_lookup(&copy));
	req_free(r);
	ck_assert_ptr_null(req_lookup(&cb));
	/* The slot is reused with a new generation: the stale token still misses. */
	r = req_alloc();
	r->cb = &cb;
	r->state = REQ_LIVE;
	ck_assert_ptr_null(req_lookup(&cb));
	req_free(r);
	core_unlock();
}
END_TEST

START_TEST(zeroed_and_forged_tokens_miss)
{
	struct aiocb cb;

	memset(&cb, 0, sizeof(cb));
	core_lock();
	ck_assert_ptr_null(req_lookup(&cb));
	cb.__abs_prio = 0x7fffffff;
	cb.__policy = 1;
	ck_assert_ptr_null(req_lookup(&cb));
	cb.__abs_prio = -5;
	ck_assert_ptr_null(req_lookup(&cb));
	core_unlock();
}
END_TEST

START_TEST(slabs_grow_past_one_slab)
{
	enum { N = 3 * REQ_SLAB + 7 };
	struct req **rs = calloc(N, sizeof(*rs));

	core_lock();
	for (int i = 0; i < N; i++) {
		rs[i] = req_alloc();
		ck_assert_ptr_nonnull(rs[i]);
		for (int j = 0; j < i; j += 97)
			ck_assert_ptr_ne(rs[i], rs[j]);
	}
	for (int i = 0; i < N; i++)
		req_free(rs[i]);
	core_unlock();
	free(rs);
}
END_TEST

START_TEST(stream_reads_one_at_a_time_in_order)
{
	struct aiocb cb[3];
	struct req *r[3], *ready[FDQ_READY_MAX];
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	core_lock();
	for (int i = 0; i < 3; i++)
		r[i] = mkreq(&cb[i], p[0], OP_READ);
	ck_assert_int_eq(fdq_enqueue(r[0]), 1);
	ck_assert_int_eq(fdq_enqueue(r[1]), 0);
	ck_assert_int_eq(fdq_enqueue(r[2]), 0);
	ck_assert_int_eq(r[1]->state, REQ_HELD);
	ck_assert_int_eq(retire(r[0], ready), 1);
	ck_assert_ptr_eq(ready[0], r[1]);
	ck_assert_int_eq(retire(r[1], ready), 1);
	ck_assert_ptr_eq(ready[0], r[2]);
	ck_assert_int_eq(retire(r[2], ready), 0);
	for (int i = 0; i < 3; i++)
		req_free(r[i]);
	core_unlock();
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(stream_read_and_write_run_side_by_side)
{
	struct aiocb cb[4];
	struct req *r[4];
	int sv[2];

	ck_assert_int_eq(pipe(sv), 0);
	core_lock();
	r[0] = mkreq(&cb[0], sv[0], OP_READ);
	r[1] = mkreq(&cb[1], sv[0], OP_WRITE);
	r[2] = mkreq(&cb[2], sv[0], OP_WRITE);
	ck_assert_int_eq(fdq_enqueue(r[0]), 1);
	ck_assert_int_eq(fdq_enqueue(r[1]), 1); /* a write is not held behind a read */
	ck_assert_int_eq(fdq_enqueue(r[2]), 0); /* but behind the earlier write */
	core_unlock();
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(fsync_waits_for_earlier_requests_only)
{
	struct aiocb cb[4];
	struct req *r[4], *ready[FDQ_READY_MAX];
	int fd = tmpfile_fd(0);

	core_lock();
	r[0] = mkreq(&cb[0], fd, OP_WRITE);
	r[1] = mkreq(&cb[1], fd, OP_WRITE);
	r[2] = mkreq(&cb[2], fd, OP_FSYNC);
	r[3] = mkreq(&cb[3], fd, OP_WRITE);
	ck_assert_int_eq(fdq_enqueue(r[0]), 1);
	ck_assert_int_eq(fdq_enqueue(r[1]), 1); /* regular file: concurrent */
	ck_assert_int_eq(fdq_enqueue(r[2]), 0); /* the fsync waits */
	ck_assert_int_eq(fdq_enqueue(r[3]), 1); /* a later write does not wait for it */
	ck_assert_int_eq(retire(r[1], ready), 0);
	ck_assert_int_eq(retire(r[0], ready), 1); /* the last earlier one done: fsync runs */
	ck_assert_ptr_eq(ready[0], r[2]);
	ck_assert_int_eq(retire(r[3], ready), 0);
	ck_assert_int_eq(retire(r[2], ready), 0);
	core_unlock();
	close(fd);
}
END_TEST

START_TEST(lone_fsync_runs_at_once)
{
	struct aiocb cb;
	struct req *r;
	struct req *ready[FDQ_READY_MAX];
	int fd = tmpfile_fd(0);

	core_lock();
	r = mkreq(&cb, fd, OP_FDSYNC);
	ck_assert_int_eq(fdq_enqueue(r), 1);
	ck_assert_int_eq(retire(r, ready), 0);
	core_unlock();
	close(fd);
}
END_TEST

START_TEST(append_writes_one_at_a_time)
{
	struct aiocb cb[4];
	struct req *r[4], *ready[FDQ_READY_MAX];
	int fd = tmpfile_fd(O_APPEND);

	core_lock();
	r[0] = mkreq(&cb[0], fd, OP_WRITE);
	r[1] = mkreq(&cb[1], fd, OP_WRITE);
	r[2] = mkreq(&cb[2], fd, OP_READ);
	ck_assert_int_eq(fdq_enqueue(r[0]), 1);
	ck_assert_int_eq(fdq_enqueue(r[1]), 0);
	ck_assert_int_eq(fdq_enqueue(r[2]), 1); /* reads of an O_APPEND file run freely */
	ck_assert_int_eq(retire(r[0], ready), 1);
	ck_assert_ptr_eq(ready[0], r[1]);
	core_unlock();
	close(fd);
}
END_TEST

START_TEST(held_request_cancelled_leaves_queue_intact)
{
	struct aiocb cb[3];
	struct req *r[3], *ready[FDQ_READY_MAX];
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	core_lock();
	for (int i = 0; i < 3; i++)
		r[i] = mkreq(&cb[i], p[0], OP_READ);
	fdq_enqueue(r[0]);
	fdq_enqueue(r[1]);
	fdq_enqueue(r[2]);
	/* r[1] is cancelled while held: r[2] must still follow r[0]. */
	ck_assert_int_eq(retire(r[1], ready), 0);
	ck_assert_int_eq(retire(r[0], ready), 1);
	ck_assert_ptr_eq(ready[0], r[2]);
	core_unlock();
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(fd_kinds)
{
	int p[2], fd = tmpfile_fd(0), afd = tmpfile_fd(O_APPEND), dev = open("/dev/null", O_RDWR);

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fd_classify(p[0]), FDK_STREAM);
	ck_assert_int_eq(fd_classify(fd), FDK_FILE);
	ck_assert_int_eq(fd_classify(afd), FDK_APPEND);
	ck_assert_int_eq(fd_classify(dev), FDK_STREAM);
	close(p[0]);
	ck_assert_int_eq(fd_classify(p[0]), FDK_BAD);
	close(p[1]);
	close(fd);
	close(afd);
	close(dev);
}
END_TEST

START_TEST(sigevent_validation)
{
	struct sigevent se;
	struct sev s;

	memset(&se, 0, sizeof(se)); /* SIGEV_SIGNAL with signal 0: valid, sends nothing */
	ck_assert_int_eq(sev_copy(&s, &se), 0);
	ck_assert(!sev_needs_thread(&s));
	se.sigev_signo = SIGRTMAX + 1;
	ck_assert_int_eq(sev_copy(&s, &se), -EINVAL);
	se.sigev_signo = -1;
	ck_assert_int_eq(sev_copy(&s, &se), -EINVAL);
	se.sigev_signo = SIGUSR1;
	ck_assert_int_eq(sev_copy(&s, &se), 0);
	ck_assert(sev_needs_thread(&s));
	se.sigev_notify = SIGEV_THREAD;
	se.sigev_notify_function = NULL;
	ck_assert_int_eq(sev_copy(&s, &se), -EINVAL);
	se.sigev_notify = SIGEV_THREAD_ID;
	se._sigev_un._tid = 0;
	ck_assert_int_eq(sev_copy(&s, &se), -EINVAL);
	se._sigev_un._tid = getpid();
	ck_assert_int_eq(sev_copy(&s, &se), 0);
	se.sigev_notify = 12345;
	ck_assert_int_eq(sev_copy(&s, &se), -EINVAL);
	se.sigev_notify = SIGEV_NONE;
	ck_assert_int_eq(sev_copy(&s, &se), 0);
	ck_assert(!sev_needs_thread(&s));
}
END_TEST

/* A request completes and is notified: what req_finish_locked and req_notified do. */
static struct req *complete(struct aiocb *cb)
{
	struct req *r = mkreq(cb, 3, OP_READ);

	req_set_token(r);
	r->state = REQ_DONE;
	claim_publish(r);
	return r;
}

START_TEST(claims_kept_bounded_until_asked)
{
	static struct aiocb cbs[300];

	core_lock();
	for (int i = 0; i < 300; i++)
		claim_push(complete(&cbs[i]));
	/* Nobody asked for claims: only the last 256 are kept. */
	ck_assert_uint_eq(core.nclaim, 256);
	claim_release(&cbs[0], true); /* dropped already: nothing changes */
	ck_assert_uint_eq(core.nclaim, 256);
	ck_assert_uint_ne(req_slot(&cbs[299])->claim, 0);
	claim_release(&cbs[299], true);
	ck_assert_uint_eq(req_slot(&cbs[299])->claim, 0);
	claim_release(&cbs[299], true); /* twice: claimed once, nothing else moves */
	ck_assert_uint_ne(req_slot(&cbs[298])->claim, 0);
	core_unlock();
}
END_TEST

START_TEST(claim_before_listing_frees_at_push)
{
	struct aiocb cb;
	struct req *r;

	core_lock();
	r = complete(&cb);
	claim_release(&cb, true); /* aio_return before the notification was out */
	claim_push(r);
	ck_assert_uint_eq(core.nclaim, 0);
	ck_assert_uint_eq(core.unclaimed, 0);
	ck_assert_int_eq(r->state, REQ_FREE);
	core_unlock();
}
END_TEST

START_TEST(claimed_entries_do_not_pile_up)
{
	static struct aiocb cbs[2000];

	core_lock();
	claim_mode_on(); /* as posixaio_fd() does: every completion waits for its claim */
	for (int i = 0; i < 2000; i++) {
		claim_push(complete(&cbs[i]));
		if (i > 0)
			claim_release(&cbs[i], true); /* all claimed but the first, which stays */
	}
	ck_assert_uint_eq(core.unclaimed, 1);
	ck_assert_uint_le(core.nclaim, 2 * 1 + 256 + 1);
	core_unlock();
}
END_TEST

/*
 * A thread held up in the middle of its run of places in the ring of light reads (reads
 * finished inside aio_read() with nothing to notify) must not write its next read to a place
 * the other threads are about to reach: that read would leave the ring long before the last
 * few hundred light reads do.
 */
static struct aiocb lagging_cb[2], filler_cb;
static sem_t lag_go, lag_done;

static void *lagging_reader(void *arg)
{
	(void)arg;
	claim_light(&lagging_cb[0], 1); /* the run's first place, or its second: */
	claim_light(&lagging_cb[0], 1); /* the run is taken */
	sem_post(&lag_done);
	sem_wait(&lag_go);
	ck_assert(claim_light(&lagging_cb[1], 1)); /* after the other thread's 400 */
	sem_post(&lag_done);
	return NULL;
}

static bool listed_cb(const struct aiocb *cb)
{
	for (struct req *r = core.claims.head; r; r = r->next)
		if (r->cb == cb)
			return true;
	return false;
}

START_TEST(light_read_of_held_up_thread_is_kept)
{
	pthread_t t;

	sem_init(&lag_go, 0, 0);
	sem_init(&lag_done, 0, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, lagging_reader, NULL), 0);
	sem_wait(&lag_done);
	for (int i = 0; i < 400; i++)
		ck_assert(claim_light(&filler_cb, 1));
	sem_post(&lag_go);
	sem_wait(&lag_done);
	for (int i = 0; i < 300; i++)
		ck_assert(claim_light(&filler_cb, 1));
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(lagging_cb[1].__error_code, 0);
	core_lock();
	claim_mode_on(); /* lists the ring's unclaimed reads */
	ck_assert_msg(listed_cb(&lagging_cb[1]), "a read 300 light reads old left the ring");
	ck_assert(listed_cb(&filler_cb));
	core_unlock();
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *req = tcase_create("req"), *fdq = tcase_create("fdq"), *sev = tcase_create("sev");
	TCase *claim = tcase_create("claim");

	tcase_add_test(req, token_finds_live_request_only);
	tcase_add_test(req, zeroed_and_forged_tokens_miss);
	tcase_add_test(req, slabs_grow_past_one_slab);
	tcase_add_test(fdq, stream_reads_one_at_a_time_in_order);
	tcase_add_test(fdq, stream_read_and_write_run_side_by_side);
	tcase_add_test(fdq, fsync_waits_for_earlier_requests_only);
	tcase_add_test(fdq, lone_fsync_runs_at_once);
	tcase_add_test(fdq, append_writes_one_at_a_time);
	tcase_add_test(fdq, held_request_cancelled_leaves_queue_intact);
	tcase_add_test(fdq, fd_kinds);
	tcase_add_test(sev, sigevent_validation);
	tcase_add_test(claim, claims_kept_bounded_until_asked);
	tcase_add_test(claim, claim_before_listing_frees_at_push);
	tcase_add_test(claim, claimed_entries_do_not_pile_up);
	tcase_add_test(claim, light_read_of_held_up_thread_is_kept);
	suite_add_tcase(s, req);
	suite_add_tcase(s, claim);
	suite_add_tcase(s, fdq);
	suite_add_tcase(s, sev);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(core_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
