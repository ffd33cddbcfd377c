/* Unit tests for ack_batch.c: the frames planned for the acks a consumer
   owes, checked against what RabbitMQ does with them (a multiple ack
   settles every unacked delivery up to its tag, so it must never cover one
   still unsettled). Sending them to a real node is in
   tests/amqp/test_amqp_live.c. */
#include "ack_batch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* The next frame: its tag, multiple flag and count, or count 0. */
typedef struct {
    size_t count;
    uint64_t tag;
    bool multiple;
} s_frame_t;

static s_frame_t
s_next (ack_batch_t *batch)
{
    s_frame_t f = { 0 };
    f.count = ack_batch_next (batch, &f.tag, &f.multiple);
    return f;
}

static ack_batch_t *
s_batch_with (int capacity, uint64_t first, uint64_t last)
{
    ack_batch_t *batch = ack_batch_new (capacity);
    assert_non_null (batch);
    for (uint64_t tag = first; tag <= last; tag++)
        assert_int_equal (ack_batch_delivered (batch, tag), 0);
    return batch;
}

static void
test_acks_in_order_go_as_one_multiple_frame (void **state)
{
    ack_batch_t *batch = s_batch_with (32, 1, 5);
    for (uint64_t tag = 1; tag <= 5; tag++)
        assert_int_equal (ack_batch_ack (batch, tag), 0);
    s_frame_t f = s_next (batch);
    assert_int_equal (f.count, 5);
    assert_int_equal (f.tag, 5);
    assert_true (f.multiple);
    assert_int_equal (s_next (batch).count, 0);
    assert_int_equal (ack_batch_pending (batch), 0);
    assert_int_equal (ack_batch_unsettled (batch), 0);
    ack_batch_destroy (&batch);
    assert_null (batch);
    ack_batch_destroy (&batch); /* harmless twice */
}

static void
test_a_single_ack_is_not_multiple (void **state)
{
    ack_batch_t *batch = s_batch_with (8, 1, 3);
    assert_int_equal (ack_batch_ack (batch, 1), 0);
    s_frame_t f = s_next (batch);
    assert_int_equal (f.count, 1);
    assert_int_equal (f.tag, 1);
    assert_false (f.multiple);
    assert_int_equal (ack_batch_unsettled (batch), 2);
    ack_batch_destroy (&batch);
}

static void
test_a_multiple_ack_never_covers_an_unsettled_delivery (void **state)
{
    /* 1..8 delivered; 3 still in progress; the rest acked out of order. */
    ack_batch_t *batch = s_batch_with (32, 1, 8);
    uint64_t acked[] = { 7, 2, 1, 5, 8, 4, 6 };
    for (size_t i = 0; i < sizeof acked / sizeof acked[0]; i++)
        assert_int_equal (ack_batch_ack (batch, acked[i]), 0);
    s_frame_t f = s_next (batch);
    assert_int_equal (f.count, 2); /* 1 and 2, below the unsettled 3 */
    assert_int_equal (f.tag, 2);
    assert_true (f.multiple);
    for (uint64_t tag = 4; tag <= 8; tag++) {
        f = s_next (batch);
        assert_int_equal (f.count, 1);
        assert_int_equal (f.tag, tag);
        assert_false (f.multiple);
    }
    assert_int_equal (s_next (batch).count, 0);
    /* 3 finishes: alone now, since the others are settled. */
    assert_int_equal (ack_batch_ack (batch, 3), 0);
    f = s_next (batch);
    assert_int_equal (f.count, 1);
    assert_int_equal (f.tag, 3);
    assert_false (f.multiple);
    ack_batch_destroy (&batch);
}

static void
test_a_rejected_delivery_does_not_hold_back_the_acks_above_it (void **state)
{
    /* A reject settles 2 by a frame of its own: a later multiple ack up to
       4 covers 1, 3 and 4 (the broker holds nothing else unacked there). */
    ack_batch_t *batch = s_batch_with (8, 1, 5);
    assert_int_equal (ack_batch_forget (batch, 2), 0);
    assert_int_equal (ack_batch_ack (batch, 4), 0);
    assert_int_equal (ack_batch_ack (batch, 1), 0);
    assert_int_equal (ack_batch_ack (batch, 3), 0);
    s_frame_t f = s_next (batch);
    assert_int_equal (f.count, 3);
    assert_int_equal (f.tag, 4);
    assert_true (f.multiple);
    assert_int_equal (ack_batch_unsettled (batch), 1); /* 5 */
    ack_batch_destroy (&batch);
}

