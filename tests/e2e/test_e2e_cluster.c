/*
 * Herald on a 3-node RabbitMQ cluster (issue 16, first step): broker
 * failover and quorum queues, with the real binaries and a real cluster on
 * loopback (tests/rabbitmq-cluster.sh). The notifier and the workers are
 * given every node (--amqp-url URL,URL,URL, h1 first) and --queue-type
 * quorum; the tests' own broker connections go to h2, which no test kills.
 *
 * - The node that leads the quorum queue is killed with SIGKILL in the
 *   middle of a burst: every event that got 201 is processed (at least
 *   once), nothing is dead-lettered, and the notifier and both workers
 *   connect again to a surviving node. The time from the kill to the first
 *   notification processed after it is printed.
 * - A message its consumers keep dying on is dead-lettered by RabbitMQ once
 *   the delivery limit is spent, not before.
 * - A service that declares the queue with the other type than the one it
 *   exists with exits non-zero with one clear error, in both directions.
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
#define CLUSTER_NODES 3
#define CLUSTER_TEST_NODE 1 /* h2: the tests' own connections, never killed */

typedef struct {
    e2e_stack_t stack;
    harness_cluster_t cluster;
} cluster_fixture_t;

static int
s_group_setup (void **state)
{
    static cluster_fixture_t fixture;
    int64_t started = clock_mono_ms ();
    if (harness_cluster_start (&fixture.cluster, CLUSTER_NODES) != 0)
        return -1;
    fprintf (stderr, "cluster: %d nodes up and clustered in %lld ms\n", CLUSTER_NODES,
             (long long)(clock_mono_ms () - started));
    if (stack_init_on (&fixture.stack, &fixture.cluster.nodes[CLUSTER_TEST_NODE]) != 0) {
        harness_cluster_stop (&fixture.cluster);
        return -1;
    }
    fixture.stack.quorum = true;
    *state = &fixture;
    return 0;
}

static int
s_group_teardown (void **state)
{
    cluster_fixture_t *fixture = *state;
    if (!fixture)
        return 0; /* the setup failed and cleaned up after itself */
    stack_fini (&fixture->stack);
    harness_cluster_stop (&fixture->cluster);
    return 0;
}

/* Deletes both queues, so a test declares them afresh. */
static void
s_delete_queues (e2e_stack_t *stack)
{
    char out[512];
    harness_rabbitmqctl (&stack->rabbit, "delete_queue " BROKER_QUEUE, out, sizeof out);
    harness_rabbitmqctl (&stack->rabbit, "delete_queue " BROKER_DEAD_QUEUE, out, sizeof out);
}

/* Declares the queues from the test as a service would, of type quorum or
   classic. */
static void
s_declare (e2e_stack_t *stack, bool quorum)
{
    bool was = stack->quorum;
    stack->quorum = quorum;
    assert_true (stack_queue_depth (stack, BROKER_QUEUE) >= 0);
    stack->quorum = was;
}

/* --amqp-url with every node, --queue-type quorum and the delivery limit,
   for the notifier and the workers; extra ends the list (may be NULL). */
static void
s_service_args (cluster_fixture_t *fixture, const char *args[8], const char *extra)
{
    static char limit[16];
    snprintf (limit, sizeof limit, "%d",
              fixture->stack.delivery_limit ? fixture->stack.delivery_limit
                                            : BROKER_DELIVERY_LIMIT_DEFAULT);
    int n = 0;
    args[n++] = "--amqp-url";
    args[n++] = fixture->cluster.urls;
    args[n++] = "--queue-type";
    args[n++] = "quorum";
    args[n++] = "--delivery-limit";
    args[n++] = limit;
    args[n++] = extra;
    args[n] = NULL;
}

/* Whether a service's log says it is connected to a node other than h1. */
static bool
s_on_a_surviving_node (const char *line, void *arg)
{
    (void)arg;
    return strstr (line, "connected to RabbitMQ at") && !strstr (line, "(node 1 of 3)");
}

