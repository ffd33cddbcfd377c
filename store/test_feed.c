/*
 * test_feed — the change feed's contract: consecutive sequence numbers,
 * reads from the cursor, acknowledgement, the bound and its refusal, and
 * ring growth keeping records intact.
 */
#include "feed.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

static uint64_t
s_append (feed_t *feed, proto_change_kind_t kind, uint32_t ref)
{
    assert_int_equal (feed_reserve (feed, kind), FEED_OK);
    return feed_append (feed, kind, ref);
}

static void
test_feed_new_rejects_bad_bounds (void **state)
{
    assert_null (feed_new (0));
    assert_null (feed_new (FEED_MAX_LIMIT + 1));
    feed_t *feed = feed_new (1);
    assert_non_null (feed);
    feed_destroy (&feed);
    assert_null (feed);
    feed_destroy (&feed); /* no-op on NULL */
}

static void
test_feed_sequence_numbers_strictly_increase (void **state)
{
    feed_t *feed = feed_new (100);
    assert_int_equal (feed_head (feed), 0);
    assert_int_equal (feed_next_seq (feed), 1);
    uint64_t last = 0;
    for (uint32_t i = 0; i < 50; i++) {
        uint64_t seq = s_append (feed, i % 2 ? PROTO_CHANGE_UPDATED : PROTO_CHANGE_CREATED, i);
        assert_int_equal (seq, last + 1);
        last = seq;
    }
    assert_int_equal (feed_head (feed), 50);
    assert_int_equal (feed_len (feed), 50);
    feed_record_t out[60];
    assert_int_equal (feed_read (feed, 0, 60, out), 50);
    for (uint32_t i = 0; i < 50; i++) {
        assert_int_equal (out[i].seq, i + 1);
        assert_int_equal (out[i].ref, i);
        assert_int_equal (out[i].kind, i % 2 ? PROTO_CHANGE_UPDATED : PROTO_CHANGE_CREATED);
    }
    feed_destroy (&feed);
}

static void
test_feed_read_without_from_starts_after_acked (void **state)
{
    feed_t *feed = feed_new (100);
    for (uint32_t i = 0; i < 10; i++)
        s_append (feed, PROTO_CHANGE_CREATED, i);
    feed_record_t out[10];
    assert_int_equal (feed_read (feed, 0, 3, out), 3);
    assert_int_equal (out[0].seq, 1);
    assert_int_equal (feed_ack (feed, 4), 0);
    assert_int_equal (feed_acked (feed), 4);
    assert_int_equal (feed_len (feed), 6);
    /* A reader that reconnects (no from) gets the unacked tail again. */
    assert_int_equal (feed_read (feed, 0, 10, out), 6);
    assert_int_equal (out[0].seq, 5);
    assert_int_equal (out[5].seq, 10);
    assert_int_equal (feed_read (feed, 0, 10, out), 6);
    assert_int_equal (out[0].seq, 5);
    /* An explicit from reads ahead of the cursor; one below it is clamped. */
    assert_int_equal (feed_read (feed, 8, 10, out), 3);
    assert_int_equal (out[0].seq, 8);
    assert_int_equal (feed_read (feed, 2, 1, out), 1);
    assert_int_equal (out[0].seq, 5);
    /* Past the head: nothing. */
    assert_int_equal (feed_read (feed, 11, 10, out), 0);
    assert_int_equal (feed_read (feed, 1000, 10, out), 0);
    feed_destroy (&feed);
}

static void
test_feed_ack_semantics (void **state)
{
    feed_t *feed = feed_new (100);
    assert_int_equal (feed_ack (feed, 0), 0); /* empty feed: acking 0 is a no-op */
    assert_int_equal (feed_ack (feed, 1), -1);
    for (uint32_t i = 0; i < 5; i++)
        s_append (feed, PROTO_CHANGE_CREATED, i);
    assert_int_equal (feed_ack (feed, 6), -1); /* beyond head refused */
    assert_int_equal (feed_acked (feed), 0);
    assert_int_equal (feed_ack (feed, 3), 0);
    assert_int_equal (feed_ack (feed, 3), 0); /* idempotent */
    assert_int_equal (feed_ack (feed, 2), 0); /* below the cursor: no-op */
    assert_int_equal (feed_acked (feed), 3);
    assert_int_equal (feed_ack (feed, 5), 0);
    assert_int_equal (feed_len (feed), 0);
    feed_record_t out[4];
    assert_int_equal (feed_read (feed, 0, 4, out), 0);
    feed_destroy (&feed);
}

static void
test_feed_refuses_write_when_full (void **state)
{
    feed_t *feed = feed_new (3);
    for (uint32_t i = 0; i < 3; i++)
        s_append (feed, PROTO_CHANGE_CREATED, i);
    assert_int_equal (feed_reserve (feed, PROTO_CHANGE_CREATED), FEED_FULL);
    assert_int_equal (feed_reserve (feed, PROTO_CHANGE_CREATED), FEED_FULL);
    assert_int_equal (feed_head (feed), 3);
    assert_int_equal (feed_next_seq (feed), 4);
    assert_int_equal (feed_len (feed), 3);
    assert_int_equal (feed_max (feed), 3);
    assert_int_equal (feed_ack (feed, 1), 0);
    assert_int_equal (s_append (feed, PROTO_CHANGE_CREATED, 3), 4);
    assert_int_equal (feed_reserve (feed, PROTO_CHANGE_CREATED), FEED_FULL);
    feed_record_t out[4];
    assert_int_equal (feed_read (feed, 0, 4, out), 3);
    assert_int_equal (out[0].seq, 2);
    assert_int_equal (out[2].seq, 4);
    feed_destroy (&feed);
}

