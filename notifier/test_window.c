/* Unit tests for the notifier's confirm window (window.c). */
#include "window.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void
test_window_tags_start_at_one_and_increase (void **state)
{
    window_t *w = window_new (4);
    assert_int_equal (window_push (w, 10), 1);
    assert_int_equal (window_push (w, 11), 2);
    assert_int_equal (window_size (w), 2);
    assert_int_equal (window_room (w), 2);
    window_destroy (&w);
    assert_null (w);
}

static void
test_window_refuses_push_when_full (void **state)
{
    window_t *w = window_new (2);
    assert_int_not_equal (window_push (w, 1), 0);
    assert_int_not_equal (window_push (w, 2), 0);
    assert_int_equal (window_push (w, 3), 0);
    window_destroy (&w);
}

static void
test_window_hole_holds_cursor_back (void **state)
{
    window_t *w = window_new (8);
    for (uint64_t s = 100; s < 105; s++)
        window_push (w, s);
    uint64_t seq = 0;
    /* tags 2..5 confirmed individually, tag 1 not: nothing may be acked */
    for (uint64_t t = 2; t <= 5; t++)
        assert_int_equal (window_ack (w, t, false), 0);
    assert_false (window_advance (w, &seq));
    assert_int_equal (window_ack (w, 1, false), 0);
    assert_true (window_advance (w, &seq));
    assert_int_equal (seq, 104);
    assert_int_equal (window_size (w), 0);
    window_destroy (&w);
}

static void
test_window_multiple_ack_confirms_prefix_only (void **state)
{
    window_t *w = window_new (8);
    for (uint64_t s = 1; s <= 6; s++)
        window_push (w, s * 10);
    uint64_t seq = 0;
    assert_int_equal (window_ack (w, 3, true), 0);
    assert_true (window_advance (w, &seq));
    assert_int_equal (seq, 30);
    assert_int_equal (window_size (w), 3);
    /* an overlapping multiple ack for popped tags is harmless */
    assert_int_equal (window_ack (w, 2, true), 0);
    assert_false (window_advance (w, &seq));
    assert_int_equal (window_ack (w, 6, true), 0);
    assert_true (window_advance (w, &seq));
    assert_int_equal (seq, 60);
    window_destroy (&w);
}

static void
test_window_rejects_ack_beyond_published (void **state)
{
    window_t *w = window_new (4);
    window_push (w, 7);
    assert_int_equal (window_ack (w, 2, false), -1);
    assert_int_equal (window_ack (w, 2, true), -1);
    window_destroy (&w);
}

static void
test_window_wraps_around_ring (void **state)
{
    window_t *w = window_new (3);
    uint64_t seq = 0, tag = 0;
    for (uint64_t s = 1; s <= 20; s++) {
        tag = window_push (w, s);
        assert_int_equal (tag, s);
        if (s % 2 == 0) {
            assert_int_equal (window_ack (w, tag, true), 0);
            assert_true (window_advance (w, &seq));
            assert_int_equal (seq, s);
        }
    }
    window_destroy (&w);
}

static void
test_window_reset_restarts_tags (void **state)
{
    window_t *w = window_new (4);
    window_push (w, 1);
    window_push (w, 2);
    window_reset (w);
    assert_int_equal (window_size (w), 0);
    assert_int_equal (window_push (w, 1), 1);
    window_destroy (&w);
}

/* Publishes seqs first..last, one per record; returns the first tag. */
static uint64_t
s_push_range (window_t *w, uint64_t first, uint64_t last)
{
    uint64_t tag = 0;
    for (uint64_t s = first; s <= last; s++) {
        uint64_t t = window_push (w, s);
        assert_int_not_equal (t, 0);
        if (!tag)
            tag = t;
    }
    return tag;
}

