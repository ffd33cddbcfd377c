/*
 * test_list_merge — a list merged across shards (list_merge.h) without
 * any store: shards are arrays of events, each answering a page after
 * its cursor entry the way a store does. Pins the order (created_at, then
 * created_us, then the shard index), paging through the cursor at several
 * page sizes with no duplicate and no gap, a short answer ending the page,
 * failures winning over answers, and the response body.
 */
#include "list_merge.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SHARDS 3
#define PER_SHARD 9

/* Shard s's k-th event: id bytes (s, k), created at times[s][k]. */
static const int64_t s_times[SHARDS][PER_SHARD] = {
    { 10, 10, 20, 30, 30, 30, 70, 80, 90 },
    { 10, 15, 20, 25, 30, 60, 60, 61, 62 },
    { 5, 10, 30, 30, 40, 41, 42, 43, 100 },
};
static proto_event_t s_events[SHARDS][PER_SHARD];

static void
s_make_events (void)
{
    for (int s = 0; s < SHARDS; s++)
        for (int k = 0; k < PER_SHARD; k++) {
            proto_event_t *e = &s_events[s][k];
            memset (e, 0, sizeof *e);
            e->id[0] = (uint8_t)s;
            e->id[1] = (uint8_t)k;
            e->user_id = (proto_str_t){ "u", 1 };
            e->description = (proto_str_t){ "d", 1 };
            e->status = (proto_str_t){ "pending", 7 };
            e->created_at = e->updated_at = s_times[s][k];
        }
}

/* Answers shard s's part of a page: limit events after the cursor's entry,
   the shard cutting its answer to cut events when cut > 0. */
static void
s_answer (list_merge_t *merge, int s, uint32_t limit, size_t cut)
{
    const uint8_t *after = list_cursor_last (list_merge_cursor (merge), (size_t)s);
    size_t from = after ? (size_t)after[1] + 1 : 0;
    size_t n = PER_SHARD - from < limit ? PER_SHARD - from : limit;
    if (cut && n > cut)
        n = cut;
    list_merge_sent (merge, (size_t)s, (uint32_t)(100 + s));
    assert_int_equal (list_merge_shard_of (merge, (uint32_t)(100 + s)), s);
    assert_int_equal (
        list_merge_take (merge, (size_t)s, &s_events[s][from], n, from + n < PER_SHARD), 0);
    assert_int_equal (list_merge_shard_of (merge, (uint32_t)(100 + s)), -1);
}

/* Every event in merged order: by created_at, ties to the lower shard,
   each shard's own order kept. */
static size_t
s_expected (const proto_event_t **out)
{
    size_t pos[SHARDS] = { 0 }, n = 0;
    while (n < SHARDS * PER_SHARD) {
        int best = 0;
        while (pos[best] == PER_SHARD)
            best++; /* n < all: some shard has one left */
        for (int s = best + 1; s < SHARDS; s++)
            if (pos[s] < PER_SHARD && s_times[s][pos[s]] < s_times[best][pos[best]])
                best = s;
        out[n++] = &s_events[best][pos[best]++];
    }
    return n;
}

/* Pages through everything limit at a time (cut as in s_answer); the
   concatenation is written to ids (2 bytes each). Returns the count. */
static size_t
s_page_all (uint32_t limit, size_t cut, uint8_t (*ids)[2], size_t room)
{
    list_cursor_t *cursor = list_cursor_new (4, SHARDS);
    size_t total = 0;
    proto_event_t *page = malloc (limit * sizeof *page);
    for (int pages = 0; pages < 1000; pages++) {
        list_merge_t *merge = list_merge_new (cursor, limit);
        assert_non_null (merge);
        for (int s = 0; s < SHARDS; s++)
            s_answer (merge, s, limit, cut);
        assert_int_equal (list_merge_outstanding (merge), 0);
        bool more = true;
        size_t n = list_merge_page (merge, page, &more);
        assert_true (n <= limit);
        for (size_t i = 0; i < n; i++) {
            assert_true (total < room);
            memcpy (ids[total++], page[i].id, 2);
        }
        /* The next page continues from this one's cursor. */
        char *text = more ? list_cursor_encode (list_merge_cursor (merge)) : NULL;
        list_merge_destroy (&merge);
        if (!more) {
            free (page);
            return total;
        }
        assert_non_null (text);
        assert_int_equal (list_cursor_decode (text, strlen (text), &cursor), LIST_CURSOR_OK);
        free (text);
    }
    fail_msg ("paging did not end");
    return 0;
}

