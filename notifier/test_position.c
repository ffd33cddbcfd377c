/* Unit tests for the relay's position in one store's feed (position.c):
   which feed replies void it, where it starts over, and the cursor a
   reply reports (a lost ack, a read from the store's cursor). */
#include "position.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static const uint8_t s_store_a[16] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
                                       0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xa0 };
static const uint8_t s_store_b[16] = { 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8,
                                       0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xb0 };

/* A feed_read reply answered ok by store id (NULL: a store that names
   none), with its cursor and head. */
static proto_reply_t
s_reply (const uint8_t *id, uint64_t rid, uint64_t acked, uint64_t head)
{
    proto_reply_t r;
    memset (&r, 0, sizeof r);
    r.op = PROTO_OP_FEED_READ;
    r.status = PROTO_OK;
    r.rid = rid;
    r.acked = acked;
    r.head = head;
    if (id) {
        r.has_store_id = true;
        memcpy (r.store_id, id, 16);
    }
    return r;
}

/* A relay of store a that read up to 40, had 30 confirmed and 20
   acknowledged with the feed_ack of rid 7. */
static position_t
s_mid_feed (void)
{
    position_t p = { .next_from = 41, .confirmed = 30, .acked_sent = 20, .ack_rid = 7 };
    p.has_store_id = true;
    memcpy (p.store_id, s_store_a, 16);
    return p;
}

/* The three positions of p are as given. */
static void
s_assert_at (const position_t *p, uint64_t next_from, uint64_t confirmed, uint64_t acked_sent)
{
    assert_int_equal (p->next_from, next_from);
    assert_int_equal (p->confirmed, confirmed);
    assert_int_equal (p->acked_sent, acked_sent);
}

static void
test_position_highest_is_the_furthest_of_read_confirmed_and_acked (void **state)
{
    position_t p = { 0 };
    assert_int_equal (position_highest (&p), 0);
    p.next_from = 11;
    assert_int_equal (position_highest (&p), 10);
    p.confirmed = 12;
    assert_int_equal (position_highest (&p), 12);
    p.next_from = 0; /* read from the cursor again: the acks still count */
    p.acked_sent = 15;
    assert_int_equal (position_highest (&p), 15);
}

static void
test_position_adopts_the_first_store_that_names_itself (void **state)
{
    position_t p = { 0 };
    assert_null (position_store_id (&p));
    proto_reply_t r = s_reply (s_store_a, 1, 0, 5);
    assert_false (position_store_changed (&p, &r));
    assert_non_null (position_store_id (&p));
    assert_memory_equal (position_store_id (&p), s_store_a, 16);
    /* A reply that names no store keeps the one known. */
    r = s_reply (NULL, 2, 0, 5);
    assert_false (position_store_changed (&p, &r));
    assert_memory_equal (position_store_id (&p), s_store_a, 16);
}

static void
test_position_holds_for_the_same_store_with_its_head_at_or_past_it (void **state)
{
    position_t p = s_mid_feed ();
    proto_reply_t r = s_reply (s_store_a, 8, 20, 40);
    assert_false (position_store_changed (&p, &r));
    s_assert_at (&p, 41, 30, 20);
}

static void
test_position_starts_over_at_another_stores_cursor (void **state)
{
    position_t p = s_mid_feed ();
    proto_reply_t r = s_reply (s_store_b, 8, 3, 1000); /* a head far ahead does not matter */
    assert_true (position_store_changed (&p, &r));
    s_assert_at (&p, 0, 3, 3);
    assert_memory_equal (position_store_id (&p), s_store_b, 16);
    assert_false (position_ack_due (&p)); /* nothing of store a is acked to store b */
}

