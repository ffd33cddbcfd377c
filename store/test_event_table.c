/*
 * test_event_table — the event table's contract: create/find/update/view,
 * listing in creation order with cursors and exact filters, per-user
 * index sets kept right when a user_id changes, growth past many hash
 * resizes, and a create or update whose allocation fails changing nothing.
 */
#include "event_table.h"
#include "event_table_internal.h" /* the hashes' sizes: test_event_table_a_grow_rehashes_one_part */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_fail_alloc.h"

static proto_str_t
s_str (const char *text)
{
    return (proto_str_t){ text, strlen (text) };
}

static void
s_id (uint8_t id[16], uint32_t n)
{
    memset (id, 0, 16);
    memcpy (id, &n, sizeof n);
    id[15] = 0x5a;
}

/* Creates event n with the given user and status; returns its index. */
static uint32_t
s_add (event_table_t *table, uint32_t n, const char *user, const char *status)
{
    uint8_t id[16];
    s_id (id, n);
    uint32_t index = EVENT_TABLE_NONE;
    assert_int_equal (event_table_create (table, id, s_str (user), s_str ("desc"), s_str (status),
                                          PROTO_STR_NONE, 1000 + n, 0, n, &index),
                      0);
    return index;
}

static int
s_setup (void **state)
{
    *state = event_table_new ();
    return *state ? 0 : -1;
}

static int
s_teardown (void **state)
{
    event_table_t *table = *state;
    event_table_destroy (&table);
    assert_null (table);
    return 0;
}

/* The parts' bookkeeping against their contents: each id part's count is
   its filled slots and each user part's its users, they add up to the
   table's events and users, and the slots to the table's totals. */
static void
s_assert_counts (const event_table_t *table)
{
    size_t ids = 0, users = 0, ids_slots = 0, users_slots = 0;
    for (size_t p = 0; p < EVENT_TABLE_PARTS; p++) {
        const id_part_t *ip = &table->ids[p];
        const user_part_t *up = &table->users[p];
        size_t filled = 0, held = 0;
        for (size_t i = 0; i <= ip->mask; i++)
            filled += ip->slots[i] != UINT64_MAX;
        for (size_t i = 0; i <= up->mask; i++)
            held += up->slots[i].events.count != 0;
        assert_int_equal (filled, ip->count);
        assert_int_equal (held, up->count);
        assert_true ((size_t)ip->count * 8 <= ((size_t)ip->mask + 1) * 5);
        assert_true ((size_t)up->count * 4 <= ((size_t)up->mask + 1) * 3);
        ids += ip->count;
        users += up->count;
        ids_slots += (size_t)ip->mask + 1;
        users_slots += (size_t)up->mask + 1;
    }
    assert_int_equal (ids, table->count);
    assert_int_equal (users, table->users_count);
    assert_int_equal (ids_slots, table->ids_slots);
    assert_int_equal (users_slots, table->users_slots);
}

static void
test_event_table_create_then_find_and_view (void **state)
{
    event_table_t *table = *state;
    uint8_t id[16];
    s_id (id, 7);
    uint32_t index;
    assert_int_equal (event_table_create (table, id, s_str ("u-42"), s_str ("Your order shipped"),
                                          s_str ("pending"), PROTO_STR_NONE, 1234, 567, 9, &index),
                      0);
    assert_int_equal (event_table_size (table), 1);
    assert_int_equal (event_table_find (table, id), index);
    proto_event_t view;
    event_table_view (table, index, &view);
    assert_memory_equal (view.id, id, 16);
    assert_int_equal (view.user_id.len, 4);
    assert_memory_equal (view.user_id.ptr, "u-42", 4);
    assert_int_equal (view.description.len, 18);
    assert_memory_equal (view.description.ptr, "Your order shipped", 18);
    assert_int_equal (view.status.len, 7);
    assert_memory_equal (view.status.ptr, "pending", 7);
    assert_int_equal (view.created_at, 1234);
    assert_int_equal (view.created_us, 567);
    assert_int_equal (view.updated_at, 1234);
    assert_int_equal (view.seq, 9);
}

static void
test_event_table_find_unknown_id_is_none (void **state)
{
    event_table_t *table = *state;
    uint8_t id[16];
    s_id (id, 1);
    assert_int_equal (event_table_find (table, id), EVENT_TABLE_NONE);
    s_add (table, 2, "u", "pending");
    assert_int_equal (event_table_find (table, id), EVENT_TABLE_NONE);
}

static void
test_event_table_refuses_duplicate_id (void **state)
{
    event_table_t *table = *state;
    s_add (table, 3, "u", "pending");
    uint8_t id[16];
    s_id (id, 3);
    uint32_t index;
    assert_int_equal (event_table_create (table, id, s_str ("v"), s_str ("d"), s_str ("s"),
                                          PROTO_STR_NONE, 1, 0, 1, &index),
                      -1);
    assert_int_equal (event_table_size (table), 1);
}