static void
test_feed_keeps_headroom_for_updates_when_creates_filled_it (void **state)
{
    feed_t *feed = feed_new (3);
    for (uint32_t i = 0; i < 3; i++)
        s_append (feed, PROTO_CHANGE_CREATED, i);
    /* Full for creates; updates have FEED_UPDATE_HEADROOM_MIN more slots
       (more than 3), and creates never get into them. */
    for (uint32_t i = 0; i < FEED_UPDATE_HEADROOM_MIN; i++) {
        if (i % 1000 == 0)
            assert_int_equal (feed_reserve (feed, PROTO_CHANGE_CREATED), FEED_FULL);
        assert_int_equal (s_append (feed, PROTO_CHANGE_UPDATED, i), 4 + (uint64_t)i);
    }
    assert_int_equal (feed_reserve (feed, PROTO_CHANGE_UPDATED), FEED_FULL);
    assert_int_equal (feed_reserve (feed, PROTO_CHANGE_CREATED), FEED_FULL);
    assert_int_equal (feed_len (feed), 3 + FEED_UPDATE_HEADROOM_MIN);
    feed_record_t out[8];
    assert_int_equal (feed_read (feed, 0, 8, out), 8);
    assert_int_equal (out[2].kind, PROTO_CHANGE_CREATED);
    assert_int_equal (out[3].kind, PROTO_CHANGE_UPDATED);
    /* Acknowledging makes room again: for creates once under the bound. */
    assert_int_equal (feed_ack (feed, 3), 0);
    assert_int_equal (feed_reserve (feed, PROTO_CHANGE_CREATED), FEED_FULL);
    assert_int_equal (feed_reserve (feed, PROTO_CHANGE_UPDATED), FEED_OK);
    assert_int_equal (feed_ack (feed, feed_head (feed) - 2), 0);
    assert_int_equal (s_append (feed, PROTO_CHANGE_CREATED, 3), feed_head (feed) + 1);
    assert_int_equal (feed_reserve (feed, PROTO_CHANGE_CREATED), FEED_FULL);
    feed_destroy (&feed);
}

static void
test_feed_headroom_for_updates_is_the_bound_when_larger (void **state)
{
    enum { MAX = FEED_UPDATE_HEADROOM_MIN + 5 };
    feed_t *feed = feed_new (MAX);
    for (uint32_t i = 0; i < 2 * MAX; i++)
        s_append (feed, i < MAX ? PROTO_CHANGE_CREATED : PROTO_CHANGE_UPDATED, i);
    assert_int_equal (feed_reserve (feed, PROTO_CHANGE_UPDATED), FEED_FULL);
    assert_int_equal (feed_len (feed), 2 * MAX);
    feed_destroy (&feed);
}

static void
test_feed_ring_growth_and_wrap_keep_records (void **state)
{
    enum { MAX = 5000 };
    feed_t *feed = feed_new (MAX);
    feed_record_t *out = malloc (MAX * sizeof *out);
    assert_non_null (out);
    uint64_t acked = 0;
    /* Append and ack in uneven steps so the ring wraps at every size. */
    for (uint32_t i = 0; i < 40000; i++) {
        if (feed_reserve (feed, PROTO_CHANGE_CREATED) == FEED_FULL) {
            acked += 777;
            if (acked > feed_head (feed))
                acked = feed_head (feed);
            assert_int_equal (feed_ack (feed, acked), 0);
        }
        assert_int_equal (feed_reserve (feed, PROTO_CHANGE_CREATED), FEED_OK);
        assert_int_equal (feed_append (feed, PROTO_CHANGE_CREATED, i), (uint64_t)i + 1);
        if (i % 3001 == 0) {
            size_t n = feed_read (feed, 0, MAX, out);
            assert_int_equal (n, feed_len (feed));
            for (size_t k = 0; k < n; k++)
                assert_int_equal (out[k].ref, out[k].seq - 1);
        }
    }
    size_t n = feed_read (feed, 0, MAX, out);
    assert_int_equal (n, feed_len (feed));
    assert_true (n > MAX - 777 && n <= MAX);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal (out[k].seq, acked + 1 + k);
        assert_int_equal (out[k].ref, out[k].seq - 1);
    }
    free (out);
    feed_destroy (&feed);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_feed_new_rejects_bad_bounds),
        cmocka_unit_test (test_feed_sequence_numbers_strictly_increase),
        cmocka_unit_test (test_feed_read_without_from_starts_after_acked),
        cmocka_unit_test (test_feed_ack_semantics),
        cmocka_unit_test (test_feed_refuses_write_when_full),
        cmocka_unit_test (test_feed_keeps_headroom_for_updates_when_creates_filled_it),
        cmocka_unit_test (test_feed_headroom_for_updates_is_the_bound_when_larger),
        cmocka_unit_test (test_feed_ring_growth_and_wrap_keep_records),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