static void
test_leader_killed_mid_burst_loses_nothing (void **state)
{
    cluster_fixture_t *fixture = *state;
    e2e_stack_t *stack = &fixture->stack;
    enum { N = 1500, RATE = 300, WORKERS = 2 };
    char *ids = calloc (N, ID_SIZE);
    assert_non_null (ids);
    stack->delivery_limit = 0;
    stack_begin (stack);
    s_delete_queues (stack); /* after stack_begin, whose purge declares them */
    const char *args[8];
    s_service_args (fixture, args, NULL);
    assert_int_equal (stack_start_store (stack, 0), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    /* The notifier declares the queue first, on h1, its first node: the
       queue's leader is the declaring node (client-local placement). */
    assert_int_equal (stack_start_notifier_with (stack, args), 0);
    assert_int_equal (
        harness_wait_lines (stack_log_path (stack, "notifier"), "connected to RabbitMQ", 1, 15000),
        1);
    for (int i = 0; i < WORKERS; i++)
        assert_int_equal (stack_start_worker (stack, i, args), 0);
    int leader = stack_queue_leader (stack, BROKER_QUEUE);
    assert_int_equal (leader, 0);

    stack_burst_t *burst = stack_burst_start (stack, 0, N, RATE, ids);
    assert_non_null (burst);
    assert_true (stack_wait_processed (stack, 200, 30000) >= 200);
    assert_true (stack_burst_posted (burst) < N);
    int64_t killed_at = clock_mono_ms ();
    assert_int_equal (harness_cluster_kill (&fixture->cluster, leader), 0);
    int at_kill = stack_count_processed (stack);
    /* Publishing resumed: notifications processed beyond those at the kill
       (a few in flight may still land; 50 more need a live path). */
    assert_true (stack_wait_processed (stack, at_kill + 50, 60000) >= at_kill + 50);
    fprintf (stderr, "cluster: leader h%d killed; %d more processed %lld ms later\n", leader + 1,
             50, (long long)(clock_mono_ms () - killed_at));

    assert_int_equal (stack_burst_join (&burst), N);
    assert_int_equal (stack_wait_processed (stack, N, 120000), N);
    int dups = 0;
    assert_int_equal (stack_check_lines (stack, 0, N, ids, (1u << WORKERS) - 1, &dups, NULL), 0);
    fprintf (stderr, "cluster: %d events processed, %d duplicate lines (at least once)\n", N, dups);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    /* The queue has a new leader among the survivors. */
    int new_leader = stack_queue_leader (stack, BROKER_QUEUE);
    assert_true (new_leader >= 0 && new_leader != leader);
    /* Every service lost h1 and went on from another node. */
    assert_true (
        harness_find_line (stack_log_path (stack, "notifier"), s_on_a_surviving_node, NULL));
    for (int i = 0; i < WORKERS; i++) {
        char name[16];
        snprintf (name, sizeof name, "worker%d", i);
        assert_true (harness_find_line (stack_log_path (stack, name), s_on_a_surviving_node, NULL));
    }
    stack_end (stack);
    free (ids);
}

/* A consumer that dies holding the message returns it to the queue; a
   quorum queue counts those deliveries and dead-letters the message past
   the limit. The test's channel closing unacked stands for a worker that
   dies on the message. */
static void
test_poison_message_is_dead_lettered_after_the_delivery_limit (void **state)
{
    cluster_fixture_t *fixture = *state;
    e2e_stack_t *stack = &fixture->stack;
    enum { LIMIT = 3 };
    s_delete_queues (stack);
    stack->delivery_limit = LIMIT;
    s_declare (stack, true);
    assert_int_equal (stack_publish_notification (stack, "00000000-0000-4000-8000-00000000d1e5",
                                                  "u-poison", "never processed", "pending"),
                      0);
    /* The first delivery and LIMIT redeliveries: still in the queue. */
    for (int i = 0; i <= LIMIT; i++) {
        if (i > 0) /* the return is applied by the queue's Raft log: wait */
            assert_int_equal (stack_wait_depth (stack, BROKER_QUEUE, 1, 5000), 1);
        assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
        assert_int_equal (stack_requeue_one (stack, BROKER_QUEUE), 0);
    }
    /* One return past the limit: dead-lettered by the broker. */
    assert_int_equal (stack_wait_depth (stack, BROKER_DEAD_QUEUE, 1, 10000), 1);
    assert_int_equal (stack_queue_depth (stack, BROKER_QUEUE), 0);
    stack->delivery_limit = 0;
}

/* Runs the notifier (worker false) or a worker with --queue-type type
   against the cluster and returns its exit status (it must exit by
   itself within 20 s). */
static int
s_run_until_exit (cluster_fixture_t *fixture, bool worker, const char *type)
{
    e2e_stack_t *stack = &fixture->stack;
    const char *args[] = { "--amqp-url", fixture->cluster.urls, "--queue-type", type, NULL };
    pid_t pid;
    if (worker) {
        assert_int_equal (stack_start_worker (stack, 0, args), 0);
        pid = stack->workers[0];
        stack->workers[0] = 0;
    } else {
        assert_int_equal (stack_start_notifier_with (stack, args), 0);
        pid = stack->notifier;
        stack->notifier = 0;
    }
    return harness_stop (pid, 0, 20000);
}

/* The queues exist as the other type than asked (quorum when a worker is
   run, classic when the notifier is): the service must exit non-zero
   having logged one error, message. */
static void
s_conflict (cluster_fixture_t *fixture, bool worker, const char *asked, const char *message)
{
    e2e_stack_t *stack = &fixture->stack;
    stack_begin (stack);
    s_delete_queues (stack);
    s_declare (stack, worker);
    int status = s_run_until_exit (fixture, worker, asked);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) != 0);
    const char *log = stack_log_path (stack, worker ? "worker0" : "notifier");
    assert_int_equal (harness_count_lines (log, message), 1);
    assert_int_equal (harness_count_lines (log, "ERROR"), 1);
}

static void
test_declaring_the_other_type_is_one_clear_error_and_an_exit (void **state)
{
    cluster_fixture_t *fixture = *state;
    e2e_stack_t *stack = &fixture->stack;
    stack->delivery_limit = 0;

    s_conflict (fixture, false, "quorum",
                "queue " BROKER_QUEUE " exists as classic; this service "
                "declares it quorum (--queue-type quorum). Start every "
                "notifier and worker with --queue-type classic");
    s_conflict (fixture, true, "classic",
                "queue " BROKER_QUEUE " exists as quorum; this service "
                "declares it classic (--queue-type classic). Start "
                "every notifier and worker with --queue-type quorum");
    stack_end (stack);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_declaring_the_other_type_is_one_clear_error_and_an_exit),
        cmocka_unit_test (test_poison_message_is_dead_lettered_after_the_delivery_limit),
        cmocka_unit_test (test_leader_killed_mid_burst_loses_nothing),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