static void
test_event_table_update_changes_only_given_fields (void **state)
{
    event_table_t *table = *state;
    uint32_t index = s_add (table, 1, "alice", "pending");
    /* Same-size status change, then a longer description (new block). */
    assert_int_equal (event_table_update (table, index, PROTO_STR_NONE, PROTO_STR_NONE,
                                          s_str ("sending"), PROTO_STR_NONE, 5000, 20),
                      0);
    proto_event_t view;
    event_table_view (table, index, &view);
    assert_memory_equal (view.status.ptr, "sending", 7);
    assert_memory_equal (view.user_id.ptr, "alice", 5);
    assert_int_equal (view.updated_at, 5000);
    assert_int_equal (view.created_at, 1001);
    assert_int_equal (view.seq, 20);
    assert_int_equal (event_table_update (table, index, PROTO_STR_NONE,
                                          s_str ("a much longer description than before"),
                                          s_str ("processed"), PROTO_STR_NONE, 6000, 21),
                      0);
    event_table_view (table, index, &view);
    assert_int_equal (view.description.len, 37);
    assert_memory_equal (view.description.ptr, "a much longer description than before", 37);
    assert_int_equal (view.status.len, 9);
    assert_memory_equal (view.status.ptr, "processed", 9);
    assert_memory_equal (view.user_id.ptr, "alice", 5);
    assert_int_equal (view.seq, 21);
    uint8_t id[16];
    s_id (id, 1);
    assert_int_equal (event_table_find (table, id), index);
    assert_memory_equal (view.id, id, 16);
}

/* created_us is set at creation only: an update in place and one that
   moves the event to a bigger block both keep it. */
static void
test_event_table_update_keeps_created_us (void **state)
{
    event_table_t *table = *state;
    uint8_t id[16];
    s_id (id, 5);
    uint32_t index;
    assert_int_equal (event_table_create (table, id, s_str ("u"), s_str ("d"), s_str ("pending"),
                                          PROTO_STR_NONE, 1700000000123, 999, 1, &index),
                      0);
    proto_event_t view;
    assert_int_equal (event_table_update (table, index, PROTO_STR_NONE, s_str ("e"),
                                          s_str ("sending"), PROTO_STR_NONE, 1700000000124, 2),
                      0);
    event_table_view (table, index, &view);
    assert_int_equal (view.created_at, 1700000000123);
    assert_int_equal (view.created_us, 999);
    assert_int_equal (event_table_update (table, index, s_str ("a longer user"),
                                          s_str ("a longer description"), PROTO_STR_NONE,
                                          PROTO_STR ("req-1"), 1700000000125, 3),
                      0);
    event_table_view (table, index, &view);
    assert_int_equal (view.description.len, 20);
    assert_int_equal (view.created_at, 1700000000123);
    assert_int_equal (view.created_us, 999);
    assert_int_equal (view.updated_at, 1700000000125);
}

static void
s_list (event_table_t *table, const char *user, const char *status, const uint8_t *after,
        uint32_t limit, uint32_t *out, size_t *n, bool *more, int expect_rc)
{
    event_query_t query = { .limit = limit };
    if (user)
        query.user_id = s_str (user);
    if (status)
        query.status = s_str (status);
    if (after) {
        query.has_after = true;
        memcpy (query.after, after, 16);
    }
    assert_int_equal (event_table_list (table, &query, out, n, more), expect_rc);
}

static void
test_event_table_list_empty_table (void **state)
{
    uint32_t out[10];
    size_t n = 99;
    bool more = true;
    s_list (*state, NULL, NULL, NULL, 10, out, &n, &more, 0);
    assert_int_equal (n, 0);
    assert_false (more);
    s_list (*state, "nobody", "pending", NULL, 10, out, &n, &more, 0);
    assert_int_equal (n, 0);
    assert_false (more);
}

static void
test_event_table_list_pages_in_creation_order (void **state)
{
    event_table_t *table = *state;
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal (s_add (table, 100 + i, "u", "pending"), i);
    uint32_t out[10];
    size_t n;
    bool more;
    /* Exactly limit items left: no "more". */
    s_list (table, NULL, NULL, NULL, 10, out, &n, &more, 0);
    assert_int_equal (n, 10);
    assert_false (more);
    /* Pages of 4: 4 + more, 4 + more, 2. */
    s_list (table, NULL, NULL, NULL, 4, out, &n, &more, 0);
    assert_int_equal (n, 4);
    assert_true (more);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal (out[i], i);
    uint8_t cursor[16];
    s_id (cursor, 103);
    s_list (table, NULL, NULL, cursor, 4, out, &n, &more, 0);
    assert_int_equal (n, 4);
    assert_true (more);
    assert_int_equal (out[0], 4);
    s_id (cursor, 107);
    s_list (table, NULL, NULL, cursor, 4, out, &n, &more, 0);
    assert_int_equal (n, 2);
    assert_false (more);
    assert_int_equal (out[1], 9);
    /* After the last event: empty, no more. */
    s_id (cursor, 109);
    s_list (table, NULL, NULL, cursor, 4, out, &n, &more, 0);
    assert_int_equal (n, 0);
    assert_false (more);
    /* After an unknown id: not found. */
    s_id (cursor, 555);
    s_list (table, NULL, NULL, cursor, 4, out, &n, &more, -1);
}

