/*
 * test_reply_pool — the replies' buffers: a reply that fits a slot is sent
 * from one and the slot comes back for the next reply, from the loop's own
 * thread or from libzmq's I/O thread; a bigger one, one libzmq keeps
 * inline (33 bytes or less), or one past the cap, is libzmq's own message;
 * the pool outlives its destroy until the last message made from it is
 * released, from whichever thread. A slot or pool freed twice, used after
 * it is freed, or never freed is caught by the valgrind and ASan stages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reply_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* size bytes of a pattern that differs per seed. */
static void
s_fill (unsigned char *buf, size_t size, unsigned seed)
{
    for (size_t i = 0; i < size; i++)
        buf[i] = (unsigned char)(seed * 31u + i * 7u);
}

static void
test_small_reply_uses_a_slot_that_comes_back (void **state)
{
    (void)state;
    reply_pool_t *pool = reply_pool_new ();
    assert_non_null (pool);
    unsigned char data[200];
    for (unsigned round = 0; round < 5; round++) {
        s_fill (data, sizeof data, round);
        zmq_msg_t msg;
        assert_int_equal (reply_pool_msg (pool, &msg, data, sizeof data), 0);
        assert_int_equal (zmq_msg_size (&msg), sizeof data);
        assert_memory_equal (zmq_msg_data (&msg), data, sizeof data);
        assert_int_equal (zmq_msg_close (&msg), 0);
        /* Closed here, the slot is back before the next round takes one. */
        assert_int_equal (reply_pool_slots (pool), 1);
    }
    reply_pool_destroy (&pool);
    assert_null (pool);
    reply_pool_destroy (&pool); /* no-op on NULL */
}

static void
test_reply_over_a_slot_is_libzmqs_own (void **state)
{
    (void)state;
    reply_pool_t *pool = reply_pool_new ();
    assert_non_null (pool);
    unsigned char at_limit[REPLY_POOL_SLOT_BYTES], over[REPLY_POOL_SLOT_BYTES + 1];
    s_fill (at_limit, sizeof at_limit, 1);
    s_fill (over, sizeof over, 2);
    zmq_msg_t a, b;
    assert_int_equal (reply_pool_msg (pool, &a, at_limit, sizeof at_limit), 0);
    assert_int_equal (reply_pool_slots (pool), 1);
    assert_int_equal (zmq_msg_size (&a), sizeof at_limit);
    assert_int_equal (reply_pool_msg (pool, &b, over, sizeof over), 0);
    assert_int_equal (reply_pool_slots (pool), 1);
    assert_int_equal (zmq_msg_size (&b), sizeof over);
    assert_memory_equal (zmq_msg_data (&a), at_limit, sizeof at_limit);
    assert_memory_equal (zmq_msg_data (&b), over, sizeof over);
    zmq_msg_close (&a);
    zmq_msg_close (&b);
    reply_pool_destroy (&pool);
}

static void
test_reply_libzmq_keeps_inline_takes_no_slot (void **state)
{
    (void)state;
    reply_pool_t *pool = reply_pool_new ();
    assert_non_null (pool);
    unsigned char data[34];
    s_fill (data, sizeof data, 3);
    size_t sizes[] = { 0, 1, 33 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        zmq_msg_t msg;
        assert_int_equal (reply_pool_msg (pool, &msg, data, sizes[i]), 0);
        assert_int_equal (zmq_msg_size (&msg), sizes[i]);
        if (sizes[i])
            assert_memory_equal (zmq_msg_data (&msg), data, sizes[i]);
        zmq_msg_close (&msg);
    }
    assert_int_equal (reply_pool_slots (pool), 0);
    zmq_msg_t over;
    assert_int_equal (reply_pool_msg (pool, &over, data, 34), 0);
    assert_int_equal (reply_pool_slots (pool), 1);
    assert_memory_equal (zmq_msg_data (&over), data, 34);
    zmq_msg_close (&over);
    reply_pool_destroy (&pool);
}

static void
test_replies_past_the_cap_are_still_made (void **state)
{
    (void)state;
    reply_pool_t *pool = reply_pool_new ();
    assert_non_null (pool);
    size_t n = REPLY_POOL_SLOTS_MAX + 10;
    zmq_msg_t *msgs = calloc (n, sizeof *msgs);
    assert_non_null (msgs);
    unsigned char data[64];
    for (size_t i = 0; i < n; i++) {
        s_fill (data, sizeof data, (unsigned)i);
        assert_int_equal (reply_pool_msg (pool, &msgs[i], data, sizeof data), 0);
    }
    assert_int_equal (reply_pool_slots (pool), REPLY_POOL_SLOTS_MAX);
    /* The last slot made is the last one closed below: the first given back. */
    const void *last_slot = zmq_msg_data (&msgs[REPLY_POOL_SLOTS_MAX - 1]);
    for (size_t i = 0; i < n; i++) {
        s_fill (data, sizeof data, (unsigned)i);
        assert_memory_equal (zmq_msg_data (&msgs[i]), data, sizeof data);
        zmq_msg_close (&msgs[i]);
    }
    /* All back: the next reply takes a slot again, no new one is made. */
    zmq_msg_t again;
    assert_int_equal (reply_pool_msg (pool, &again, data, sizeof data), 0);
    assert_int_equal (reply_pool_slots (pool), REPLY_POOL_SLOTS_MAX);
    assert_ptr_equal (zmq_msg_data (&again), last_slot);
    zmq_msg_close (&again);
    free (msgs);
    reply_pool_destroy (&pool);
}