static void
test_merge_pages_in_creation_order_at_every_page_size (void **state)
{
    (void)state;
    s_make_events ();
    const proto_event_t *expected[SHARDS * PER_SHARD];
    s_expected (expected);
    /* Ties: the two events at 10 on shard 0 come before shard 1's and 2's. */
    assert_int_equal (expected[0]->id[0], 2);
    assert_int_equal (expected[1]->id[0], 0);
    assert_int_equal (expected[2]->id[0], 0);
    assert_int_equal (expected[3]->id[0], 1);
    const uint32_t limits[] = { 1, 2, 3, 7, 26, 27, 28, 1000 };
    const size_t cuts[] = { 0, 1, 2 };
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++)
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            uint8_t ids[SHARDS * PER_SHARD + 1][2];
            size_t n = s_page_all (limits[l], cuts[c], ids, SHARDS * PER_SHARD + 1);
            assert_int_equal (n, SHARDS * PER_SHARD);
            for (size_t i = 0; i < n; i++)
                if (memcmp (ids[i], expected[i]->id, 2) != 0)
                    fail_msg ("limit %u cut %zu: item %zu is (%d,%d), expected (%d,%d)", limits[l],
                              cuts[c], i, ids[i][0], ids[i][1], expected[i]->id[0],
                              expected[i]->id[1]);
        }
}

/* Within one millisecond the microseconds decide, across shards; only an
   exact tie goes to the lower shard. */
static void
test_merge_orders_one_millisecond_by_created_us (void **state)
{
    (void)state;
    /* (created_at, created_us) of each shard's events, in its own order */
    static const int64_t at[SHARDS][2] = { { 10, 11 }, { 10, 10 }, { 10, 11 } };
    static const uint16_t us[SHARDS][2] = { { 500, 0 }, { 100, 900 }, { 999, 0 } };
    proto_event_t events[SHARDS][2];
    list_merge_t *merge = list_merge_new (list_cursor_new (4, SHARDS), 10);
    for (int s = 0; s < SHARDS; s++) {
        for (int k = 0; k < 2; k++) {
            proto_event_t *e = &events[s][k];
            memset (e, 0, sizeof *e);
            e->id[0] = (uint8_t)s;
            e->id[1] = (uint8_t)k;
            e->status = (proto_str_t){ "pending", 7 };
            e->created_at = e->updated_at = at[s][k];
            e->created_us = us[s][k];
        }
        list_merge_sent (merge, (size_t)s, (uint32_t)(100 + s));
        assert_int_equal (list_merge_take (merge, (size_t)s, events[s], 2, false), 0);
    }
    proto_event_t page[10];
    bool more = true;
    assert_int_equal (list_merge_page (merge, page, &more), 6);
    assert_false (more);
    /* 10.100 (1,0), 10.500 (0,0), 10.900 (1,1), 10.999 (2,0), then 11.000
       on shards 0 and 2: the tie to shard 0. */
    static const uint8_t want[6][2] = {
        { 1, 0 }, { 0, 0 }, { 1, 1 }, { 2, 0 }, { 0, 1 }, { 2, 1 }
    };
    for (int i = 0; i < 6; i++) {
        assert_int_equal (page[i].id[0], want[i][0]);
        assert_int_equal (page[i].id[1], want[i][1]);
    }
    list_merge_destroy (&merge);
}