static void
test_event_table_list_filters_user_and_status (void **state)
{
    event_table_t *table = *state;
    const char *users[] = { "ann", "bob", "cat" };
    for (uint32_t i = 0; i < 30; i++)
        s_add (table, i + 1, users[i % 3], i % 2 ? "processed" : "pending");
    uint32_t out[30];
    size_t n;
    bool more;
    s_list (table, "bob", NULL, NULL, 30, out, &n, &more, 0);
    assert_int_equal (n, 10);
    assert_false (more);
    for (size_t i = 0; i < n; i++)
        assert_int_equal (out[i], 3 * i + 1);
    s_list (table, NULL, "processed", NULL, 30, out, &n, &more, 0);
    assert_int_equal (n, 15);
    for (size_t i = 0; i < n; i++)
        assert_int_equal (out[i], 2 * i + 1);
    /* Both: bob (1,4,7,...) and odd → 1,7,13,19,25. */
    s_list (table, "bob", "processed", NULL, 2, out, &n, &more, 0);
    assert_int_equal (n, 2);
    assert_true (more);
    assert_int_equal (out[0], 1);
    assert_int_equal (out[1], 7);
    uint8_t cursor[16];
    s_id (cursor, 7 + 1);
    s_list (table, "bob", "processed", cursor, 10, out, &n, &more, 0);
    assert_int_equal (n, 3);
    assert_false (more);
    assert_int_equal (out[0], 13);
    assert_int_equal (out[2], 25);
    /* Cursor belonging to another user resumes after its position. */
    s_id (cursor, 5 + 1); /* index 5, user cat */
    s_list (table, "bob", NULL, cursor, 2, out, &n, &more, 0);
    assert_int_equal (n, 2);
    assert_int_equal (out[0], 7);
    assert_int_equal (out[1], 10);
    assert_true (more);
    /* Unknown user, unknown status. */
    s_list (table, "dan", NULL, NULL, 10, out, &n, &more, 0);
    assert_int_equal (n, 0);
    s_list (table, NULL, "pend", NULL, 10, out, &n, &more, 0);
    assert_int_equal (n, 0);
    assert_false (more);
}

/* Status-only listing goes through the status index: after updates that
   rewrite in place ("pending" -> "handled", same length), reallocate
   ("processed"), change the user too, or set the status it already has,
   every page from every cursor is what a scan of the views finds. */
static void
test_event_table_status_list_follows_every_kind_of_update (void **state)
{
    event_table_t *table = *state;
    enum { EVENTS = 1500 };
    const char *statuses[] = { "pending", "handled", "processed" };
    for (uint32_t i = 0; i < EVENTS; i++)
        s_add (table, i + 1, i % 2 ? "ann" : "bob", "pending");
    for (uint32_t i = 0; i < EVENTS; i++) {
        uint32_t k = (i * 7) % 5;
        if (k == 4)
            continue;
        proto_str_t status = s_str (statuses[k % 3]);
        proto_str_t user = k == 3 ? s_str ("carol") : PROTO_STR_NONE;
        assert_int_equal (event_table_update (table, i, user, PROTO_STR_NONE, status,
                                              PROTO_STR_NONE, 5000 + i, EVENTS + i),
                          0);
    }
    for (size_t s = 0; s < 3; s++) {
        proto_str_t want = s_str (statuses[s]);
        for (uint32_t cursor = 0; cursor <= EVENTS; cursor += 97) {
            uint8_t after[16];
            s_id (after, cursor);
            uint32_t out[40];
            size_t n;
            bool more;
            s_list (table, NULL, statuses[s], cursor ? after : NULL, 40, out, &n, &more, 0);
            size_t k = 0, total = 0;
            for (uint32_t i = cursor; i < EVENTS; i++) {
                proto_event_t view;
                event_table_view (table, i, &view);
                if (view.status.len != want.len || memcmp (view.status.ptr, want.ptr, want.len))
                    continue;
                if (k < 40) {
                    assert_true (k < n);
                    assert_int_equal (out[k++], i);
                }
                total++;
            }
            assert_int_equal (n, k);
            assert_int_equal (more, total > 40);
        }
    }
}

