/*
 * test_index_set — the index set's contract: members in ascending order
 * from any starting index (inline pairs and block boundaries included),
 * by collect and by an iterator, `more` exact at the limit, appends filling blocks, inserts
 * in front splitting them, every byte given back when the set empties,
 * an allocation failure leaving the set as it was, and a long random run
 * checked against a plain array of flags.
 */
#include "index_set.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_fail_alloc.h"

#define S_OWNER 0xc0ffee11u /* what a test leaves in the owner's word */

/* True when index is a member: the first member from index is index. */
static bool
s_has (const index_set_t *set, uint32_t index)
{
    index_set_iter_t it;
    index_set_seek (set, index, &it);
    return index_set_next (&it) == index;
}

/* Every member from `from`, checked against the flags in have[0..n-1]. */
static void
s_assert_members (const index_set_t *set, const bool *have, uint32_t n, uint32_t from)
{
    static uint32_t out[1 << 16];
    bool more;
    size_t got = index_set_collect (set, from, out, sizeof out / sizeof out[0], &more);
    assert_false (more);
    size_t k = 0;
    for (uint32_t i = from; i < n; i++)
        if (have[i]) {
            assert_true (k < got);
            assert_int_equal (out[k], i);
            k++;
        }
    assert_int_equal (got, k);
    /* The same members through an iterator. */
    index_set_iter_t it;
    index_set_seek (set, from, &it);
    for (size_t j = 0; j < got; j++)
        assert_int_equal (index_set_next (&it), out[j]);
    assert_int_equal (index_set_next (&it), INDEX_SET_NONE);
}

static void
test_two_members_sit_inline (void **state)
{
    (void)state;
    index_set_t set = { 0 };
    size_t bytes = 0;
    assert_int_equal (index_set_first (&set), INDEX_SET_NONE);
    assert_int_equal (index_set_add (&set, 9, &bytes), 0);
    assert_int_equal (index_set_add (&set, 4, &bytes), 0);
    assert_int_equal (bytes, 0);
    assert_int_equal (set.count, 2);
    assert_int_equal (index_set_first (&set), 4);
    assert_true (s_has (&set, 9));
    assert_false (s_has (&set, 5));
    uint32_t out[4];
    bool more;
    assert_int_equal (index_set_collect (&set, 0, out, 4, &more), 2);
    assert_int_equal (out[0], 4);
    assert_int_equal (out[1], 9);
    assert_false (more);
    assert_int_equal (index_set_collect (&set, 5, out, 4, &more), 1);
    assert_int_equal (out[0], 9);
    assert_int_equal (index_set_collect (&set, 0, out, 1, &more), 1);
    assert_true (more);
    /* A third member takes a block; back to two, it goes inline again. */
    assert_int_equal (index_set_add (&set, 6, &bytes), 0);
    assert_true (bytes > 0);
    assert_int_equal (index_set_first (&set), 4);
    index_set_remove (&set, 4, &bytes);
    assert_int_equal (bytes, 0);
    assert_int_equal (index_set_first (&set), 6);
    index_set_remove (&set, 6, &bytes);
    index_set_remove (&set, 9, &bytes);
    assert_int_equal (set.count, 0);
    assert_int_equal (index_set_first (&set), INDEX_SET_NONE);
    assert_int_equal (index_set_collect (&set, 0, out, 4, &more), 0);
    assert_false (more);
}

/* Creation order: every index after the last. Blocks fill to the brim, so
   a member costs about 4 bytes; a cursor resumes at any block boundary. */
static void
test_appends_fill_blocks (void **state)
{
    (void)state;
    enum { N = 100000 };
    index_set_t set = { 0 };
    size_t bytes = 0;
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal (index_set_add (&set, i * 3, &bytes), 0);
    assert_int_equal (set.count, N);
    assert_true (bytes <= (size_t)N * 4 * 105 / 100 + 16384);
    uint32_t out[200];
    bool more;
    const uint32_t froms[] = { 0, 1, 3 * 127, 3 * 128, 3 * 128 + 1, 3 * (N - 150), 3 * N };
    for (size_t f = 0; f < sizeof froms / sizeof froms[0]; f++) {
        uint32_t first = (froms[f] + 2) / 3; /* the first member >= from, by number */
        size_t got = index_set_collect (&set, froms[f], out, 200, &more);
        size_t left = N - first;
        assert_int_equal (got, left < 200 ? left : 200);
        assert_int_equal (more, left > 200);
        for (size_t k = 0; k < got; k++)
            assert_int_equal (out[k], (first + k) * 3);
    }
    index_set_clear (&set, &bytes);
    assert_int_equal (bytes, 0);
    assert_int_equal (set.count, 0);
}

/* Each index before every member: every full block splits. Then all go,
   in another order, and every byte comes back. */
static void
test_inserts_in_front_split_and_removals_give_back (void **state)
{
    (void)state;
    enum { N = 20000 };
    static bool have[N];
    memset (have, 0, sizeof have);
    index_set_t set = { 0 };
    size_t bytes = 0;
    for (uint32_t i = N; i-- > 0;) {
        assert_int_equal (index_set_add (&set, i, &bytes), 0);
        have[i] = true;
    }
    s_assert_members (&set, have, N, 0);
    s_assert_members (&set, have, N, 12345);
    assert_true (bytes <= (size_t)N * 9 + 4096); /* half-full blocks at worst */
    for (uint32_t k = 0; k < N; k++) {
        uint32_t i = (k * 7919u) % N;
        index_set_remove (&set, i, &bytes);
        have[i] = false;
        if (k % 4999 == 0)
            s_assert_members (&set, have, N, k % N);
    }
    assert_int_equal (set.count, 0);
    assert_int_equal (bytes, 0);
}