static void
test_window_nack_holds_cursor_until_rewind (void **state)
{
    window_t *w = window_new (8);
    s_push_range (w, 10, 13); /* tags 1..4 */
    uint64_t seq = 0;
    assert_int_equal (window_ack (w, 1, false), 0);
    assert_int_equal (window_nack (w, 2, false), 0);
    assert_true (window_nacked (w));
    assert_int_equal (window_unresolved (w), 2);
    assert_int_equal (window_ack (w, 4, true), 0); /* covers 3, 4; 2 stays nacked */
    assert_int_equal (window_unresolved (w), 0);
    assert_true (window_advance (w, &seq));
    assert_int_equal (seq, 10);
    assert_false (window_advance (w, &seq)); /* the nack is a hole that stays */
    assert_int_equal (window_size (w), 3);
    window_destroy (&w);
}

static void
test_window_nack_does_not_undo_an_ack (void **state)
{
    window_t *w = window_new (8);
    s_push_range (w, 1, 3);
    assert_int_equal (window_ack (w, 2, false), 0);
    assert_int_equal (window_nack (w, 3, true), 0); /* tags 1 and 3 nacked, 2 stays acked */
    assert_int_equal (window_unresolved (w), 0);
    assert_int_equal (window_nack (w, 9, false), -1);
    assert_int_equal (window_rewind (w, 3), 0);
    uint64_t at = 0;
    assert_int_equal (window_skip (w, 1, &at), 0);
    window_push (w, 1);
    assert_int_equal (window_skip (w, 2, &at), 1);
    assert_int_equal (window_skip (w, 3, &at), 0);
    window_destroy (&w);
}

/* The scenario of a queue at its bound while a worker frees a slot: 11 is
   refused, 12 taken, 13 refused. The re-read must publish 11 and 13 again,
   not 12, and the cursor must pass 12 only with 11 confirmed. */
static void
test_window_rewind_republishes_only_the_refused (void **state)
{
    window_t *w = window_new (8);
    s_push_range (w, 10, 13); /* tags 1..4 */
    uint64_t seq = 0, at = 0;
    window_ack (w, 1, false);
    window_nack (w, 2, false);
    window_ack (w, 3, false);
    window_nack (w, 4, false);
    assert_true (window_advance (w, &seq));
    assert_int_equal (seq, 10);
    assert_int_equal (window_rewind (w, 13), 0);
    assert_int_equal (window_size (w), 0);
    assert_false (window_nacked (w));
    /* Re-read from the cursor (10 is acknowledged to the store). */
    assert_int_equal (window_skip (w, 11, &at), 0);
    assert_int_equal (window_push (w, 11), 5); /* the channel's tags go on */
    assert_int_equal (window_skip (w, 12, &at), 1);
    assert_int_equal (window_skip (w, 13, &at), 0);
    assert_int_equal (window_push (w, 13), 6);
    assert_int_equal (window_skip (w, 14, &at), 0);
    assert_int_equal (window_ack (w, 5, false), 0);
    assert_true (window_advance (w, &seq));
    assert_int_equal (seq, 12);                     /* 11 confirmed, 12 taken before */
    assert_int_equal (window_ack (w, 2, false), 0); /* a late confirm of the old round */
    assert_int_equal (window_ack (w, 6, false), 0);
    assert_true (window_advance (w, &seq));
    assert_int_equal (seq, 13);
    window_destroy (&w);
}

static void
test_window_skip_with_nothing_in_flight_moves_cursor (void **state)
{
    window_t *w = window_new (4);
    s_push_range (w, 5, 7);
    uint64_t seq = 0, at = 0;
    window_nack (w, 1, false);
    window_ack (w, 3, true);
    assert_false (window_advance (w, &seq));
    assert_int_equal (window_rewind (w, 7), 0);
    /* 5 published again and confirmed before 6 and 7 are re-read. */
    window_push (w, 5);
    window_ack (w, 4, false);
    assert_true (window_advance (w, &seq));
    assert_int_equal (seq, 5);
    assert_int_equal (window_skip (w, 6, &at), 2);
    assert_int_equal (at, 6);
    assert_int_equal (window_skip (w, 7, &at), 2);
    assert_int_equal (at, 7);
    assert_int_equal (window_skip (w, 8, &at), 0);
    window_destroy (&w);
}

/* A second nack before the first re-read got past everything: what the
   first rewind remembered beyond the re-read is still skipped. */