static void
test_event_table_user_change_moves_event_between_users (void **state)
{
    event_table_t *table = *state;
    for (uint32_t i = 0; i < 6; i++)
        s_add (table, i + 1, i % 2 ? "odd" : "even", "pending");
    uint32_t out[10];
    size_t n;
    bool more;
    /* Move index 3 (odd, middle), then 0 (even, first), then 5 (odd, last)
       into "even": all events end up in "even" in creation order. */
    uint32_t moves[] = { 3, 0, 5, 1 };
    for (size_t m = 0; m < 4; m++) {
        proto_str_t to = moves[m] == 0 ? s_str ("zed") : s_str ("even");
        assert_int_equal (event_table_update (table, moves[m], to, PROTO_STR_NONE, PROTO_STR_NONE,
                                              PROTO_STR_NONE, 1, 50 + m),
                          0);
    }
    s_list (table, "odd", NULL, NULL, 10, out, &n, &more, 0);
    assert_int_equal (n, 0);
    s_list (table, "zed", NULL, NULL, 10, out, &n, &more, 0);
    assert_int_equal (n, 1);
    assert_int_equal (out[0], 0);
    s_list (table, "even", NULL, NULL, 10, out, &n, &more, 0);
    assert_int_equal (n, 5);
    uint32_t want[] = { 1, 2, 3, 4, 5 };
    assert_memory_equal (out, want, sizeof want);
    /* And back: a user whose chain emptied is found again. */
    assert_int_equal (event_table_update (table, 2, s_str ("odd"), PROTO_STR_NONE, PROTO_STR_NONE,
                                          PROTO_STR_NONE, 1, 60),
                      0);
    s_list (table, "odd", NULL, NULL, 10, out, &n, &more, 0);
    assert_int_equal (n, 1);
    assert_int_equal (out[0], 2);
    proto_event_t view;
    event_table_view (table, 2, &view);
    assert_memory_equal (view.user_id.ptr, "odd", 3);
    assert_memory_equal (view.description.ptr, "desc", 4);
    s_assert_counts (table);
}

static void
test_event_table_grows_through_many_resizes (void **state)
{
    event_table_t *table = *state;
    enum { N = 50000, USERS = 997 };
    char user[16];
    for (uint32_t i = 0; i < N; i++) {
        snprintf (user, sizeof user, "user-%u", i % USERS);
        assert_int_equal (s_add (table, i, user, "pending"), i);
    }
    assert_int_equal (event_table_size (table), N);
    for (uint32_t i = 0; i < N; i += 7) {
        uint8_t id[16];
        s_id (id, i);
        assert_int_equal (event_table_find (table, id), i);
    }
    uint32_t out[100];
    size_t n;
    bool more;
    s_list (table, "user-5", NULL, NULL, 100, out, &n, &more, 0);
    assert_int_equal (n, 51);
    assert_false (more);
    for (size_t i = 0; i < n; i++)
        assert_int_equal (out[i], 5 + USERS * i);
    assert_true (event_table_overhead_bytes (table) > (size_t)N * 56);
}

/* What a part looked like: its size and its slots' array. */
typedef struct {
    size_t mask;
    const void *slots;
} s_part_seen_t;

/* Which parts of the id hash, or of the user hash, changed since seen
   (updated): every change must be one part doubling into a new array
   (no other part's array moves), and the parts' slots must add up to the
   table's count of them. */
static int
s_parts_grown (const event_table_t *table, bool users, s_part_seen_t seen[EVENT_TABLE_PARTS])
{
    int grown = 0;
    size_t sum = 0;
    for (size_t p = 0; p < EVENT_TABLE_PARTS; p++) {
        size_t mask = users ? table->users[p].mask : table->ids[p].mask;
        const void *slots =
            users ? (const void *)table->users[p].slots : (const void *)table->ids[p].slots;
        if (mask != seen[p].mask || slots != seen[p].slots) {
            assert_int_equal (mask, seen[p].mask * 2 + 1);
            assert_ptr_not_equal (slots, seen[p].slots);
            seen[p] = (s_part_seen_t){ mask, slots };
            grown++;
        }
        sum += mask + 1;
    }
    assert_int_equal (sum, users ? table->users_slots : table->ids_slots);
    return grown;
}

/* Every event its own user_id, both hashes filling alike: a grow doubles
   one part of a hash (its stall is that part's, about 1/1024 of the
   entries), each part stays under its load factor (ids 5/8, users 3/4),
   the parts' counts add up, and every event and user is still found
   after the grows. */