/* A set spread over several blocks that loses all but two members holds
   them inline again, whichever blocks they were in: nothing allocated, the
   owner's word untouched, first and last right; a third member makes a
   block again. */
static void
test_two_members_left_go_back_inline (void **state)
{
    (void)state;
    index_set_t set = { .owner = S_OWNER };
    size_t bytes = 0;
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal (index_set_add (&set, i, &bytes), 0);
    assert_true (bytes > 1000 * sizeof (uint32_t)); /* 8 blocks and their array */
    assert_int_equal (index_set_last (&set), 999);
    /* From both ends inwards, so blocks empty and go while others stay. */
    for (uint32_t i = 0; i < 500; i++) {
        if (i != 5)
            index_set_remove (&set, i, &bytes);
        if (999 - i != 900)
            index_set_remove (&set, 999 - i, &bytes);
        assert_int_equal (set.owner, S_OWNER);
    }
    assert_int_equal (set.count, 2);
    assert_int_equal (bytes, 0);
    assert_int_equal (index_set_first (&set), 5);
    assert_int_equal (index_set_last (&set), 900);
    assert_int_equal (index_set_add (&set, 7, &bytes), 0);
    assert_true (bytes > 0);
    assert_int_equal (index_set_last (&set), 900);
    index_set_remove (&set, 900, &bytes);
    assert_int_equal (bytes, 0);
    assert_int_equal (index_set_last (&set), 7);
    index_set_clear (&set, &bytes);
    assert_int_equal (set.count, 0);
    assert_int_equal (set.owner, S_OWNER);
}

/* Every allocation an add makes (a first block, a block growing, a new
   block, the block array growing) failing in turn: -1, and the set holds
   exactly what it held. */
static void
test_a_failed_allocation_changes_nothing (void **state)
{
    (void)state;
    enum { N = 2000 };
    static bool have[N];
    memset (have, 0, sizeof have);
    index_set_t set = { 0 };
    size_t bytes = 0;
    int failures = 0;
    for (uint32_t k = 0; k < N; k++) {
        uint32_t i = (k * 1103u) % N; /* all over: growths and splits */
        for (int f = 1;; f++) {       /* the f-th allocation of this add fails */
            size_t before = bytes;
            test_fail_alloc_in (f);
            int rc = index_set_add (&set, i, &bytes);
            test_fail_alloc_in (0);
            if (rc == 0)
                break;
            failures++;
            assert_int_equal (bytes, before);
            assert_int_equal (set.count, k);
            assert_false (s_has (&set, i));
        }
        have[i] = true;
        if (k % 97 == 0)
            s_assert_members (&set, have, N, 0);
    }
    s_assert_members (&set, have, N, 0);
    /* The first block, its five growths, the splits and array growths:
       27 allocations in all here. */
    assert_true (failures >= 20);
    index_set_clear (&set, &bytes);
    assert_int_equal (bytes, 0);
}

/* Random adds and removes over a small range (dense) and a wide one
   (sparse), checked against flags. */
static void
test_random_run_matches_flags (void **state)
{
    (void)state;
    enum { OPS = 300000 };
    const uint32_t ranges[] = { 3000, 60000 };
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        uint32_t n = ranges[r];
        bool *have = calloc (n, sizeof *have);
        assert_non_null (have);
        index_set_t set = { .owner = S_OWNER };
        size_t bytes = 0, count = 0;
        unsigned seed = 42u + (unsigned)r;
        for (int op = 0; op < OPS; op++) {
            uint32_t i = (uint32_t)rand_r (&seed) % n;
            /* Adds win 60% of the time, so sets grow, then churn. */
            bool add = rand_r (&seed) % 10 < 6;
            if (add && !have[i]) {
                assert_int_equal (index_set_add (&set, i, &bytes), 0);
                have[i] = true;
                count++;
            } else if (!add && have[i]) {
                index_set_remove (&set, i, &bytes);
                have[i] = false;
                count--;
            }
            assert_int_equal (s_has (&set, i), have[i]);
            assert_int_equal (set.owner, S_OWNER);
            if (op % 20011 == 0) {
                assert_int_equal (set.count, count);
                s_assert_members (&set, have, n, (uint32_t)rand_r (&seed) % n);
                uint32_t first = INDEX_SET_NONE;
                for (uint32_t k = 0; k < n && first == INDEX_SET_NONE; k++)
                    if (have[k])
                        first = k;
                assert_int_equal (index_set_first (&set), first);
                uint32_t last = INDEX_SET_NONE;
                for (uint32_t k = n; k-- > 0 && last == INDEX_SET_NONE;)
                    if (have[k])
                        last = k;
                assert_int_equal (index_set_last (&set), last);
                /* At most about 32 bytes a member, whatever the churn. */
                assert_true (bytes <= count * 32 + 4096);
            }
        }
        s_assert_members (&set, have, n, 0);
        for (uint32_t k = 0; k < n; k++)
            if (have[k]) {
                index_set_remove (&set, k, &bytes);
                assert_int_equal (set.owner, S_OWNER);
                if (set.count <= 2)
                    assert_int_equal (bytes, 0); /* inline again */
            }
        assert_int_equal (set.count, 0);
        assert_int_equal (bytes, 0);
        assert_int_equal (index_set_last (&set), INDEX_SET_NONE);
        free (have);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_two_members_sit_inline),
        cmocka_unit_test (test_appends_fill_blocks),
        cmocka_unit_test (test_inserts_in_front_split_and_removals_give_back),
        cmocka_unit_test (test_two_members_left_go_back_inline),
        cmocka_unit_test (test_a_failed_allocation_changes_nothing),
        cmocka_unit_test (test_random_run_matches_flags),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
