/*
 * test_status_index — the status index's contract: members listed in
 * ascending order from any starting index (chunk and word boundaries
 * included), `more` exact at the limit, events moved between statuses,
 * a status freed with its last member, many statuses through hash growth
 * and backward-shift deletion, and a long random run checked against a
 * plain array of each event's status.
 */
#include "status_index.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static proto_str_t
s_str (const char *text)
{
    return (proto_str_t){ text, strlen (text) };
}

static int
s_setup (void **state)
{
    *state = status_index_new ();
    return *state ? 0 : -1;
}

static int
s_teardown (void **state)
{
    status_index_t *index = *state;
    status_index_destroy (&index);
    assert_null (index);
    return 0;
}

static void
test_status_index_collects_in_order_across_chunk_boundaries (void **state)
{
    status_index_t *index = *state;
    const uint32_t members[] = { 0, 1, 63, 64, 511, 512, 513, 1023, 1024, 5000, 70000 };
    size_t count = sizeof members / sizeof members[0];
    /* Added out of order: the chunks are kept sorted whatever the order. */
    for (size_t i = count; i-- > 0;)
        assert_int_equal (status_index_add (index, s_str ("pending"), members[i]), 0);
    assert_int_equal (status_index_count (index, s_str ("pending")), count);
    uint32_t out[16];
    bool more;
    assert_int_equal (status_index_collect (index, s_str ("pending"), 0, out, 16, &more), count);
    assert_false (more);
    for (size_t i = 0; i < count; i++)
        assert_int_equal (out[i], members[i]);
    /* From each member and from one past it. */
    for (size_t i = 0; i < count; i++) {
        size_t n = status_index_collect (index, s_str ("pending"), members[i], out, 16, &more);
        assert_int_equal (n, count - i);
        assert_int_equal (out[0], members[i]);
        n = status_index_collect (index, s_str ("pending"), members[i] + 1, out, 16, &more);
        assert_int_equal (n, count - i - 1);
        if (n > 0)
            assert_int_equal (out[0], members[i + 1]);
    }
    /* The limit: exactly max written, more says whether one follows. */
    assert_int_equal (status_index_collect (index, s_str ("pending"), 64, out, 3, &more), 3);
    assert_true (more);
    assert_int_equal (out[2], 512);
    assert_int_equal (status_index_collect (index, s_str ("pending"), 5000, out, 2, &more), 2);
    assert_false (more);
    assert_int_equal (status_index_collect (index, s_str ("pending"), 70001, out, 16, &more), 0);
    assert_false (more);
    assert_int_equal (
        status_index_collect (index, s_str ("pending"), STATUS_INDEX_NONE, out, 16, &more), 0);
    /* Another status, a prefix of it, and the empty string are not it. */
    assert_int_equal (status_index_collect (index, s_str ("processed"), 0, out, 16, &more), 0);
    assert_int_equal (status_index_collect (index, s_str ("pend"), 0, out, 16, &more), 0);
    assert_int_equal (status_index_count (index, s_str ("")), 0);
}

static void
test_status_index_moves_events_and_frees_a_drained_status (void **state)
{
    status_index_t *index = *state;
    size_t empty = status_index_bytes (index);
    for (uint32_t i = 0; i < 2000; i++)
        assert_int_equal (status_index_add (index, s_str ("pending"), i), 0);
    size_t full = status_index_bytes (index);
    assert_true (full > empty);
    /* Dense: well under a byte per event. */
    assert_true (full - empty < 2000);
    /* Process them oldest first, as workers do. */
    for (uint32_t i = 0; i < 2000; i++) {
        status_index_remove (index, s_str ("pending"), i);
        assert_int_equal (status_index_add (index, s_str ("processed"), i), 0);
        if (i == 999) {
            uint32_t out[4];
            bool more;
            assert_int_equal (status_index_collect (index, s_str ("pending"), 0, out, 4, &more), 4);
            assert_int_equal (out[0], 1000);
            assert_true (more);
            assert_int_equal (status_index_statuses (index), 2);
        }
    }
    assert_int_equal (status_index_count (index, s_str ("pending")), 0);
    assert_int_equal (status_index_count (index, s_str ("processed")), 2000);
    assert_int_equal (status_index_statuses (index), 1);
    for (uint32_t i = 0; i < 2000; i++)
        status_index_remove (index, s_str ("processed"), i);
    assert_int_equal (status_index_statuses (index), 0);
    /* Everything given back but the hash's slots, which never shrink. */
    assert_int_equal (status_index_bytes (index), empty);
}