static void
test_event_table_a_grow_rehashes_one_part (void **state)
{
    event_table_t *table = *state;
    enum { N = 120000 };
    char user[24];
    s_part_seen_t ids_seen[EVENT_TABLE_PARTS], users_seen[EVENT_TABLE_PARTS];
    for (size_t p = 0; p < EVENT_TABLE_PARTS; p++) {
        ids_seen[p] = (s_part_seen_t){ table->ids[p].mask, table->ids[p].slots };
        users_seen[p] = (s_part_seen_t){ table->users[p].mask, table->users[p].slots };
    }
    size_t ids_slots = table->ids_slots, users_slots = table->users_slots;
    int ids_grows = 0, users_grows = 0;
    for (uint32_t i = 0; i < N; i++) {
        snprintf (user, sizeof user, "own-%u", i);
        assert_int_equal (s_add (table, i, user, "pending"), i);
        if (table->ids_slots != ids_slots) {
            assert_int_equal (s_parts_grown (table, false, ids_seen), 1);
            ids_slots = table->ids_slots;
            ids_grows++;
        }
        if (table->users_slots != users_slots) {
            assert_int_equal (s_parts_grown (table, true, users_seen), 1);
            users_slots = table->users_slots;
            users_grows++;
        }
    }
    /* 120,000 over 1024 parts: about 117 each, so every id part grew to
       128 slots or more (at 41 entries) and every user part to 64 (at 25),
       and no part holds twice the mean. */
    assert_true (ids_grows >= 4 * (int)EVENT_TABLE_PARTS
                 && users_grows >= 3 * (int)EVENT_TABLE_PARTS);
    for (size_t p = 0; p < EVENT_TABLE_PARTS; p++) {
        assert_true (table->ids[p].mask >= 127 && table->users[p].mask >= 63);
        assert_true (table->ids[p].count < 2 * N / EVENT_TABLE_PARTS);
        assert_true (table->users[p].count < 2 * N / EVENT_TABLE_PARTS);
    }
    s_assert_counts (table);
    assert_int_equal (table->users_count, N);
    for (uint32_t i = 0; i < N; i += 13) {
        uint8_t id[16];
        s_id (id, i);
        assert_int_equal (event_table_find (table, id), i);
        snprintf (user, sizeof user, "own-%u", i);
        uint32_t out[2];
        size_t n;
        bool more;
        s_list (table, user, NULL, NULL, 2, out, &n, &more, 0);
        assert_int_equal (n, 1);
        assert_int_equal (out[0], i);
        assert_false (more);
    }
}

/* The prefetch hint over held and unknown ids, in runs of the most it
   takes, as the table grows: it reads only what a lookup would (ASan and
   valgrind see any stray read) and changes nothing a lookup finds. */
static void
test_event_table_prefetch_changes_nothing (void **state)
{
    event_table_t *table = *state;
    enum { N = 5000 };
    uint8_t ids[EVENT_TABLE_PREFETCH_MAX][16];
    event_table_prefetch (table, NULL, 0);
    for (uint32_t i = 0; i < N; i++) {
        s_add (table, i, "user", "pending");
        if (i % 97 != 0)
            continue;
        /* Every other id is held (the even ones up to i), the rest not. */
        for (uint32_t k = 0; k < EVENT_TABLE_PREFETCH_MAX; k++)
            s_id (ids[k], k % 2 ? N + i + k : (i * k) % (i + 1));
        event_table_prefetch (table, (const uint8_t (*)[16])ids, EVENT_TABLE_PREFETCH_MAX);
        for (uint32_t k = 0; k < EVENT_TABLE_PREFETCH_MAX; k++)
            assert_int_equal (event_table_find (table, ids[k]),
                              k % 2 ? EVENT_TABLE_NONE : (i * k) % (i + 1));
        assert_int_equal (event_table_size (table), i + 1);
    }
}

/* The one-id steps (the server's lookahead, and event_table_prefetch's
   passes): the entry step names the event of a held id (all of them
   here, no two of these ids sharing a tag), never another event, and
   nothing for an unknown id;
   the block step takes any index. None of them changes what a lookup
   finds (ASan and valgrind see any stray read). */
static void
test_event_table_ahead_steps_name_only_the_right_event (void **state)
{
    event_table_t *table = *state;
    enum { N = 5000 };
    uint8_t id[16];
    for (uint32_t i = 0; i < N; i++)
        s_add (table, i, "user", "pending");
    uint32_t named = 0;
    for (uint32_t i = 0; i < N; i++) {
        s_id (id, i);
        uint32_t index = event_table_ahead_entry (table, event_table_ahead_slot (table, id));
        if (index != EVENT_TABLE_NONE) {
            assert_int_equal (index, i);
            named++;
        }
        event_table_ahead_block (table, index);
        s_id (id, N + i);
        assert_int_equal (event_table_ahead_entry (table, event_table_ahead_slot (table, id)),
                          EVENT_TABLE_NONE);
    }
    assert_true (named > N / 2);
    event_table_ahead_block (table, N);
    for (uint32_t i = 0; i < N; i++) {
        s_id (id, i);
        assert_int_equal (event_table_find (table, id), i);
    }
    assert_int_equal (event_table_size (table), N);
}

