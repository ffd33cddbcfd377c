/*
 * test_jobs — the worker's jobs and slots: never more jobs than the
 * prefetch window nor more requests than connections, slots handed out
 * first come first served, a retry's wait holding no connection, and
 * nothing (delivery, slot, place in the queue) kept by a job once released.
 * Run under ASan in CI, which also catches a delivery released twice or
 * never.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "jobs.h"

#include <stdlib.h>
#include <string.h>

/* A job holding a delivery of its own, as the consumer's are. */
static job_t *
s_take (jobs_t *jobs)
{
    job_t *job = jobs_take (jobs);
    if (job) {
        job->delivery.body = strdup ("body");
        job->delivery.len = 4;
    }
    return job;
}

static void
test_jobs_take_no_more_than_the_window (void **state)
{
    (void)state;
    jobs_t *jobs = jobs_new (3, 2);
    assert_non_null (jobs);
    job_t *a = s_take (jobs), *b = s_take (jobs), *c = s_take (jobs);
    assert_non_null (a);
    assert_non_null (b);
    assert_non_null (c);
    assert_true (a != b && b != c && a != c);
    assert_null (jobs_take (jobs));
    assert_int_equal (jobs_busy (jobs), 3);
    assert_int_equal (b->state, JOB_HTTP);
    assert_int_equal (b->slot, -1);

    jobs_release (jobs, b);
    assert_int_equal (jobs_busy (jobs), 2);
    assert_null (b->delivery.body);
    job_t *again = jobs_take (jobs);
    assert_ptr_equal (again, b);
    assert_int_equal (again->slot, -1);
    assert_int_equal (again->failures, 0); /* zeroed, nothing of the last message */
    jobs_destroy (&jobs);                  /* releases the deliveries still held */
    assert_null (jobs);
    jobs_destroy (&jobs);
}

static void
test_jobs_queue_for_slots_first_come_first_served (void **state)
{
    (void)state;
    jobs_t *jobs = jobs_new (5, 2);
    job_t *j[5];
    for (int i = 0; i < 5; i++)
        j[i] = s_take (jobs);
    assert_int_equal (jobs_claim_slot (jobs, j[0]), 0);
    assert_int_equal (jobs_claim_slot (jobs, j[1]), 0);
    assert_true (j[0]->slot >= 0 && j[1]->slot >= 0 && j[0]->slot != j[1]->slot);
    assert_ptr_equal (jobs_slot_holder (jobs, j[0]->slot), j[0]);
    assert_int_equal (jobs_claim_slot (jobs, j[0]), 0); /* holds one: keeps it */

    assert_int_equal (jobs_claim_slot (jobs, j[2]), -1);
    assert_int_equal (jobs_claim_slot (jobs, j[3]), -1);
    assert_int_equal (j[2]->state, JOB_QUEUED);
    assert_int_equal (jobs_queued (jobs), 2);
    assert_null (jobs_next_queued (jobs)); /* every slot held */

    int freed = j[1]->slot;
    jobs_give_slot (jobs, j[1]);
    assert_int_equal (j[1]->slot, -1);
    assert_null (jobs_slot_holder (jobs, freed));
    /* A slot is free, but two jobs were there first: j[4] queues behind them. */
    assert_int_equal (jobs_claim_slot (jobs, j[4]), -1);
    assert_int_equal (jobs_queued (jobs), 3);

    job_t *next = jobs_next_queued (jobs);
    assert_ptr_equal (next, j[2]);
    assert_int_equal (next->state, JOB_HTTP);
    assert_int_equal (next->slot, freed);
    assert_ptr_equal (jobs_slot_holder (jobs, freed), j[2]);
    assert_null (jobs_next_queued (jobs));

    jobs_release (jobs, j[0]); /* its slot comes free: j[3] next, then j[4] */
    assert_ptr_equal (jobs_next_queued (jobs), j[3]);
    jobs_release (jobs, j[2]);
    assert_ptr_equal (jobs_next_queued (jobs), j[4]);
    assert_int_equal (jobs_queued (jobs), 0);
    assert_null (jobs_next_queued (jobs));
    jobs_destroy (&jobs);
}

