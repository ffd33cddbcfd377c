/*
 * End-to-end delivery without faults (issue 4): the four real binaries and a
 * private RabbitMQ node, checked through HTTP, the workers' stdout and the
 * broker. One node serves every scenario; each scenario starts its own
 * services on fresh ports and empty queues.
 */
#include "amqp_raw.h"
#include "stack.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID_SIZE (STACK_ID_LEN + 1)

static void
test_broker_declares_topology_idempotently (void **state)
{
    e2e_stack_t *stack = *state;
    char err[256];
    assert_int_equal (broker_url_check (stack->rabbit.url, err, sizeof err), 0);
    assert_int_equal (broker_url_check ("http://nope", err, sizeof err), -1);
    /* Two sessions declare the same topology: the second must not fail. */
    for (int i = 0; i < 2; i++) {
        broker_t *broker = broker_new (stack->rabbit.url, 10);
        assert_non_null (broker);
        assert_int_equal (broker_connect (broker), 0);
        assert_int_equal (broker_declare_topology (broker_conn (broker), BROKER_CHANNEL,
                                                   broker_queue_args (broker)),
                          0);
        broker_disconnect (broker);
        broker_destroy (&broker);
    }
    assert_true (stack_queue_depth (stack, BROKER_QUEUE) >= 0);
    assert_true (stack_queue_depth (stack, BROKER_DEAD_QUEUE) >= 0);
    /* Nothing listens there: connect fails, fast, without crashing. */
    char url[128];
    snprintf (url, sizeof url, "amqp://guest:guest@127.0.0.1:%d/", harness_free_port ());
    broker_t *broker = broker_new (url, 10);
    assert_int_equal (broker_connect (broker), -1);
    assert_false (broker_connected (broker));
    broker_destroy (&broker);
}

/* --check (the compose health checks) sees the notifier and worker 0
   running and connected, and fails for worker 1, never started. */
static void
s_assert_checks_pass (e2e_stack_t *stack)
{
    assert_int_equal (stack_check_health (stack, "notifier"), 0);
    assert_int_equal (stack_check_health (stack, "worker0"), 0);
    assert_int_equal (stack_check_health (stack, "worker1"), -1);
}

static void
test_thousand_events_each_printed_once_and_processed (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 1000 };
    char *ids = calloc (N, ID_SIZE);
    stack_begin (stack);
    assert_int_equal (stack_start_all (stack), 0);
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    assert_int_equal (stack_wait_processed (stack, N, 60000), N);
    s_assert_checks_pass (stack);
    assert_true (stack_lines_exactly_once (stack, 0, N, ids, 1u));
    assert_int_equal (harness_count_lines (stack->worker_out[0], ""), N);
    char status[32];
    assert_int_equal (stack_get_status (stack, ids, status, sizeof status), 200);
    assert_string_equal (status, "processed");
    stack_end (stack);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    free (ids);
}

/* The store's live stream wakes an idle notifier: with the feed polled only
   every 4 s, events created a few hundred ms apart are still each processed
   long before the next poll (without the wake-up, all five would wait for a
   poll, and at most one poll can fall within the second after each). */
static void
test_idle_notifier_woken_by_announcements (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 5 };
    char ids[N * ID_SIZE];
    stack_begin (stack);
    assert_int_equal (stack_start_store (stack, 0), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    assert_int_equal (stack_start_worker (stack, 0, NULL), 0);
    const char *slow[] = { "--poll-ms", "4000", NULL };
    assert_int_equal (stack_start_notifier_with (stack, slow), 0);
    /* Connected and idle: one event goes through first. */
    assert_int_equal (stack_post_many (stack, 0, 1, ids), 1);
    assert_int_equal (stack_wait_processed (stack, 1, 30000), 1);
    for (int i = 1; i < N; i++) {
        usleep (300 * 1000);
        assert_int_equal (stack_post_many (stack, i, 1, ids + (size_t)i * ID_SIZE), 1);
        assert_int_equal (stack_wait_processed (stack, i + 1, 1000), i + 1);
    }
    assert_true (stack_lines_exactly_once (stack, 0, N, ids, 1u));
    stack_end (stack);
}

static void
test_notifier_started_late_delivers_backlog (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 500 };
    char *ids = calloc (N, ID_SIZE);
    stack_begin (stack);
    assert_int_equal (stack_start_store (stack, 0), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    assert_int_equal (stack_start_worker (stack, 0, NULL), 0);
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    assert_int_equal (stack_count_processed (stack), 0);
    assert_int_equal (stack_start_notifier (stack), 0);
    assert_int_equal (stack_wait_processed (stack, N, 60000), N);
    s_assert_checks_pass (stack);
    int dups = 0;
    assert_int_equal (stack_check_lines (stack, 0, N, ids, 1u, &dups, NULL), 0);
    stack_end (stack);
    free (ids);
}

static void
test_two_workers_share_work_without_duplicates (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 1000 };
    char *ids = calloc (N, ID_SIZE);
    stack_begin (stack);
    assert_int_equal (stack_start_all (stack), 0);
    assert_int_equal (stack_start_worker (stack, 1, NULL), 0);
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    assert_int_equal (stack_wait_processed (stack, N, 60000), N);
    int dups = 0, per_worker[STACK_WORKERS_MAX];
    assert_int_equal (stack_check_lines (stack, 0, N, ids, 3u, &dups, per_worker), 0);
    assert_int_equal (dups, 0);
    assert_int_equal (per_worker[0] + per_worker[1], N);
    assert_true (per_worker[0] > 0);
    assert_true (per_worker[1] > 0);
    stack_end (stack);
    free (ids);
}

static void
test_poison_message_is_dead_lettered_and_worker_goes_on (void **state)
{
    e2e_stack_t *stack = *state;
    char ids[2 * ID_SIZE];
    stack_begin (stack);
    assert_int_equal (stack_start_all_delivering (stack, ids), 0);
    static const char poison[] = "\xc1 this is not MessagePack";
    assert_int_equal (stack_publish_raw (stack, BROKER_QUEUE, poison, sizeof poison - 1), 0);
    assert_int_equal (stack_wait_depth (stack, BROKER_DEAD_QUEUE, 1, 10000), 1);
    /* The worker is still there and still works. */
    assert_true (harness_alive (stack->workers[0]));
    assert_int_equal (stack_post_many (stack, 1, 1, ids + ID_SIZE), 1);
    assert_int_equal (stack_wait_processed (stack, 2, 30000), 2);
    assert_int_equal (harness_count_lines (stack->worker_out[0], "has been sent to"), 2);
    assert_int_equal (stack_queue_depth (stack, BROKER_QUEUE), 0);
    stack_end (stack);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_broker_declares_topology_idempotently),
        cmocka_unit_test (test_thousand_events_each_printed_once_and_processed),
        cmocka_unit_test (test_idle_notifier_woken_by_announcements),
        cmocka_unit_test (test_notifier_started_late_delivers_backlog),
        cmocka_unit_test (test_two_workers_share_work_without_duplicates),
        cmocka_unit_test (test_poison_message_is_dead_lettered_and_worker_goes_on),
    };
    return cmocka_run_group_tests (tests, stack_group_setup, stack_group_teardown);
}