/* The user steps (the server's lookahead for a create): the entry step
   names the newest event of a known user, whether its set holds one, two
   (inline) or more members (a block), and nothing for a user never seen;
   the user hash grows across the creates. Nothing changes. */
static void
test_event_table_ahead_user_steps_name_the_users_newest_event (void **state)
{
    event_table_t *table = *state;
    enum { USERS = 3000 };
    char user[32];
    uint32_t newest[USERS], n = 0;
    /* User k gets k % 4 + 1 events, a round of creates at a time. */
    for (uint32_t round = 0; round < 4; round++)
        for (uint32_t k = 0; k < USERS; k++)
            if (round <= k % 4) {
                snprintf (user, sizeof user, "user-%u", k);
                newest[k] = s_add (table, n++, user, "pending");
            }
    size_t users = table->users_count;
    for (uint32_t k = 0; k < USERS; k++) {
        snprintf (user, sizeof user, "user-%u", k);
        uint32_t hash = event_table_ahead_user_slot (table, user, strlen (user));
        uint32_t index = event_table_ahead_user_entry (table, hash);
        assert_int_equal (index, newest[k]);
        event_table_ahead_block (table, index);
        snprintf (user, sizeof user, "nobody-%u", k);
        index = event_table_ahead_user_entry (
            table, event_table_ahead_user_slot (table, user, strlen (user)));
        assert_int_equal (index, EVENT_TABLE_NONE);
        event_table_ahead_block (table, index);
    }
    assert_int_equal (event_table_size (table), n);
    assert_int_equal (table->users_count, users);
    assert_int_equal (users, USERS);
    s_assert_counts (table);
}

/* Both hashes grow many times here (every user is distinct, so the user
   hash grows as often as the id hash, each rehashed from what its slots
   hold: event_table.c), while every third create moves an older event to
   one of 50 shared users, deleting its own user: every id, every user's
   chain and every deleted user stay right through the growth. */
static void
test_event_table_growth_keeps_ids_and_users_while_users_change (void **state)
{
    event_table_t *table = *state;
    enum { N = 60000, SHARED = 50 };
    static char moved[N];
    char user[32];
    uint8_t id[16];
    uint32_t out[1000];
    size_t n;
    bool more;
    for (uint32_t i = 0; i < N; i++) {
        snprintf (user, sizeof user, "u-%u", i);
        assert_int_equal (s_add (table, i, user, "pending"), i);
        if (i % 3 == 2) {
            uint32_t j = i / 3;
            snprintf (user, sizeof user, "shared-%u", j % SHARED);
            assert_int_equal (event_table_update (table, j, s_str (user), PROTO_STR_NONE,
                                                  PROTO_STR_NONE, PROTO_STR_NONE, 1, N + i),
                              0);
            moved[j] = 1;
            /* its old user is gone at once */
            snprintf (user, sizeof user, "u-%u", j);
            s_list (table, user, NULL, NULL, 10, out, &n, &more, 0);
            assert_int_equal (n, 0);
        }
        /* one old and one recent id */
        s_id (id, i / 2);
        assert_int_equal (event_table_find (table, id), i / 2);
        s_id (id, i);
        assert_int_equal (event_table_find (table, id), i);
    }
    s_id (id, N);
    assert_int_equal (event_table_find (table, id), EVENT_TABLE_NONE);
    for (uint32_t i = 0; i < N; i++) {
        s_id (id, i);
        assert_int_equal (event_table_find (table, id), i);
        snprintf (user, sizeof user, "u-%u", i);
        s_list (table, user, NULL, NULL, 10, out, &n, &more, 0);
        assert_int_equal (n, moved[i] ? 0 : 1);
        if (!moved[i])
            assert_int_equal (out[0], i);
    }
    /* shared-k holds the moved j with j % 50 == k, in creation order */
    size_t total = 0;
    for (uint32_t k = 0; k < SHARED; k++) {
        snprintf (user, sizeof user, "shared-%u", k);
        s_list (table, user, NULL, NULL, 1000, out, &n, &more, 0);
        assert_false (more);
        uint32_t want = k;
        for (size_t m = 0; m < n; m++, want += SHARED) {
            while (!moved[want])
                want += SHARED;
            assert_int_equal (out[m], want);
        }
        total += n;
    }
    assert_int_equal (total, N / 3);
    s_assert_counts (table);
    assert_int_equal (table->users_count, N - N / 3 + SHARED); /* the moved ones' users went */
}

