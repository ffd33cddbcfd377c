/*
 * test_e2e_store_kill — the whole system with a durable store SIGKILLed in
 * the middle of a burst of POSTs and restarted on its data dir (issue 12):
 * every event that got 201 is there after the restart, is processed, and
 * has its one exact worker line (at least once: a notification re-read
 * after the restart may print twice, never differently). POSTs during the
 * outage get 503/504 and are not counted; one the store had written when
 * it died may still be processed, and its line must be well formed too.
 * Run under fsync always and everysec (a process kill loses nothing
 * written in either).
 */
#include "broker.h"
#include "stack.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_SIZE (STACK_ID_LEN + 1)
#define EVENTS 1500
#define KILL_AT 300 /* 201s before the kill */
#define RATE 500    /* POSTs a second: the burst outlives the outage */

static void
s_kill_store_mid_burst (e2e_stack_t *stack, const char *fsync)
{
    setenv ("HERALD_STORE_FSYNC", fsync, 1);
    stack_begin (stack);
    snprintf (stack->store_data_dir, sizeof stack->store_data_dir, "%s/run%d-data",
              harness_tmpdir (), stack->run);
    assert_int_equal (stack_start_all (stack), 0);
    char *ids = calloc (EVENTS, ID_SIZE);
    stack_burst_t *burst = stack_burst_start (stack, 0, EVENTS, RATE, ids);
    assert_non_null (burst);
    assert_true (stack_burst_wait (burst, KILL_AT, 30000) >= KILL_AT);
    assert_true (harness_alive (stack->store));
    harness_stop (stack->store, SIGKILL, 5000);
    harness_nap_ms (300); /* an outage under load: the gateway answers 503 */
    assert_int_equal (stack_start_store (stack, 0), 0);
    int posted = stack_burst_join (&burst);
    assert_true (posted > KILL_AT && posted < EVENTS); /* some were refused */

    assert_int_equal (stack_wait_ids_processed (stack, ids, EVENTS, 120000), 0);
    int dups = 0, extra = 0;
    assert_int_equal (stack_check_posted_lines (stack, ids, EVENTS, 1, &dups, &extra), 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    assert_true (harness_count_lines (stack_log_path (stack, "store"), "replayed in") >= 2);
    printf ("# fsync %s: %d of %d POSTs got 201 around the kill; all processed with their line "
            "(%d more lines of events stored whose 201 was lost, %d second lines)\n",
            fsync, posted, EVENTS, extra, dups);
    stack_end (stack);
    unsetenv ("HERALD_STORE_FSYNC");
    free (ids);
}

static void
test_store_killed_mid_burst_always_every_201_processed (void **state)
{
    s_kill_store_mid_burst (*state, "always");
}

static void
test_store_killed_mid_burst_everysec_every_201_processed (void **state)
{
    s_kill_store_mid_burst (*state, "everysec");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_store_killed_mid_burst_always_every_201_processed),
        cmocka_unit_test (test_store_killed_mid_burst_everysec_every_201_processed),
    };
    return cmocka_run_group_tests (tests, stack_group_setup, stack_group_teardown);
}
