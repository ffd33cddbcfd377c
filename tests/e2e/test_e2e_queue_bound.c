/*
 * End-to-end checks of the bound on herald.notifications (issue 14,
 * containment; docs/ARCHITECTURE.md §4.7), on the real binaries and a
 * private RabbitMQ node:
 *   - RabbitMQ 3.10 itself: a classic queue with x-max-length and
 *     x-overflow reject-publish nacks a confirmed publish when full (what
 *     the notifier relies on), and returns nothing.
 *   - no worker: the queue fills to its bound, the notifier holds the
 *     feed, the feed fills and the API answers 503; --check names the full
 *     queue. A worker starts: everything drains, every event that got 201
 *     is printed exactly once, and new POSTs get 201 again.
 *   - a queue that exists without the bound: the notifier logs what to do
 *     and retries, never crashes; deleting the queue lets it go on.
 * Each scenario deletes the queue first so it is declared with its bound.
 */
#include "amqp_raw.h"
#include "broker.h"
#include "clock.h"
#include "publisher.h"
#include "stack.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_SIZE (STACK_ID_LEN + 1)
#define QUEUE_MAX 20
#define QUEUE_MAX_TEXT "20"
#define FEED_MAX 10
#define POST_ATTEMPTS_MAX 2000 /* POSTs tried while filling queue and feed */
#define EVENTS_MAX 200

/* Deletes herald.notifications (whatever its arguments), so the next
   declare makes it afresh. */
static void
s_delete_queue (e2e_stack_t *stack)
{
    char out[512];
    assert_int_equal (
        harness_rabbitmqctl (&stack->rabbit, "delete_queue " BROKER_QUEUE, out, sizeof out), 0);
}

/* A connection that declared the topology with queue_max. */
static broker_t *
s_connect (e2e_stack_t *stack, long queue_max)
{
    broker_t *broker = broker_new (stack->rabbit.url, 10);
    assert_non_null (broker);
    broker_set_queue_max (broker, queue_max);
    assert_int_equal (broker_connect (broker), 0);
    return broker;
}

static const char *const s_bounded[] = { "--queue-max", QUEUE_MAX_TEXT, NULL };

static void
test_full_bounded_queue_nacks_a_confirmed_publish (void **state)
{
    e2e_stack_t *stack = *state;
    stack_begin (stack);
    s_delete_queue (stack);
    broker_t *broker = s_connect (stack, 2);
    publisher_t *publisher = publisher_new (broker, "test");
    assert_non_null (publisher);
    assert_int_equal (publisher_start (publisher), 0);
    const char *why = NULL;
    for (int i = 0; i < 3; i++) {
        publisher_message_t msg = { .routing_key = BROKER_CREATED_KEY,
                                    .body = "x",
                                    .len = 1,
                                    .message_id = "m",
                                    .mandatory = true };
        assert_int_equal (publisher_publish (publisher, &msg, &why), i + 1);
    }
    /* One state per tag: 0 unconfirmed, else the event kind. */
    int kinds[4] = { 0 }, settled = 0, returned = 0;
    int64_t until = clock_mono_ms () + 10000;
    while (settled < 3 && clock_mono_ms () < until) {
        publisher_event_t ev;
        int rc = publisher_poll (publisher, &ev, &why);
        assert_true (rc >= 0);
        if (rc == 0) {
            harness_nap_ms (10);
            continue;
        }
        if (ev.kind == PUBLISHER_RETURNED) {
            returned++;
            continue;
        }
        for (uint64_t t = ev.multiple ? 1 : ev.tag; t <= ev.tag; t++)
            if (!kinds[t]) {
                kinds[t] = (int)ev.kind;
                settled++;
            }
    }
    assert_int_equal (settled, 3);
    assert_int_equal (kinds[1], PUBLISHER_ACK);
    assert_int_equal (kinds[2], PUBLISHER_ACK);
    assert_int_equal (kinds[3], PUBLISHER_NACK); /* refused, not dropped nor returned */
    assert_int_equal (returned, 0);
    broker_disconnect (broker);
    publisher_destroy (&publisher);
    broker_destroy (&broker);
    assert_int_equal (stack_queue_messages (stack, BROKER_QUEUE), 2);
    s_delete_queue (stack);
    stack_end (stack);
}