static void
test_event_table_bytes_follow_the_strings (void **state)
{
    event_table_t *table = *state;
    size_t empty = event_table_bytes (table);
    uint8_t id[16] = { 1 };
    uint32_t index;
    assert_int_equal (event_table_create (table, id, PROTO_STR ("user"), PROTO_STR ("twelve bytes"),
                                          PROTO_STR ("pending"), PROTO_STR_NONE, 1, 0, 1, &index),
                      0);
    size_t overhead = event_table_overhead_bytes (table);
    assert_int_equal (event_table_bytes (table), overhead + 4 + 12 + 7);
    assert_true (event_table_bytes (table) > empty);
    /* A longer description grows it, a same-size rewrite does not. */
    assert_int_equal (event_table_update (table, index, PROTO_STR_NONE,
                                          PROTO_STR ("twenty-two bytes long!"), PROTO_STR_NONE,
                                          PROTO_STR_NONE, 2, 2),
                      0);
    assert_int_equal (event_table_bytes (table), overhead + 4 + 22 + 7);
    assert_int_equal (event_table_update (table, index, PROTO_STR_NONE, PROTO_STR_NONE,
                                          PROTO_STR ("handled"), PROTO_STR_NONE, 3, 3),
                      0);
    assert_int_equal (event_table_bytes (table), overhead + 4 + 22 + 7);
    assert_int_equal (event_table_update (table, index, PROTO_STR ("u"), PROTO_STR_NONE,
                                          PROTO_STR ("done"), PROTO_STR_NONE, 4, 4),
                      0);
    assert_int_equal (event_table_bytes (table), event_table_overhead_bytes (table) + 1 + 22 + 4);
}

/* Every index of every list by user, by status and by both, as one text:
   what a failed change must leave as it was. */
static void
s_lists (event_table_t *table, const char **users, size_t n_users, char *text, size_t size)
{
    static const char *statuses[] = { "pending", "processed", "a much longer status" };
    size_t len = 0;
    text[0] = '\0';
    for (size_t u = 0; u <= n_users; u++)
        for (size_t st = 0; st <= 3; st++) {
            if (u == n_users && st == 3)
                continue; /* unfiltered: every index, whatever happened */
            uint32_t out[1000];
            size_t n;
            bool more;
            s_list (table, u < n_users ? users[u] : NULL, st < 3 ? statuses[st] : NULL, NULL, 1000,
                    out, &n, &more, 0);
            assert_false (more);
            for (size_t k = 0; k < n && len + 12 < size; k++)
                len += (size_t)snprintf (text + len, size - len, "%u,", out[k]);
            len += (size_t)snprintf (text + len, size - len, ";");
        }
    assert_true (len + 12 < size);
}

/* Each allocation that a create or an update makes (the user's set
   growing or splitting, the status index, a new block, the hashes)
   failing in turn: -1, and every list and view as before. */
static void
test_event_table_a_failed_allocation_changes_nothing (void **state)
{
    event_table_t *table = *state;
    const char *users[] = { "big", "small", "new" };
    /* "big" holds 576 events in full blocks of its index set, "small" the
       192 between them. */
    for (uint32_t i = 0; i < 768; i++)
        s_add (table, i + 1, i % 4 == 3 ? "small" : "big", i % 3 ? "processed" : "pending");
    static char before[128 * 1024], after[128 * 1024];
    int failures = 0;
    for (uint32_t k = 0; k < 60; k++) {
        /* One of small's, all over big's blocks, moves to big (splitting
           a full block) or to a new user, with its status changed half of
           the time, to a longer one (a new block) a quarter of the time. */
        uint32_t index = 3 + 12 * k;
        proto_str_t user = k % 5 == 4 ? s_str ("new") : s_str ("big");
        proto_str_t status = k % 2 == 0   ? s_str ("a much longer status")
                             : k % 4 == 1 ? s_str ("pending")
                                          : PROTO_STR_NONE;
        proto_event_t view;
        event_table_view (table, index, &view);
        for (int f = 1;; f++) {
            s_lists (table, users, 3, before, sizeof before);
            test_fail_alloc_in (f);
            int rc = event_table_update (table, index, user, PROTO_STR_NONE, status, PROTO_STR_NONE,
                                         2000, 10000 + k);
            test_fail_alloc_in (0);
            if (rc == 0)
                break;
            failures++;
            s_lists (table, users, 3, after, sizeof after);
            /* Room taken before the step that failed (a hash grown, a
               user's block split) may stay: event_table_bytes may grow. */
            assert_string_equal (after, before);
            s_assert_counts (table);
            proto_event_t now;
            event_table_view (table, index, &now);
            assert_int_equal (now.seq, view.seq);
            assert_int_equal (now.user_id.len, view.user_id.len);
        }
        /* And a create, failing the same way. */
        for (int f = 1;; f++) {
            uint8_t id[16];
            s_id (id, 1000 + k);
            uint32_t at;
            s_lists (table, users, 3, before, sizeof before);
            size_t size = event_table_size (table);
            test_fail_alloc_in (f);
            int rc = event_table_create (table, id, s_str (k % 2 ? "big" : "new"), s_str ("desc"),
                                         s_str (k % 3 ? "processed" : "a much longer status"),
                                         PROTO_STR_NONE, 3000, 0, 20000 + k, &at);
            test_fail_alloc_in (0);
            if (rc == 0)
                break;
            failures++;
            s_lists (table, users, 3, after, sizeof after);
            assert_string_equal (after, before);
            assert_int_equal (event_table_size (table), size);
            s_assert_counts (table);
            assert_int_equal (event_table_find (table, id), EVENT_TABLE_NONE);
        }
    }
    assert_true (failures >= 60);
    s_assert_counts (table);
}