static void
test_position_starts_over_when_the_store_lost_changes_it_gave_out (void **state)
{
    /* The same id (a store restarted from an older journal) or none at
       all (an in-memory store named itself nothing before): a head behind
       what was read means those seqs now name other changes, or none. */
    position_t p = s_mid_feed ();
    proto_reply_t r = s_reply (s_store_a, 8, 12, 39);
    assert_true (position_store_changed (&p, &r));
    s_assert_at (&p, 0, 12, 12);
    assert_memory_equal (position_store_id (&p), s_store_a, 16);

    /* No store known yet: one that names itself with a head behind what
       was read voids the positions, and is the store from then on. */
    position_t o = { .next_from = 9, .confirmed = 8 };
    r = s_reply (s_store_b, 2, 1, 5);
    assert_true (position_store_changed (&o, &r));
    s_assert_at (&o, 0, 1, 1);
    assert_memory_equal (position_store_id (&o), s_store_b, 16);

    position_t q = { .next_from = 9 };
    r = s_reply (NULL, 1, 0, 4);
    assert_true (position_store_changed (&q, &r));
    assert_int_equal (q.next_from, 0);
    assert_null (position_store_id (&q));
}

static void
test_position_sends_again_an_ack_the_store_did_not_record (void **state)
{
    position_t p = s_mid_feed ();
    /* A reply to a read sent after the ack (rid 8 > 7) with the cursor
       behind it: the ack was lost. */
    proto_reply_t r = s_reply (s_store_a, 8, 15, 40);
    position_note_cursor (&p, &r);
    assert_int_equal (p.acked_sent, 15);
    assert_true (position_ack_due (&p));
    position_ack_sent (&p, 9);
    assert_int_equal (p.acked_sent, 30);
    assert_int_equal (p.ack_rid, 9);
    assert_false (position_ack_due (&p));
}

static void
test_position_trusts_an_ack_still_on_its_way (void **state)
{
    position_t p = s_mid_feed ();
    /* The read was sent before the ack of rid 7 reached the store (or is
       that ack's own rid): its cursor does not yet show the ack. */
    proto_reply_t r = s_reply (s_store_a, 6, 15, 40);
    position_note_cursor (&p, &r);
    assert_int_equal (p.acked_sent, 20);
    r = s_reply (s_store_a, 7, 15, 40);
    position_note_cursor (&p, &r);
    assert_int_equal (p.acked_sent, 20);
    assert_int_equal (p.ack_rid, 7);
}

static void
test_position_reading_from_the_cursor_counts_it_confirmed (void **state)
{
    position_t p = { .confirmed = 5, .acked_sent = 5 };
    proto_reply_t r = s_reply (s_store_a, 3, 50, 60);
    position_note_cursor (&p, &r);
    assert_int_equal (p.confirmed, 50);
    assert_int_equal (p.acked_sent, 50);
    /* Reading from a position of its own, the relay keeps its confirms. */
    position_t q = s_mid_feed ();
    r = s_reply (s_store_a, 8, 35, 60);
    position_note_cursor (&q, &r);
    assert_int_equal (q.confirmed, 30);
}

static void
test_position_confirm_only_moves_forward (void **state)
{
    position_t p = { .confirmed = 10 };
    assert_false (position_confirm (&p, 10));
    assert_false (position_confirm (&p, 4));
    assert_int_equal (p.confirmed, 10);
    assert_true (position_confirm (&p, 11));
    assert_int_equal (p.confirmed, 11);
    assert_true (position_ack_due (&p));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_position_highest_is_the_furthest_of_read_confirmed_and_acked),
        cmocka_unit_test (test_position_adopts_the_first_store_that_names_itself),
        cmocka_unit_test (test_position_holds_for_the_same_store_with_its_head_at_or_past_it),
        cmocka_unit_test (test_position_starts_over_at_another_stores_cursor),
        cmocka_unit_test (test_position_starts_over_when_the_store_lost_changes_it_gave_out),
        cmocka_unit_test (test_position_sends_again_an_ack_the_store_did_not_record),
        cmocka_unit_test (test_position_trusts_an_ack_still_on_its_way),
        cmocka_unit_test (test_position_reading_from_the_cursor_counts_it_confirmed),
        cmocka_unit_test (test_position_confirm_only_moves_forward),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
