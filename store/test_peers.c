/*
 * test_peers — the per-peer reply window: room at the budget and one byte
 * past it, the oldest reply leaving the window (one by one, or in groups for
 * a large window), peers kept apart, idle peers forgotten; receipts that
 * prove replies taken empty their slots, and receipts that prove nothing
 * (forged, another peer's, an entry forgotten since, a slot still open)
 * change nothing.
 */
#include "peers.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static const char s_a[] = { 0, 1, 2, 3, 4 };
static const char s_b[] = { 0, 1, 2, 3, 5 };

static void
test_peers_room_is_the_budget_minus_what_stays_in_the_window (void **state)
{
    peers_t *peers = peers_new (3, 1000);
    assert_non_null (peers);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), 1000);
    peers_sent (peers, 400);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), 600);
    peers_sent (peers, 600); /* exactly the budget */
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1000);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), 0);
    peers_sent (peers, 1); /* one past it (a page's first item always goes) */
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1001);
    /* The next reply pushes the 400 out: the 601 that stay leave 399. */
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), 399);
    peers_sent (peers, 399);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1000);
    /* Another peer has its own window. */
    assert_int_equal (peers_room (peers, s_b, sizeof s_b, 0, NULL), 1000);
    assert_int_equal (peers_queued (peers, s_b, sizeof s_b), 0);
    peers_destroy (&peers);
    assert_null (peers);
}

static void
test_peers_small_replies_push_big_ones_out (void **state)
{
    peers_t *peers = peers_new (4, 1 << 20);
    peers_room (peers, s_a, sizeof s_a, 0, NULL);
    peers_sent (peers, 1 << 20);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), 0);
        peers_sent (peers, 100);
    }
    /* Four replies later the big one cannot be queued any more. */
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), (1 << 20) - 300);
    peers_destroy (&peers);
}

static void
test_peers_idle_entries_are_forgotten (void **state)
{
    peers_t *peers = peers_new (2, 1000);
    peers_room (peers, s_a, sizeof s_a, 1000, NULL);
    peers_sent (peers, 500);
    peers_room (peers, s_b, sizeof s_b, 1000, NULL);
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
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), 1000);
    peers_sent (peers, 1000); /* the big one, then empty replies */
    size_t replies = 1;
    while (peers_room (peers, s_a, sizeof s_a, 0, NULL) == 0) {
        peers_sent (peers, 0);
        replies++;
        assert_true (replies <= WINDOW + 2 * 7); /* a group and its rounding longer at most */
    }
    /* It stayed counted while it could be among the last WINDOW. */
    assert_true (replies >= WINDOW);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), 1000);
    peers_destroy (&peers);
}

/* Sends n replies of size bytes to peer id, each with room asked first
   (no receipt); the receipt of the last one in last (if not NULL). */
static void
s_send (peers_t *peers, const char *id, size_t len, int n, size_t size, uint8_t last[16])
{
    for (int i = 0; i < n; i++) {
        peers_room (peers, id, len, 0, NULL);
        if (last)
            assert_true (peers_receipt (peers, last));
        peers_sent (peers, size);
    }
}

static void
test_peers_a_receipt_frees_every_reply_up_to_it (void **state)
{
    /* A window of 2050 in groups of 16, as the store has it. */
    peers_t *peers = peers_new (2050, 4u << 20);
    uint8_t receipt[16];
    s_send (peers, s_a, sizeof s_a, 32, 128 * 1024, receipt); /* 4 MiB of pages: two slots */
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), 0);
    /* The receipt of the 32nd: both slots were taken, nothing is queued. */
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, receipt), 4u << 20);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 0);
    /* Receipts of the same or earlier replies change nothing more, and
       count as neither verified nor refused. */
    s_send (peers, s_a, sizeof s_a, 1, 1000, NULL);
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, receipt), (4u << 20) - 1000);
    uint64_t verified, refused;
    peers_receipt_counts (peers, &verified, &refused);
    assert_int_equal (verified, 1);
    assert_int_equal (refused, 0);
    peers_destroy (&peers);
}

static void
test_peers_a_receipt_keeps_the_slot_it_falls_in (void **state)
{
    peers_t *peers = peers_new (2050, 1u << 30);
    uint8_t receipt[16], tenth[16];
    s_send (peers, s_a, sizeof s_a, 10, 100, tenth);
    s_send (peers, s_a, sizeof s_a, 30, 100, receipt); /* 40 replies: slots of 16, 16, 8 */
    /* The 10th falls in the first slot, no longer the one filling, which
       holds 6 later ones: kept. */
    peers_room (peers, s_a, sizeof s_a, 0, tenth);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 4000);
    /* The 40th is the last of the filling slot: all of them leave. */
    peers_room (peers, s_a, sizeof s_a, 0, receipt);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 0);
    peers_destroy (&peers);
}