static void
test_a_delivery_let_go_unsettled_holds_back_the_multiple_ack (void **state)
{
    /* 1 is released without a settle (stopping: it goes back to the queue
       when the channel closes); nothing may ack it by accident. */
    ack_batch_t *batch = s_batch_with (8, 1, 3);
    assert_int_equal (ack_batch_ack (batch, 2), 0);
    assert_int_equal (ack_batch_ack (batch, 3), 0);
    s_frame_t f = s_next (batch);
    assert_int_equal (f.tag, 2);
    assert_false (f.multiple);
    f = s_next (batch);
    assert_int_equal (f.tag, 3);
    assert_false (f.multiple);
    assert_int_equal (ack_batch_unsettled (batch), 1);
    ack_batch_destroy (&batch);
}

static void
test_unknown_or_repeated_tags_are_refused (void **state)
{
    ack_batch_t *batch = s_batch_with (8, 1, 2);
    assert_int_equal (ack_batch_ack (batch, 9), -1);    /* never delivered */
    assert_int_equal (ack_batch_forget (batch, 9), -1); /* never delivered */
    assert_int_equal (ack_batch_ack (batch, 1), 0);
    assert_int_equal (ack_batch_ack (batch, 1), -1); /* twice */
    assert_int_equal (ack_batch_forget (batch, 1), -1);
    assert_int_equal (ack_batch_delivered (batch, 2), -1); /* not above the last */
    assert_int_equal (ack_batch_delivered (batch, 1), -1);
    assert_int_equal (ack_batch_pending (batch), 1);
    assert_int_equal (ack_batch_unsettled (batch), 1);
    ack_batch_destroy (&batch);
}

static void
test_the_window_bounds_unsettled_and_pending_together (void **state)
{
    /* At capacity 3: a fourth delivery is more than the prefetch allows,
       whether the earlier ones are unsettled or acked but not yet sent. */
    ack_batch_t *batch = s_batch_with (3, 1, 3);
    assert_int_equal (ack_batch_delivered (batch, 4), -1);
    assert_int_equal (ack_batch_ack (batch, 1), 0);
    assert_int_equal (ack_batch_delivered (batch, 4), -1);
    assert_int_equal (s_next (batch).count, 1); /* sent: room for one */
    assert_int_equal (ack_batch_delivered (batch, 4), 0);
    assert_int_equal (ack_batch_delivered (batch, 5), -1);
    ack_batch_destroy (&batch);
}

static void
test_a_reset_starts_a_new_channel (void **state)
{
    ack_batch_t *batch = s_batch_with (4, 1, 4);
    assert_int_equal (ack_batch_ack (batch, 2), 0);
    ack_batch_reset (batch);
    assert_int_equal (ack_batch_pending (batch), 0);
    assert_int_equal (ack_batch_unsettled (batch), 0);
    assert_int_equal (s_next (batch).count, 0);
    assert_int_equal (ack_batch_ack (batch, 1), -1); /* of the old channel */
    for (uint64_t tag = 1; tag <= 4; tag++)
        assert_int_equal (ack_batch_delivered (batch, tag), 0);
    ack_batch_destroy (&batch);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_acks_in_order_go_as_one_multiple_frame),
        cmocka_unit_test (test_a_single_ack_is_not_multiple),
        cmocka_unit_test (test_a_multiple_ack_never_covers_an_unsettled_delivery),
        cmocka_unit_test (test_a_rejected_delivery_does_not_hold_back_the_acks_above_it),
        cmocka_unit_test (test_a_delivery_let_go_unsettled_holds_back_the_multiple_ack),
        cmocka_unit_test (test_unknown_or_repeated_tags_are_refused),
        cmocka_unit_test (test_the_window_bounds_unsettled_and_pending_together),
        cmocka_unit_test (test_a_reset_starts_a_new_channel),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
