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

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_window_tags_start_at_one_and_increase),
        cmocka_unit_test (test_window_refuses_push_when_full),
        cmocka_unit_test (test_window_hole_holds_cursor_back),
        cmocka_unit_test (test_window_multiple_ack_confirms_prefix_only),
        cmocka_unit_test (test_window_rejects_ack_beyond_published),
        cmocka_unit_test (test_window_wraps_around_ring),
        cmocka_unit_test (test_window_reset_restarts_tags),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
