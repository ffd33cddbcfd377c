/*
 * End-to-end delivery under faults (issue 4, docs/ARCHITECTURE.md §4): the
 * notifier killed with SIGKILL mid-burst, RabbitMQ stopped and restarted
 * mid-burst, the gateway down while messages arrive, and the store's feed
 * bound reached while the notifier is away. In every case: every event ends
 * processed.
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
#include <sys/wait.h>

#define ID_SIZE (STACK_ID_LEN + 1)

/* Every posted event has its line (duplicates allowed: at least once). */
static void
s_assert_all_delivered (e2e_stack_t *stack, int n, const char *ids, unsigned workers)
{
    assert_int_equal (stack_wait_processed (stack, n, 90000), n);
    int dups = 0;
    assert_int_equal (stack_check_lines (stack, 0, n, ids, workers, &dups, NULL), 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
}

static void
test_notifier_killed_mid_burst_loses_nothing (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 2000, RATE = 1000 };
    char *ids = calloc (N, ID_SIZE);
    stack_begin (stack);
    assert_int_equal (stack_start_all (stack), 0);
    stack_burst_t *burst = stack_burst_start (stack, 0, N, RATE, ids);
    assert_non_null (burst);
    /* Kill it while it is relaying and the burst is still going. */
    assert_true (stack_wait_processed (stack, 200, 30000) >= 200);
    int status = harness_stop (stack->notifier, SIGKILL, 5000);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    stack->notifier = 0;
    int at_kill = stack_burst_posted (burst);
    assert_true (at_kill < N);
    /* Events keep being created while no notifier runs. */
    assert_true (stack_burst_wait (burst, at_kill + 300 < N ? at_kill + 300 : N, 30000)
                 >= (at_kill + 300 < N ? at_kill + 300 : N));
    assert_int_equal (stack_start_notifier (stack), 0);
    assert_int_equal (stack_burst_join (&burst), N);
    s_assert_all_delivered (stack, N, ids, 1u);
    stack_end (stack);
    free (ids);
}

/* Stops the broker with FAULT in the middle of a burst, restarts it, and
   checks that every event of the burst is processed once. */
static void
s_rabbitmq_fault_mid_burst (e2e_stack_t *stack, int (*fault) (harness_rabbit_t *))
{
    enum { N = 1500, RATE = 300 };
    char *ids = calloc (N, ID_SIZE);
    assert_non_null (ids);
    stack_begin (stack);
    assert_int_equal (stack_start_all (stack), 0);
    stack_burst_t *burst = stack_burst_start (stack, 0, N, RATE, ids);
    assert_non_null (burst);
    assert_true (stack_wait_processed (stack, 100, 30000) >= 100);
    assert_true (stack_burst_posted (burst) < N);
    assert_int_equal (fault (&stack->rabbit), 0);
    /* While the broker is down the store keeps the tail. */
    int during = stack_burst_posted (burst);
    assert_int_equal (harness_rabbit_restart (&stack->rabbit), 0);
    assert_true (stack_burst_posted (burst) > during);
    assert_int_equal (stack_burst_join (&burst), N);
    assert_true (harness_alive (stack->notifier));
    assert_true (harness_alive (stack->workers[0]));
    s_assert_all_delivered (stack, N, ids, 1u);
    stack_end (stack);
    free (ids);
}

static void
test_rabbitmq_restart_mid_burst_loses_nothing (void **state)
{
    s_rabbitmq_fault_mid_burst (*state, harness_rabbit_stop);
}

/* The crash variant: with SIGKILL nothing is flushed, so only what the
   broker confirmed survives; the notifier's cursor must not have moved past
   anything else. */
static void
test_rabbitmq_killed_mid_burst_loses_nothing (void **state)
{
    s_rabbitmq_fault_mid_burst (*state, harness_rabbit_kill);
}

static void
test_gateway_down_messages_retried_then_processed (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 50 };
    char *ids = calloc (N, ID_SIZE);
    stack_begin (stack);
    /* The worker talks to a second gateway that is down while messages
       arrive; the tests create events through the first one. */
    stack_use_gateway2 (stack);
    assert_int_equal (stack_start_all (stack), 0);
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    /* The worker has failed at least once before the gateway comes up. */
    char log[600];
    snprintf (log, sizeof log, "%s/run%d-worker0.log", harness_tmpdir (), stack->run);
    assert_true (harness_wait_lines (log, "retrying in", 1, 30000) >= 1);
    assert_int_equal (stack_count_processed (stack), 0);
    assert_int_equal (stack_start_gateway2 (stack), 0);
    s_assert_all_delivered (stack, N, ids, 1u);
    int dups = 0;
    stack_check_lines (stack, 0, N, ids, 1u, &dups, NULL);
    assert_int_equal (dups, 0); /* the retry did not print again */
    stack_end (stack);
    free (ids);
}

static void
test_feed_bound_refuses_with_503_and_loses_nothing (void **state)
{
    e2e_stack_t *stack = *state;
    enum { FEED_MAX = 200, FIRST = 10, N = FIRST + FEED_MAX + 1 };
    char *ids = calloc (N, ID_SIZE);
    stack_begin (stack);
    assert_int_equal (stack_start_store (stack, FEED_MAX), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    assert_int_equal (stack_start_worker (stack, 0, NULL), 0);
    assert_int_equal (stack_start_notifier (stack), 0);
    assert_int_equal (stack_post_many (stack, 0, FIRST, ids), FIRST);
    assert_int_equal (stack_wait_processed (stack, FIRST, 30000), FIRST);
    /* Clean stop: its confirmed cursor is acked, the feed drains to empty. */
    assert_int_equal (harness_stop (stack->notifier, SIGTERM, 10000), 0);
    stack->notifier = 0;
    /* Fill the feed; it may still hold some of the FIRST updates to
       "processed" that were not confirmed before the stop. */
    int created = stack_post_many (stack, FIRST, FEED_MAX, ids + FIRST * ID_SIZE);
    assert_true (created >= FEED_MAX - FIRST && created <= FEED_MAX);
    char extra[ID_SIZE];
    assert_int_equal (stack_post (stack, "u-over", "one too many", extra), 503);
    assert_int_equal (stack_start_notifier (stack), 0);
    s_assert_all_delivered (stack, FIRST + created, ids, 1u);
    /* Drained: writes are accepted again and delivered too. */
    int more =
        stack_post_many (stack, FIRST + created, 1, ids + (size_t)(FIRST + created) * ID_SIZE);
    assert_int_equal (more, 1);
    s_assert_all_delivered (stack, FIRST + created + 1, ids, 1u);
    stack_end (stack);
    free (ids);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_notifier_killed_mid_burst_loses_nothing),
        cmocka_unit_test (test_rabbitmq_restart_mid_burst_loses_nothing),
        cmocka_unit_test (test_rabbitmq_killed_mid_burst_loses_nothing),
        cmocka_unit_test (test_gateway_down_messages_retried_then_processed),
        cmocka_unit_test (test_feed_bound_refuses_with_503_and_loses_nothing),
    };
    return cmocka_run_group_tests (tests, stack_group_setup, stack_group_teardown);
}