static void
test_peers_a_receipt_in_the_filling_slot_frees_exactly_up_to_it (void **state)
{
    peers_t *peers = peers_new (2050, 4u << 20);
    uint8_t receipt[16];
    s_send (peers, s_a, sizeof s_a, 20, 100, NULL);        /* a slot, and 4 in the next */
    s_send (peers, s_a, sizeof s_a, 4, 1u << 20, receipt); /* 4 MiB of pages */
    s_send (peers, s_a, sizeof s_a, 2, 300, NULL);         /* answers behind them */
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, NULL), 0);
    /* The last page's receipt: everything up to it goes, the two after stay. */
    assert_int_equal (peers_room (peers, s_a, sizeof s_a, 0, receipt), (4u << 20) - 600);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 600);
    peers_destroy (&peers);
}

static void
test_peers_a_receipt_mid_window_frees_the_slots_before_it (void **state)
{
    peers_t *peers = peers_new (2050, 1u << 30);
    uint8_t receipt[16];
    s_send (peers, s_a, sizeof s_a, 32, 100, receipt); /* two full slots */
    s_send (peers, s_a, sizeof s_a, 5, 100, NULL);     /* five after it, unread */
    peers_room (peers, s_a, sizeof s_a, 0, receipt);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 500);
    peers_destroy (&peers);
}

static void
test_peers_receipts_that_prove_nothing_change_nothing (void **state)
{
    peers_t *peers = peers_new (2050, 1u << 30);
    uint8_t receipt[16], forged[16], other[16];
    s_send (peers, s_a, sizeof s_a, 16, 100, receipt);
    s_send (peers, s_b, sizeof s_b, 16, 100, other);
    /* A MAC off by one bit. */
    memcpy (forged, receipt, 16);
    forged[15] ^= 1;
    peers_room (peers, s_a, sizeof s_a, 0, forged);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1600);
    /* An index past what was sent, with the MAC of another. */
    memcpy (forged, receipt, 16);
    forged[7] += 1;
    peers_room (peers, s_a, sizeof s_a, 0, forged);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1600);
    /* Peer b's receipt, same index, shown by a; shown by b, it works. */
    peers_room (peers, s_a, sizeof s_a, 0, other);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1600);
    peers_room (peers, s_b, sizeof s_b, 0, other);
    assert_int_equal (peers_queued (peers, s_b, sizeof s_b), 0);
    /* a's entry forgotten and made again with as many replies: the old
       receipt was for the old entry. */
    assert_int_equal (peers_expire (peers, 10, 5), 0);
    s_send (peers, s_a, sizeof s_a, 16, 100, NULL);
    peers_room (peers, s_a, sizeof s_a, 0, receipt);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1600);
    /* Four refused (forged, past what was sent, b's, the old entry's);
       one verified (b's own). */
    uint64_t verified, refused;
    peers_receipt_counts (peers, &verified, &refused);
    assert_int_equal (verified, 1);
    assert_int_equal (refused, 4);
    peers_destroy (&peers);
}

static void
test_peers_receipts_from_another_table_prove_nothing (void **state)
{
    /* A store restarted: a new key. */
    peers_t *old = peers_new (2050, 1u << 30), *peers = peers_new (2050, 1u << 30);
    uint8_t receipt[16];
    s_send (old, s_a, sizeof s_a, 16, 100, receipt);
    s_send (peers, s_a, sizeof s_a, 16, 100, NULL);
    peers_room (peers, s_a, sizeof s_a, 0, receipt);
    assert_int_equal (peers_queued (peers, s_a, sizeof s_a), 1600);
    peers_destroy (&old);
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
        cmocka_unit_test (test_peers_a_receipt_frees_every_reply_up_to_it),
        cmocka_unit_test (test_peers_a_receipt_keeps_the_slot_it_falls_in),
        cmocka_unit_test (test_peers_a_receipt_in_the_filling_slot_frees_exactly_up_to_it),
        cmocka_unit_test (test_peers_a_receipt_mid_window_frees_the_slots_before_it),
        cmocka_unit_test (test_peers_receipts_that_prove_nothing_change_nothing),
        cmocka_unit_test (test_peers_receipts_from_another_table_prove_nothing),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