static void
test_jobs_release_a_queued_job_keeps_the_others_order (void **state)
{
    (void)state;
    jobs_t *jobs = jobs_new (4, 1);
    job_t *j[4];
    for (int i = 0; i < 4; i++)
        j[i] = s_take (jobs);
    assert_int_equal (jobs_claim_slot (jobs, j[0]), 0);
    for (int i = 1; i < 4; i++)
        assert_int_equal (jobs_claim_slot (jobs, j[i]), -1);
    jobs_release (jobs, j[2]); /* leaves the queue before its turn */
    assert_int_equal (jobs_queued (jobs), 2);
    jobs_release (jobs, j[0]);
    assert_ptr_equal (jobs_next_queued (jobs), j[1]);
    jobs_release (jobs, j[1]);
    assert_ptr_equal (jobs_next_queued (jobs), j[3]);
    assert_null (jobs_next_queued (jobs));
    jobs_destroy (&jobs);
}

static void
test_jobs_wait_holds_no_slot_and_comes_back_when_due (void **state)
{
    (void)state;
    jobs_t *jobs = jobs_new (4, 1);
    job_t *a = s_take (jobs), *b = s_take (jobs), *c = s_take (jobs);
    assert_int_equal (jobs_claim_slot (jobs, a), 0);
    int slot = a->slot;
    jobs_wait (jobs, a, 1000);
    assert_int_equal (a->state, JOB_WAIT);
    assert_int_equal (a->slot, -1);
    assert_null (jobs_slot_holder (jobs, slot)); /* the wait gave its connection back */
    assert_int_equal (jobs_claim_slot (jobs, b), 0);
    jobs_wait (jobs, c, 2000);

    int count;
    int64_t next;
    jobs_take_due (jobs, 999, &count, &next);
    assert_int_equal (count, 0);
    assert_int_equal (next, 1000);

    job_t **due = jobs_take_due (jobs, 1500, &count, &next);
    assert_int_equal (count, 1);
    assert_ptr_equal (due[0], a);
    assert_int_equal (a->state, JOB_HTTP);
    assert_int_equal (next, 2000);
    /* Due again but every slot held: it queues. */
    assert_int_equal (jobs_claim_slot (jobs, a), -1);

    due = jobs_take_due (jobs, 5000, &count, &next);
    assert_int_equal (count, 1);
    assert_ptr_equal (due[0], c);
    assert_int_equal (next, INT64_MAX);
    jobs_take_due (jobs, 9000, &count, &next);
    assert_int_equal (count, 0);
    jobs_destroy (&jobs);
}

static void
test_jobs_release_idle_frees_waits_and_queue_not_requests (void **state)
{
    (void)state;
    jobs_t *jobs = jobs_new (4, 1);
    job_t *inflight = s_take (jobs), *queued = s_take (jobs), *waiting = s_take (jobs);
    assert_int_equal (jobs_claim_slot (jobs, inflight), 0);
    assert_int_equal (jobs_claim_slot (jobs, queued), -1);
    jobs_wait (jobs, waiting, 100);
    assert_int_equal (jobs_busy (jobs), 3);

    jobs_release_idle (jobs);
    assert_int_equal (jobs_busy (jobs), 1);
    assert_int_equal (inflight->state, JOB_HTTP);
    assert_int_equal (queued->state, JOB_FREE);
    assert_int_equal (waiting->state, JOB_FREE);
    assert_null (queued->delivery.body);
    assert_int_equal (jobs_queued (jobs), 0);
    int count;
    int64_t next;
    jobs_take_due (jobs, 1000, &count, &next);
    assert_int_equal (count, 0);

    /* The queue works as new afterwards. */
    job_t *later = s_take (jobs);
    assert_int_equal (jobs_claim_slot (jobs, later), -1);
    jobs_release (jobs, inflight);
    assert_ptr_equal (jobs_next_queued (jobs), later);
    jobs_destroy (&jobs);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_jobs_take_no_more_than_the_window),
        cmocka_unit_test (test_jobs_queue_for_slots_first_come_first_served),
        cmocka_unit_test (test_jobs_release_a_queued_job_keeps_the_others_order),
        cmocka_unit_test (test_jobs_wait_holds_no_slot_and_comes_back_when_due),
        cmocka_unit_test (test_jobs_release_idle_frees_waits_and_queue_not_requests),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