static void
test_a_short_answer_ends_the_page_where_its_shard_is_unknown (void **state)
{
    (void)state;
    s_make_events ();
    list_merge_t *merge = list_merge_new (list_cursor_new (4, SHARDS), 5);
    s_answer (merge, 0, 5, 0);
    s_answer (merge, 1, 5, 1); /* shard 1 sends one event, more follow */
    s_answer (merge, 2, 5, 0);
    proto_event_t page[5];
    bool more = false;
    /* (2,0)@5 (0,0)@10 (0,1)@10 (1,0)@10: shard 1 used up, its next unknown. */
    assert_int_equal (list_merge_page (merge, page, &more), 4);
    assert_true (more);
    assert_int_equal (page[3].id[0], 1);
    const list_cursor_t *next = list_merge_cursor (merge);
    assert_int_equal (list_cursor_last (next, 0)[1], 1);
    assert_int_equal (list_cursor_last (next, 1)[1], 0);
    assert_int_equal (list_cursor_last (next, 2)[1], 0);
    list_merge_destroy (&merge);
    assert_null (merge);
}

static void
test_any_failed_shard_fails_the_list_with_the_lowest_ones_error (void **state)
{
    (void)state;
    s_make_events ();
    list_merge_t *merge = list_merge_new (list_cursor_new (4, SHARDS), 10);
    list_merge_sent (merge, 0, 7);
    list_merge_sent (merge, 1, 8);
    list_merge_sent (merge, 2, 9);
    assert_int_equal (list_merge_outstanding (merge), 3);
    api_reply_t error = { 0 };
    api_reply_detail (&error, 504, "shard 2 late");
    list_merge_fail (merge, 2, &error);
    assert_null (error.body);
    assert_int_equal (list_merge_take (merge, 0, s_events[0], 3, true), 0);
    api_reply_detail (&error, 503, "shard 1 down");
    list_merge_fail (merge, 1, &error);
    assert_int_equal (list_merge_outstanding (merge), 0);
    assert_true (list_merge_failed (merge));
    api_reply_t reply = { 0 };
    assert_int_equal (list_merge_reply (merge, &reply), 0);
    assert_int_equal (reply.status, 503);
    assert_non_null (strstr (reply.body, "shard 1 down"));
    api_reply_clear (&reply);
    list_merge_destroy (&merge);
}

static void
test_the_reply_carries_the_page_and_a_cursor_until_all_are_exhausted (void **state)
{
    (void)state;
    s_make_events ();
    list_merge_t *merge = list_merge_new (list_cursor_new (4, SHARDS), 1000);
    for (int s = 0; s < SHARDS; s++)
        s_answer (merge, s, 1000, 0);
    api_reply_t reply = { 0 };
    assert_int_equal (list_merge_reply (merge, &reply), 0);
    assert_int_equal (reply.status, 200);
    json_t *root = json_loadb (reply.body, reply.len, 0, NULL);
    assert_non_null (root);
    assert_int_equal (json_array_size (json_object_get (root, "items")), SHARDS * PER_SHARD);
    assert_true (json_is_null (json_object_get (root, "next_after")));
    json_decref (root);
    api_reply_clear (&reply);
    list_merge_destroy (&merge);

    merge = list_merge_new (list_cursor_new (4, SHARDS), 2);
    for (int s = 0; s < SHARDS; s++)
        s_answer (merge, s, 2, 0);
    assert_int_equal (list_merge_reply (merge, &reply), 0);
    root = json_loadb (reply.body, reply.len, 0, NULL);
    assert_int_equal (json_array_size (json_object_get (root, "items")), 2);
    const char *next = json_string_value (json_object_get (root, "next_after"));
    assert_non_null (next);
    list_cursor_t *cursor = NULL;
    assert_int_equal (list_cursor_decode (next, strlen (next), &cursor), LIST_CURSOR_OK);
    assert_int_equal (list_cursor_epoch (cursor), 4);
    assert_null (list_cursor_last (cursor, 1)); /* shard 1 gave nothing yet */
    list_cursor_destroy (&cursor);
    json_decref (root);
    api_reply_clear (&reply);
    list_merge_destroy (&merge);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_merge_pages_in_creation_order_at_every_page_size),
        cmocka_unit_test (test_merge_orders_one_millisecond_by_created_us),
        cmocka_unit_test (test_a_short_answer_ends_the_page_where_its_shard_is_unknown),
        cmocka_unit_test (test_any_failed_shard_fails_the_list_with_the_lowest_ones_error),
        cmocka_unit_test (test_the_reply_carries_the_page_and_a_cursor_until_all_are_exhausted),
    };
    return cmocka_run_group_tests_name ("list_merge", tests, NULL, NULL);
}
