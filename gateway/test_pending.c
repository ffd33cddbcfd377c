/* test_pending — the gateway's table of store requests in flight. */
#include "pending.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void
test_pending_matches_replies_in_any_order (void **state)
{
    pending_t *p = pending_new (8);
    int items[3];
    uint64_t rids[3];
    for (int i = 0; i < 3; i++) {
        rids[i] = pending_reserve (p);
        assert_true (rids[i] > 0);
        pending_commit (p, rids[i], &items[i], 1000);
    }
    assert_int_equal (pending_size (p), 3);
    assert_ptr_equal (pending_take (p, rids[1]), &items[1]);
    assert_null (pending_take (p, rids[1]));
    assert_ptr_equal (pending_take (p, rids[2]), &items[2]);
    assert_ptr_equal (pending_take (p, rids[0]), &items[0]);
    assert_int_equal (pending_size (p), 0);
    assert_int_equal (pending_next_deadline (p), -1);
    pending_destroy (&p);
    assert_null (p);
}

static void
test_pending_refuses_past_capacity_until_a_slot_frees (void **state)
{
    pending_t *p = pending_new (4);
    int items[4];
    uint64_t first = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t rid = pending_reserve (p);
        assert_true (rid > 0);
        if (i == 0)
            first = rid;
        pending_commit (p, rid, &items[i], 100 + i);
    }
    assert_int_equal (pending_reserve (p), 0);
    /* A later request answered first frees nothing: the oldest still holds
       the slot the next rid maps to. */
    assert_non_null (pending_take (p, first + 3));
    assert_int_equal (pending_reserve (p), 0);
    assert_non_null (pending_take (p, first));
    assert_int_equal (pending_reserve (p), first + 4);
    pending_destroy (&p);
}

static void
test_pending_expires_oldest_first_and_discards_late_replies (void **state)
{
    pending_t *p = pending_new (16);
    int a, b, c;
    uint64_t ra = pending_reserve (p);
    pending_commit (p, ra, &a, 100);
    uint64_t rb = pending_reserve (p);
    pending_commit (p, rb, &b, 200);
    uint64_t rc = pending_reserve (p);
    pending_commit (p, rc, &c, 300);
    assert_int_equal (pending_next_deadline (p), 100);
    assert_null (pending_expire (p, 99));
    assert_ptr_equal (pending_expire (p, 250), &a);
    assert_ptr_equal (pending_expire (p, 250), &b);
    assert_null (pending_expire (p, 250));
    assert_int_equal (pending_next_deadline (p), 300);
    /* The reply to an expired request finds nothing. */
    assert_null (pending_take (p, ra));
    assert_null (pending_take (p, 9999));
    assert_ptr_equal (pending_take (p, rc), &c);
    pending_destroy (&p);
}

static void
test_pending_reuses_slots_without_confusing_rids (void **state)
{
    pending_t *p = pending_new (2);
    int item;
    for (int round = 0; round < 100; round++) {
        uint64_t rid = pending_reserve (p);
        assert_true (rid > 0);
        pending_commit (p, rid, &item, round);
        /* a stale rid that maps to the same slot is not this request */
        if (rid > 2)
            assert_null (pending_take (p, rid - 2));
        assert_ptr_equal (pending_take (p, rid), &item);
    }
    pending_destroy (&p);
}

static void
test_pending_takes_a_reply_only_from_the_link_it_was_sent_on (void **state)
{
    pending_t *p = pending_new (8);
    int a, b;
    uint64_t ra = pending_reserve (p);
    pending_commit_on (p, ra, &a, 100, 7);
    uint64_t rb = pending_reserve (p);
    pending_commit_on (p, rb, &b, 200, 9);
    /* A reply with a's rid from link 9 is not a's: a stays pending. */
    assert_null (pending_take_on (p, ra, 9));
    assert_int_equal (pending_size (p), 2);
    assert_ptr_equal (pending_take_on (p, ra, 7), &a);
    uint32_t link = 0;
    assert_null (pending_expire_on (p, 199, &link));
    assert_ptr_equal (pending_expire_on (p, 200, &link), &b);
    assert_int_equal (link, 9);
    assert_int_equal (pending_size (p), 0);
    pending_destroy (&p);
}

static bool
s_link_is_two (void *ctx, uint32_t link)
{
    (*(int *)ctx)++;
    return link == 2;
}

/* The requests of a link that went away are taken, in rid order, each
   once; the others stay, replies and deadlines as before. */
static void
test_pending_takes_the_requests_of_a_gone_link (void **state)
{
    (void)state;
    pending_t *pending = pending_new (8);
    int items[6];
    for (int i = 0; i < 6; i++) {
        uint64_t rid = pending_reserve (pending);
        pending_commit_on (pending, rid, &items[i], 100 + i, i % 3 == 2 ? 2 : 1);
    }
    assert_ptr_equal (pending_take (pending, 3), &items[2]); /* answered: not taken again */
    uint64_t from = 0;
    uint32_t link = 0;
    int calls = 0;
    assert_ptr_equal (pending_take_gone (pending, s_link_is_two, &calls, &from, &link), &items[5]);
    assert_int_equal (link, 2);
    assert_null (pending_take_gone (pending, s_link_is_two, &calls, &from, &link));
    assert_int_equal (calls, 5); /* each live slot read once over the sweep */
    assert_int_equal (pending_size (pending), 4);
    assert_ptr_equal (pending_take_on (pending, 2, 1), &items[1]);
    assert_ptr_equal (pending_expire (pending, 200), &items[0]);
    assert_ptr_equal (pending_expire (pending, 200), &items[3]);
    assert_ptr_equal (pending_expire (pending, 200), &items[4]);
    assert_null (pending_expire (pending, 200));
    from = 0;
    assert_null (pending_take_gone (pending, s_link_is_two, &calls, &from, &link));
    pending_destroy (&pending);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_pending_matches_replies_in_any_order),
        cmocka_unit_test (test_pending_refuses_past_capacity_until_a_slot_frees),
        cmocka_unit_test (test_pending_expires_oldest_first_and_discards_late_replies),
        cmocka_unit_test (test_pending_reuses_slots_without_confusing_rids),
        cmocka_unit_test (test_pending_takes_a_reply_only_from_the_link_it_was_sent_on),
        cmocka_unit_test (test_pending_takes_the_requests_of_a_gone_link),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