static void
test_status_index_many_statuses_survive_growth_and_deletion (void **state)
{
    status_index_t *index = *state;
    char name[32];
    /* 3000 statuses, one event each: the hash grows many times. */
    for (uint32_t i = 0; i < 3000; i++) {
        snprintf (name, sizeof name, "status-%u", i);
        assert_int_equal (status_index_add (index, s_str (name), i * 3), 0);
    }
    assert_int_equal (status_index_statuses (index), 3000);
    /* Delete every other one (backward shift), then find the rest. */
    for (uint32_t i = 0; i < 3000; i += 2) {
        snprintf (name, sizeof name, "status-%u", i);
        status_index_remove (index, s_str (name), i * 3);
    }
    assert_int_equal (status_index_statuses (index), 1500);
    for (uint32_t i = 0; i < 3000; i++) {
        snprintf (name, sizeof name, "status-%u", i);
        uint32_t out[2];
        bool more;
        size_t n = status_index_collect (index, s_str (name), 0, out, 2, &more);
        assert_int_equal (n, i % 2 ? 1 : 0);
        if (n)
            assert_int_equal (out[0], i * 3);
    }
}

/* A random walk of events between statuses, checked against a plain array
   after every batch: every status's full listing and listings from random
   starts with random limits. */
static void
test_status_index_matches_a_plain_array_on_random_moves (void **state)
{
    status_index_t *index = *state;
    enum { EVENTS = 6000, STATUSES = 5, STEPS = 40000, MAX = 64 };
    const char *names[STATUSES] = { "pending", "processed", "failed", "x", "retry" };
    static int8_t status_of[EVENTS];
    uint32_t seed = 12345;
#define NEXT() (seed = seed * 1103515245u + 12345u, (seed >> 8) & 0xffffff)
    for (uint32_t i = 0; i < EVENTS; i++) {
        status_of[i] = (int8_t)(NEXT () % STATUSES);
        assert_int_equal (status_index_add (index, s_str (names[status_of[i]]), i), 0);
    }
    for (int step = 0; step < STEPS; step++) {
        /* Mostly a region moves (workers), sometimes anywhere. */
        uint32_t e = step % 3 ? (uint32_t)(step / 8) % EVENTS : NEXT () % EVENTS;
        int to = (int)(NEXT () % STATUSES);
        if (to != status_of[e]) {
            status_index_remove (index, s_str (names[status_of[e]]), e);
            assert_int_equal (status_index_add (index, s_str (names[to]), e), 0);
            status_of[e] = (int8_t)to;
        }
        if (step % 4000 != 3999)
            continue;
        for (int s = 0; s < STATUSES; s++) {
            uint32_t from = NEXT () % (EVENTS + 10);
            size_t max = 1 + NEXT () % MAX;
            uint32_t out[MAX];
            bool more;
            size_t n = status_index_collect (index, s_str (names[s]), from, out, max, &more);
            size_t k = 0, total = 0;
            for (uint32_t i = from; i < EVENTS; i++) {
                if (status_of[i] != s)
                    continue;
                if (k < max) {
                    assert_true (k < n);
                    assert_int_equal (out[k], i);
                    k++;
                }
                total++;
            }
            assert_int_equal (n, k);
            assert_int_equal (more, total > max);
            size_t members = 0;
            for (uint32_t i = 0; i < EVENTS; i++)
                members += status_of[i] == s;
            assert_int_equal (status_index_count (index, s_str (names[s])), members);
        }
    }
#undef NEXT
}

/* status_members_range: the range holding the first member >= from, its
   members below from cleared; past a range whose members are all below
   from, the next one; none past the last. */
static void
test_status_index_members_range_starts_at_the_first_member_from (void **state)
{
    status_index_t *index = *state;
    const uint32_t members[] = { 3, 70, 511, 512 * 4 + 9, 512 * 4 + 300, 512 * 9 };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        assert_int_equal (status_index_add (index, s_str ("s"), members[i]), 0);
    assert_null (status_index_members (index, s_str ("other")));
    const status_members_t *m = status_index_members (index, s_str ("s"));
    assert_non_null (m);
    uint64_t bits[STATUS_INDEX_RANGE / 64];
    uint32_t first;
    assert_true (status_members_range (m, 0, &first, bits));
    assert_int_equal (first, 0);
    assert_true (bits[0] == (1ull << 3) && bits[1] == (1ull << 6) && bits[7] == (1ull << 63));
    assert_true (status_members_range (m, 71, &first, bits));
    assert_int_equal (first, 0);
    assert_true (bits[0] == 0 && bits[1] == 0 && bits[7] == (1ull << 63));
    /* Past 511: range 4 (ranges 1 to 3 hold nothing). */
    assert_true (status_members_range (m, 512, &first, bits));
    assert_int_equal (first, 512 * 4);
    assert_true (bits[0] == (1ull << 9) && bits[4] == (1ull << 44));
    assert_true (status_members_range (m, 512 * 4 + 301, &first, bits));
    assert_int_equal (first, 512 * 9);
    assert_true (bits[0] == 1);
    for (int w = 1; w < STATUS_INDEX_RANGE / 64; w++)
        assert_true (bits[w] == 0);
    assert_false (status_members_range (m, 512 * 9 + 1, &first, bits));
    assert_false (status_members_range (m, STATUS_INDEX_NONE, &first, bits));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_status_index_collects_in_order_across_chunk_boundaries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_status_index_moves_events_and_frees_a_drained_status,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_status_index_many_statuses_survive_growth_and_deletion, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_status_index_matches_a_plain_array_on_random_moves,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_status_index_members_range_starts_at_the_first_member_from, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
