/*
 * test_peers — the per-peer reply window: room at the budget and one byte
 * past it, the oldest reply leaving the window (one by one, or in groups for
 * a large window), peers kept apart, idle peers forgotten.
 */
#include "peers.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static const char s_a[] = { 0, 1, 2, 3, 4 };
static const char s_b[] = { 0, 1, 2, 3, 5 };

static void
test_peers_room_is_the_budget_minus_what_stays_in_the_window (void **state)
{
    peers_t *peers = peers_new (3, 1000);
    assert_non_null (peers);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0), 1000);
    peers_sent (peers, 400);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0), 600);
    peers_sent (peers, 600); /* exactly the budget */
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1000);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0), 0);
    peers_sent (peers, 1); /* one past it (a page's first item always goes) */
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1001);
    /* The next reply pushes the 400 out: the 601 that stay leave 399. */
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0), 399);
    peers_sent (peers, 399);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1000);
    /* Another peer has its own window. */
    assert_int_equal (peers_room (peers, s_b, sizeof s_b, 0), 1000);
    assert_int_equal (peers_queued (peers, s_b, sizeof s_b), 0);
    peers_destroy (&peers);
    assert_null (peers);
}

static void
test_peers_small_replies_push_big_ones_out (void **state)
{
    peers_t *peers = peers_new (4, 1 << 20);
    peers_room (peers, s_a, sizeof s_a, 0);
    peers_sent (peers, 1 << 20);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0), 0);
        peers_sent (peers, 100);
    }
    /* Four replies later the big one cannot be queued any more. */
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0), (1 << 20) - 300);
    peers_destroy (&peers);
}

static void
test_peers_idle_entries_are_forgotten (void **state)
{
    peers_t *peers = peers_new (2, 1000);
    peers_room (peers, s_a, sizeof s_a, 1000);
    peers_sent (peers, 500);
    peers_room (peers, s_b, sizeof s_b, 1000);
    peers_sent (peers, 500);
    peers_touch (peers, s_b, sizeof s_b, 5000);
    assert_int_equal (peers_expire (peers, 5500, 4500), 2); /* a idle 4500 ms: kept */
    assert_int_equal (peers_expire (peers, 5501, 4500), 1); /* a idle 4501 ms: gone */
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 0);
    assert_int_equal (peers_queued (peers, s_b, sizeof s_b), 500);
    peers_sent (peers, 7); /* no current peer after an expiry: nothing counted */
    assert_int_equal (peers_queued (peers, s_b, sizeof s_b), 500);
    peers_destroy (&peers);
}

static void
test_peers_a_reply_counts_for_at_least_the_window_in_groups (void **state)
{
    /* A window of 1000 counts replies in groups of 7 (143 slots + 1). */
    enum { WINDOW = 1000 };
    peers_t *peers = peers_new (WINDOW, 1000);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0), 1000);
    peers_sent (peers, 1000); /* the big one, then empty replies */
    size_t replies = 1;
    while (peers_room (peers, s_a, sizeof s_a, 0) == 0) {
        peers_sent (peers, 0);
        replies++;
        assert_true (replies <= WINDOW + 2 * 7); /* a group and its rounding longer at most */
    }
    /* It stayed counted while it could be among the last WINDOW. */
    assert_true (replies >= WINDOW);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0), 1000);
    peers_destroy (&peers);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_peers_room_is_the_budget_minus_what_stays_in_the_window),
        cmocka_unit_test (test_peers_small_replies_push_big_ones_out),
        cmocka_unit_test (test_peers_idle_entries_are_forgotten),
        cmocka_unit_test (test_peers_a_reply_counts_for_at_least_the_window_in_groups),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