static void
test_full_queue_turns_into_503_and_drains_when_a_worker_starts (void **state)
{
    e2e_stack_t *stack = *state;
    static char ids[EVENTS_MAX * ID_SIZE];
    stack_begin (stack);
    s_delete_queue (stack);
    assert_int_equal (stack_start_store (stack, FEED_MAX), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    const char *notifier_args[] = { "--queue-max", QUEUE_MAX_TEXT, "--stall-ms", "300", NULL };
    assert_int_equal (stack_start_notifier_with (stack, notifier_args), 0);

    /* POST (no worker) until the API refuses with the queue at its bound
       and the feed full: a 503 alone could be a feed the notifier has not
       caught up with yet, so go on until both are full. */
    int created = 0, refused = 0;
    stack_store_stats_t stats = { 0 };
    for (int attempt = 0; attempt < POST_ATTEMPTS_MAX && created < EVENTS_MAX; attempt++) {
        char user[32], desc[64];
        snprintf (user, sizeof user, "u-%d", created);
        snprintf (desc, sizeof desc, "order %d shipped", created);
        int status = stack_post (stack, user, desc, ids + (size_t)created * ID_SIZE);
        if (status == 201) {
            created++;
            continue;
        }
        assert_int_equal (status, 503);
        refused++;
        /* Full for good only once the notifier has acknowledged all the
           queue took: until then an ack on its way frees the feed. */
        if (stack_queue_messages (stack, BROKER_QUEUE) == QUEUE_MAX
            && stack_store_stats (stack, &stats) == 0 && stats.feed_len >= FEED_MAX
            && stats.acked == QUEUE_MAX)
            break;
        harness_nap_ms (100);
    }
    assert_true (refused > 0);
    assert_int_equal (stack_queue_messages (stack, BROKER_QUEUE), QUEUE_MAX);
    assert_int_equal (stats.feed_len, FEED_MAX);
    assert_int_equal (stats.acked, QUEUE_MAX);
    /* The queue took QUEUE_MAX, the feed holds the rest: nothing was lost
       on the way, nothing went past the bound. */
    assert_int_equal (created, QUEUE_MAX + FEED_MAX);
    char spare[ID_SIZE];
    assert_int_equal (stack_post (stack, "u-x", "refused", spare), 503);

    /* The notifier is alive, said once why it holds the feed, and --check
       fails with the full queue named. */
    assert_true (harness_alive (stack->notifier));
    char log[600]; /* stack_log_path is a static buffer */
    snprintf (log, sizeof log, "%s", stack_log_path (stack, "notifier"));
    assert_int_equal (harness_count_lines (log, "RabbitMQ refused a publish (basic.nack)"), 1);
    int64_t until = clock_mono_ms () + 20000;
    while (stack_check_health (stack, "notifier") == 0 && clock_mono_ms () < until)
        harness_nap_ms (200);
    assert_int_equal (stack_check_health (stack, "notifier"), -1);
    char path[600];
    snprintf (path, sizeof path, "%s/run%d-notifier.health", harness_tmpdir (), stack->run);
    assert_true (harness_count_lines (path, BROKER_QUEUE " is full") >= 1);

    /* A worker: everything drains, each event printed exactly once. */
    assert_int_equal (stack_start_worker (stack, 0, s_bounded), 0);
    assert_int_equal (stack_wait_processed (stack, created, 60000), created);
    assert_true (harness_wait_lines (log, "takes publishes again", 1, 30000) >= 1);
    /* New events go through again. */
    for (int i = 0; i < 5; i++) {
        char user[32], desc[64];
        snprintf (user, sizeof user, "u-%d", created);
        snprintf (desc, sizeof desc, "order %d shipped", created);
        assert_int_equal (stack_post (stack, user, desc, ids + (size_t)created * ID_SIZE), 201);
        created++;
    }
    assert_int_equal (stack_wait_processed (stack, created, 60000), created);
    assert_int_equal (stack_wait_store_settled (stack, (uint64_t)created, 30000, &stats), 0);
    assert_true (stack_lines_exactly_once (stack, 0, created, ids, 1u));
    assert_int_equal (stack_queue_messages (stack, BROKER_QUEUE), 0);
    /* The worker's `processed` found room in the feed the creates had
       filled (updates' headroom, store/feed.h): not one attempt refused. */
    char worker_log[600];
    snprintf (worker_log, sizeof worker_log, "%s", stack_log_path (stack, "worker0"));
    assert_int_equal (harness_count_lines (worker_log, "failed ("), 0);
    until = clock_mono_ms () + 20000;
    while (stack_check_health (stack, "notifier") != 0 && clock_mono_ms () < until)
        harness_nap_ms (200);
    assert_int_equal (stack_check_health (stack, "notifier"), 0);
    stack_end (stack);
    s_delete_queue (stack);
}

static void
test_queue_without_the_bound_is_a_clear_error_and_a_retry (void **state)
{
    e2e_stack_t *stack = *state;
    char ids[2 * ID_SIZE];
    stack_begin (stack);
    s_delete_queue (stack);
    /* What an older Herald left behind: the queue without x-max-length. */
    broker_t *old = s_connect (stack, 0);
    broker_disconnect (old);
    broker_destroy (&old);

    assert_int_equal (stack_start_store (stack, 0), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    assert_int_equal (stack_start_notifier_with (stack, s_bounded), 0);
    char log[600]; /* stack_log_path is a static buffer */
    snprintf (log, sizeof log, "%s", stack_log_path (stack, "notifier"));
    /* Logged with what to do, and tried again: the process stays up. */
    assert_true (harness_wait_lines (log, "exists with other arguments", 2, 30000) >= 2);
    assert_true (harness_count_lines (log, "rabbitmqctl delete_queue " BROKER_QUEUE) >= 2);
    assert_true (harness_count_lines (log, "--queue-max 0") >= 2);
    assert_true (harness_alive (stack->notifier));
    /* The worker declares the same queue: the same error, the same retry. */
    assert_int_equal (stack_start_worker (stack, 0, s_bounded), 0);
    char worker_log[600];
    snprintf (worker_log, sizeof worker_log, "%s", stack_log_path (stack, "worker0"));
    assert_true (harness_wait_lines (worker_log, "exists with other arguments", 2, 30000) >= 2);
    assert_true (harness_alive (stack->workers[0]));
    assert_int_equal (stack_post_many (stack, 0, 1, ids), 1);

    /* The operator deletes the empty queue: the next declare makes it with
       the bound, and the event is delivered. */
    s_delete_queue (stack);
    assert_int_equal (stack_wait_processed (stack, 1, 60000), 1);
    assert_true (stack_lines_exactly_once (stack, 0, 1, ids, 1u));
    stack_end (stack);
    s_delete_queue (stack);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_full_bounded_queue_nacks_a_confirmed_publish),
        cmocka_unit_test (test_full_queue_turns_into_503_and_drains_when_a_worker_starts),
        cmocka_unit_test (test_queue_without_the_bound_is_a_clear_error_and_a_retry),
    };
    return cmocka_run_group_tests (tests, stack_group_setup, stack_group_teardown);
}