static void
test_window_second_rewind_keeps_ranges_not_reread (void **state)
{
    window_t *w = window_new (8);
    s_push_range (w, 1, 6); /* tags 1..6 */
    uint64_t seq = 0, at = 0;
    window_nack (w, 1, false);
    window_ack (w, 6, true); /* 2..6 taken */
    assert_int_equal (window_rewind (w, 6), 0);
    assert_int_equal (window_skip (w, 1, &at), 0);
    window_push (w, 1); /* tag 7 */
    assert_int_equal (window_skip (w, 2, &at), 1);
    window_nack (w, 7, false);
    assert_int_equal (window_rewind (w, 2), 0); /* read up to 2 this round */
    assert_int_equal (window_skip (w, 1, &at), 0);
    assert_int_equal (window_push (w, 1), 8);
    for (uint64_t s = 2; s <= 6; s++)
        assert_int_equal (window_skip (w, s, &at), 1);
    assert_int_equal (window_skip (w, 7, &at), 0);
    window_ack (w, 8, false);
    assert_true (window_advance (w, &seq));
    assert_int_equal (seq, 6);
    window_destroy (&w);
}

static void
test_window_reset_forgets_skips (void **state)
{
    window_t *w = window_new (4);
    s_push_range (w, 1, 2);
    uint64_t at = 0;
    window_nack (w, 1, false);
    window_ack (w, 2, false);
    assert_int_equal (window_rewind (w, 2), 0);
    window_reset (w); /* a new channel: nothing known about the old one */
    assert_int_equal (window_skip (w, 1, &at), 0);
    assert_int_equal (window_skip (w, 2, &at), 0);
    window_destroy (&w);
}

typedef struct {
    int acked, nacked;
    int64_t at_sum;
} s_settled_t;

static void
s_on_settled (void *arg, bool acked, int64_t at)
{
    s_settled_t *seen = arg;
    if (acked)
        seen->acked++;
    else
        seen->nacked++;
    seen->at_sum += at;
}

static void
test_window_reports_each_settled_publish_once_with_its_time (void **state)
{
    window_t *w = window_new (8);
    for (uint64_t seq = 1; seq <= 5; seq++)
        assert_int_equal (window_push_at (w, seq * 10, (int64_t)seq * 1000), seq);
    s_settled_t seen = { 0 };
    /* tag 2 alone, then everything up to 4 (2 again is not reported) */
    assert_int_equal (window_ack_each (w, 2, false, s_on_settled, &seen), 0);
    assert_int_equal (window_ack_each (w, 4, true, s_on_settled, &seen), 0);
    assert_int_equal (seen.acked, 4);
    assert_int_equal (seen.at_sum, 1000 + 2000 + 3000 + 4000);
    assert_int_equal (window_nack_each (w, 5, false, s_on_settled, &seen), 0);
    assert_int_equal (seen.nacked, 1);
    assert_int_equal (seen.at_sum, 15000);
    /* settling again reports nothing */
    assert_int_equal (window_ack_each (w, 5, true, s_on_settled, &seen), 0);
    assert_int_equal (seen.acked + seen.nacked, 5);
    window_destroy (&w);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_window_tags_start_at_one_and_increase),
        cmocka_unit_test (test_window_reports_each_settled_publish_once_with_its_time),
        cmocka_unit_test (test_window_refuses_push_when_full),
        cmocka_unit_test (test_window_hole_holds_cursor_back),
        cmocka_unit_test (test_window_multiple_ack_confirms_prefix_only),
        cmocka_unit_test (test_window_rejects_ack_beyond_published),
        cmocka_unit_test (test_window_wraps_around_ring),
        cmocka_unit_test (test_window_reset_restarts_tags),
        cmocka_unit_test (test_window_nack_holds_cursor_until_rewind),
        cmocka_unit_test (test_window_nack_does_not_undo_an_ack),
        cmocka_unit_test (test_window_rewind_republishes_only_the_refused),
        cmocka_unit_test (test_window_skip_with_nothing_in_flight_moves_cursor),
        cmocka_unit_test (test_window_second_rewind_keeps_ranges_not_reread),
        cmocka_unit_test (test_window_reset_forgets_skips),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