static void
test_pool_lives_until_its_last_message_is_released (void **state)
{
    (void)state;
    reply_pool_t *pool = reply_pool_new ();
    assert_non_null (pool);
    unsigned char data[100];
    s_fill (data, sizeof data, 9);
    zmq_msg_t msg;
    assert_int_equal (reply_pool_msg (pool, &msg, data, sizeof data), 0);
    reply_pool_destroy (&pool);
    /* The slot is still the message's: readable until it is closed. */
    assert_memory_equal (zmq_msg_data (&msg), data, sizeof data);
    zmq_msg_close (&msg);
}

/* Replies still queued in libzmq when the pool is destroyed: closing the
   socket releases them from libzmq's own threads, and the last release
   frees the pool (a use after free or a leak here fails the ASan and
   valgrind stages). */
static void
test_pool_freed_by_the_last_release_from_libzmq (void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new ();
    /* An endpoint nobody listens on: the PUSH queues for the connection. */
    void *probe = zmq_socket (ctx, ZMQ_PULL);
    assert_int_equal (zmq_bind (probe, "tcp://127.0.0.1:*"), 0);
    char endpoint[64];
    size_t len = sizeof endpoint;
    assert_int_equal (zmq_getsockopt (probe, ZMQ_LAST_ENDPOINT, endpoint, &len), 0);
    zmq_close (probe);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    int zero = 0;
    assert_int_equal (zmq_setsockopt (push, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal (zmq_connect (push, endpoint), 0);
    reply_pool_t *pool = reply_pool_new ();
    assert_non_null (pool);
    unsigned char data[200];
    for (unsigned i = 0; i < 10; i++) {
        s_fill (data, sizeof data, i);
        zmq_msg_t msg;
        assert_int_equal (reply_pool_msg (pool, &msg, data, sizeof data), 0);
        assert_int_equal (zmq_msg_send (&msg, push, ZMQ_DONTWAIT), (int)sizeof data);
    }
    assert_int_equal (reply_pool_slots (pool), 10);
    reply_pool_destroy (&pool);
    assert_null (pool);
    zmq_close (push);
    zmq_ctx_term (ctx);
}

/* Through a real socket pair over TCP: libzmq's I/O thread frees the sent
   slots, in another thread than the one making them, while it makes more. */
static void
test_slots_come_back_from_the_io_thread (void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL), *push = zmq_socket (ctx, ZMQ_PUSH);
    assert_int_equal (zmq_bind (pull, "tcp://127.0.0.1:*"), 0);
    char endpoint[64];
    size_t len = sizeof endpoint;
    assert_int_equal (zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, endpoint, &len), 0);
    assert_int_equal (zmq_connect (push, endpoint), 0);
    reply_pool_t *pool = reply_pool_new ();
    assert_non_null (pool);
    const size_t n = 20000, window = 100;
    unsigned char data[300], got[300];
    size_t sent = 0, received = 0;
    while (received < n) {
        while (sent < n && sent - received < window) {
            s_fill (data, sizeof data, (unsigned)sent);
            zmq_msg_t msg;
            assert_int_equal (reply_pool_msg (pool, &msg, data, sizeof data), 0);
            assert_int_equal (zmq_msg_send (&msg, push, 0), (int)sizeof data);
            sent++;
        }
        assert_int_equal (zmq_recv (pull, got, sizeof got, 0), (int)sizeof got);
        s_fill (data, sizeof data, (unsigned)received);
        assert_memory_equal (got, data, sizeof got);
        received++;
    }
    /* At most the window (plus what libzmq still held) was ever in flight:
       the slots were reused, not made per reply. */
    assert_true (reply_pool_slots (pool) <= 2 * window + 16);
    reply_pool_destroy (&pool);
    zmq_close (push);
    zmq_close (pull);
    zmq_ctx_term (ctx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_small_reply_uses_a_slot_that_comes_back),
        cmocka_unit_test (test_reply_over_a_slot_is_libzmqs_own),
        cmocka_unit_test (test_reply_libzmq_keeps_inline_takes_no_slot),
        cmocka_unit_test (test_replies_past_the_cap_are_still_made),
        cmocka_unit_test (test_pool_lives_until_its_last_message_is_released),
        cmocka_unit_test (test_pool_freed_by_the_last_release_from_libzmq),
        cmocka_unit_test (test_slots_come_back_from_the_io_thread),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