/* Random creates and updates (user, status, both, a longer description)
   against a plain array of each event's user and status: every list by
   user, by status and by both, paged with cursors, matches it. */
static void
test_event_table_lists_match_a_model_under_random_updates (void **state)
{
    event_table_t *table = *state;
    enum { EVENTS = 3000, USERS = 12, STATUSES = 4, OPS = 20000, LIMIT = 7 };
    static const char *statuses[STATUSES] = { "pending", "processed", "failed", "x" };
    static uint8_t user_of[EVENTS], status_of[EVENTS];
    char user[16];
    unsigned seed = 7;
    uint32_t count = 0;
    for (int op = 0; op < OPS; op++) {
        uint32_t r = (uint32_t)rand_r (&seed);
        if (count < 200 || (count < EVENTS && r % 4 == 0)) {
            user_of[count] = (uint8_t)(r / 4 % USERS);
            status_of[count] = (uint8_t)(r / 64 % STATUSES);
            snprintf (user, sizeof user, "u%u", user_of[count]);
            assert_int_equal (s_add (table, count + 1, user, statuses[status_of[count]]), count);
            count++;
        } else {
            uint32_t index = r % count;
            uint32_t what = (uint32_t)rand_r (&seed);
            proto_str_t to_user = PROTO_STR_NONE, to_status = PROTO_STR_NONE, desc = PROTO_STR_NONE;
            if (what % 3 != 1) {
                user_of[index] = (uint8_t)(what / 3 % USERS);
                snprintf (user, sizeof user, "u%u", user_of[index]);
                to_user = s_str (user);
            }
            if (what % 3 != 0) {
                status_of[index] = (uint8_t)(what / 64 % STATUSES);
                to_status = s_str (statuses[status_of[index]]);
            }
            if (what % 5 == 0)
                desc = s_str (what % 2 ? "a description of another length" : "d");
            assert_int_equal (event_table_update (table, index, to_user, desc, to_status,
                                                  PROTO_STR_NONE, 5000, 100000 + (uint64_t)op),
                              0);
        }
        if (op % 2500 != 2499)
            continue;
        for (int u = 0; u <= USERS; u++)
            for (int st = 0; st <= STATUSES; st++) {
                snprintf (user, sizeof user, "u%d", u);
                uint32_t want = 0, out[LIMIT];
                uint8_t after[16];
                bool has_after = false, more = true;
                while (more) {
                    size_t n;
                    s_list (table, u < USERS ? user : NULL, st < STATUSES ? statuses[st] : NULL,
                            has_after ? after : NULL, LIMIT, out, &n, &more, 0);
                    for (size_t k = 0; k < n; k++) {
                        while (want < count
                               && ((u < USERS && user_of[want] != u)
                                   || (st < STATUSES && status_of[want] != st)))
                            want++;
                        assert_int_equal (out[k], want);
                        want++;
                    }
                    assert_true (n == LIMIT || !more);
                    if (n > 0) {
                        proto_event_t view;
                        event_table_view (table, out[n - 1], &view);
                        memcpy (after, view.id, 16);
                        has_after = true;
                    }
                }
                while (want < count
                       && ((u < USERS && user_of[want] != u)
                           || (st < STATUSES && status_of[want] != st)))
                    want++;
                assert_int_equal (want, count); /* none missed at the end */
            }
    }
    s_assert_counts (table);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_event_table_bytes_follow_the_strings, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_create_then_find_and_view, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_find_unknown_id_is_none, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_refuses_duplicate_id, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_update_changes_only_given_fields, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_update_keeps_created_us, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_list_empty_table, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_list_pages_in_creation_order, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_list_filters_user_and_status, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_status_list_follows_every_kind_of_update,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_user_change_moves_event_between_users,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_event_table_growth_keeps_ids_and_users_while_users_change, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_grows_through_many_resizes, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_a_grow_rehashes_one_part, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_prefetch_changes_nothing, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (
            test_event_table_ahead_user_steps_name_the_users_newest_event, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_ahead_steps_name_only_the_right_event,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_a_failed_allocation_changes_nothing,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_event_table_lists_match_a_model_under_random_updates,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
