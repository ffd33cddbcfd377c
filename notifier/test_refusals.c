/* Unit tests for the episode of refused publishes (refusals.c): what starts
   and ends one, and the wait before the relay reads again. */
#include "refusals.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void
test_refusals_the_first_nack_starts_an_episode_and_the_end_closes_it (void **state)
{
    refusals_t r;
    refusals_init (&r, 100);
    assert_false (refusals_active (&r));
    assert_true (refusals_note (&r, 1000));
    assert_true (refusals_active (&r));
    assert_false (refusals_note (&r, 1001));
    assert_false (refusals_note (&r, 1000 + REFUSALS_LOG_MS)); /* logged again, same episode */
    assert_int_equal (r.count, 3);
    refusals_end (&r, 1000 + 2 * REFUSALS_LOG_MS);
    assert_false (refusals_active (&r));
    assert_true (refusals_note (&r, 1000 + 3 * REFUSALS_LOG_MS)); /* a new episode */
}

static void
test_refusals_waits_grow_within_an_episode_and_start_over_after_it (void **state)
{
    refusals_t r;
    refusals_init (&r, 0);
    refusals_note (&r, 0);
    /* Full jitter: each wait is within [ceiling/2, ceiling], the ceiling
       doubling from REFUSALS_INITIAL_MS up to REFUSALS_MAX_MS. */
    int64_t ceiling = REFUSALS_INITIAL_MS;
    for (int i = 0; i < 10; i++) {
        int64_t wait = refusals_wait (&r);
        assert_true (wait >= ceiling / 2 && wait <= ceiling);
        ceiling = ceiling * 2 > REFUSALS_MAX_MS ? REFUSALS_MAX_MS : ceiling * 2;
    }
    assert_true (refusals_wait (&r) >= REFUSALS_MAX_MS / 2);
    refusals_end (&r, 100);
    refusals_note (&r, 200);
    assert_true (refusals_wait (&r) <= REFUSALS_INITIAL_MS);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_refusals_the_first_nack_starts_an_episode_and_the_end_closes_it),
        cmocka_unit_test (test_refusals_waits_grow_within_an_episode_and_start_over_after_it),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
