/*
 * End-to-end: the notifier survives a store that restarts empty (issue 12,
 * docs/ARCHITECTURE.md §4.5), and `herald-notifier --check` tells the truth
 * about a relay that makes no progress.
 *
 * An in-memory store SIGKILLed and started again on the same ports is a
 * new store: a new store_id, sequence numbers from 1, cursor 0. The
 * notifier's read position and confirmed cursor belong to the old one; kept,
 * they made it skip the new store's first changes (and acknowledge past
 * them), or, at or beyond the new store's --feed-max, read nothing while the
 * feed filled and every write got 503 for ever. Each scenario below fails
 * that way without the notifier's reset (notifier/relay.c). A durable store
 * restarted on its data dir is the same store, and the notifier keeps its
 * position.
 */
#include "broker.h"
#include "fake_store.h"
#include "scrape.h"
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
#include <time.h>

#define ID_SIZE (STACK_ID_LEN + 1)
#define RESET_LOG "starting over from the store's cursor" /* notifier's WARN */

/* POSTs event number (as stack_post_many does), retrying a 503 (store not
   reconnected yet, or feed full while the notifier drains it) for up to
   timeout_ms. Returns the last HTTP status. */
static int
s_post_retry (e2e_stack_t *stack, int number, char *ids, int timeout_ms)
{
    char user[32], desc[64];
    snprintf (user, sizeof user, "u-%d", number);
    snprintf (desc, sizeof desc, "order %d shipped", number);
    int64_t until = clock_mono_ms () + timeout_ms;
    for (;;) {
        int code = stack_post (stack, user, desc, ids + (size_t)number * ID_SIZE);
        if (code == 201 || clock_mono_ms () >= until)
            return code;
        harness_nap_ms (50);
    }
}

/* Events from..to-1 posted with s_post_retry; returns how many got 201. */
static int
s_post_range (e2e_stack_t *stack, int from, int to, char *ids, int timeout_ms)
{
    int created = 0;
    for (int i = from; i < to; i++)
        created += s_post_retry (stack, i, ids, timeout_ms) == 201;
    return created;
}

/* The first n events posted (s_post_range), processed and relayed: the
   store's feed settled at 2n changes (n creates, n updates); *stats is its
   last view. */
static void
s_post_first_relayed (e2e_stack_t *stack, int n, char *ids, stack_store_stats_t *stats)
{
    assert_int_equal (s_post_range (stack, 0, n, ids, 10000), n);
    assert_int_equal (stack_wait_processed (stack, n, 30000), n);
    assert_int_equal (stack_wait_store_settled (stack, 2 * n, 30000, stats), 0);
}

/* SIGKILLs the store and starts a new one (in memory: empty) on the same
   ports. Returns the new store's id. */
static void
s_restart_store (e2e_stack_t *stack, long feed_max, char old_id[ID_SIZE], char new_id[ID_SIZE])
{
    stack_store_stats_t stats;
    assert_int_equal (stack_store_stats (stack, &stats), 0);
    snprintf (old_id, ID_SIZE, "%s", stats.store_id);
    int status = harness_stop (stack->store, SIGKILL, 5000);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    stack->store = 0;
    assert_int_equal (stack_start_store (stack, feed_max), 0);
    assert_int_equal (stack_store_stats (stack, &stats), 0);
    snprintf (new_id, ID_SIZE, "%s", stats.store_id);
    assert_int_equal (strlen (new_id), STACK_ID_LEN);
    assert_string_not_equal (old_id, new_id);
    assert_int_equal (stats.head, 0);
}

/* Every one of the n events has exactly its line (at least once). */
static void
s_assert_lines (e2e_stack_t *stack, int n, const char *ids)
{
    int dups = 0;
    assert_int_equal (stack_check_lines (stack, 0, n, ids, 1u, &dups, NULL), 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
}

static void
test_in_memory_store_restart_skips_no_change (void **state)
{
    e2e_stack_t *stack = *state;
    enum { BEFORE = 5, AFTER = 6, N = BEFORE + AFTER };
    char *ids = calloc (N, ID_SIZE);
    stack_store_stats_t stats;
    stack_begin (stack);
    assert_int_equal (stack_start_all (stack), 0);
    /* 5 creates and 5 updates relayed: the notifier's position is 10. */
    s_post_first_relayed (stack, BEFORE, ids, &stats);

    char old_id[ID_SIZE], new_id[ID_SIZE];
    s_restart_store (stack, 0, old_id, new_id);
    assert_int_equal (s_post_range (stack, BEFORE, N, ids, 10000), AFTER);
    /* Every new event published and processed: none skipped. */
    assert_int_equal (stack_wait_processed (stack, AFTER, 30000), AFTER);
    s_assert_lines (stack, N, ids);
    /* The new store's cursor reached its head by acknowledging what was
       relayed, not by skipping: 6 creates, 6 updates. */
    assert_int_equal (stack_wait_store_settled (stack, 2 * AFTER, 30000, &stats), 0);
    assert_int_equal (stats.head, 2 * AFTER);
    assert_string_equal (stats.store_id, new_id);
    /* The notifier said what happened, naming both stores. */
    const char *log = stack_log_path (stack, "notifier");
    assert_int_equal (harness_count_lines (log, RESET_LOG), 1);
    assert_true (harness_count_lines (log, old_id) >= 1 && harness_count_lines (log, new_id) >= 1);
    assert_true (harness_alive (stack->notifier));
    assert_int_equal (stack_check_health (stack, "notifier"), 0);
    stack_end (stack);
    free (ids);
}

/* A durable store SIGKILLed and restarted on its data dir is the same
   store: same store_id, same history. The notifier keeps its position (no
   start-over, nothing published again that was confirmed) and relays what
   comes next. */
static void
test_durable_store_restart_keeps_identity_and_position (void **state)
{
    e2e_stack_t *stack = *state;
    enum { BEFORE = 5, AFTER = 6, N = BEFORE + AFTER };
    char *ids = calloc (N, ID_SIZE);
    stack_store_stats_t stats;
    stack_begin (stack);
    snprintf (stack->store_data_dir, sizeof stack->store_data_dir, "%s/run%d-data",
              harness_tmpdir (), stack->run);
    assert_int_equal (stack_start_all (stack), 0);
    s_post_first_relayed (stack, BEFORE, ids, &stats);
    char old_id[ID_SIZE];
    snprintf (old_id, sizeof old_id, "%s", stats.store_id);

    int status = harness_stop (stack->store, SIGKILL, 5000);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    stack->store = 0;
    assert_int_equal (stack_start_store (stack, 0), 0);
    assert_int_equal (stack_store_stats (stack, &stats), 0);
    assert_string_equal (stats.store_id, old_id);
    assert_int_equal (stats.head, 2 * BEFORE);
    assert_int_equal (stats.acked, 2 * BEFORE);

    assert_int_equal (s_post_range (stack, BEFORE, N, ids, 10000), AFTER);
    assert_int_equal (stack_wait_processed (stack, N, 30000), N);
    assert_true (stack_lines_exactly_once (stack, 0, N, ids, 1u));
    assert_int_equal (stack_wait_store_settled (stack, 2 * N, 30000, &stats), 0);
    assert_int_equal (stats.head, 2 * N);
    assert_int_equal (harness_count_lines (stack_log_path (stack, "notifier"), RESET_LOG), 0);
    assert_int_equal (stack_check_health (stack, "notifier"), 0);
    stack_end (stack);
    free (ids);
}

static void
test_position_beyond_new_stores_feed_max_does_not_wedge_writes (void **state)
{
    e2e_stack_t *stack = *state;
    enum { FEED_MAX = 5, BEFORE = 8, AFTER = 8, N = BEFORE + AFTER };
    char *ids = calloc (N, ID_SIZE);
    stack_store_stats_t stats;
    stack_begin (stack);
    assert_int_equal (stack_start_store (stack, FEED_MAX), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    assert_int_equal (stack_start_notifier (stack), 0);
    assert_int_equal (stack_start_worker (stack, 0, NULL), 0);
    /* More changes than the feed holds, so the notifier's position (16)
       ends beyond what a new store's feed can ever hold unacknowledged. */
    s_post_first_relayed (stack, BEFORE, ids, &stats);

    char old_id[ID_SIZE], new_id[ID_SIZE];
    s_restart_store (stack, FEED_MAX, old_id, new_id);
    /* Writes keep succeeding (a 503 is retried while the feed drains, for
       at most 10 s each): the feed is being drained, not wedged. */
    assert_int_equal (s_post_range (stack, BEFORE, N, ids, 10000), AFTER);
    assert_int_equal (stack_wait_processed (stack, AFTER, 30000), AFTER);
    s_assert_lines (stack, N, ids);
    assert_int_equal (stack_wait_store_settled (stack, 2 * AFTER, 30000, &stats), 0);
    assert_int_equal (stats.feed_len, 0);
    assert_int_equal (harness_count_lines (stack_log_path (stack, "notifier"), RESET_LOG), 1);
    stack_end (stack);
    free (ids);
}

/* Runs `rabbitmqctl set_vm_memory_high_watermark <fraction>`. At 0 the
   memory alarm goes off at once and RabbitMQ blocks every publishing
   connection: the notifier stays connected to both sides, its publishes are
   never confirmed — a relay that is up but makes no progress. */
static int
s_memory_watermark (e2e_stack_t *stack, const char *fraction)
{
    char args[64], out[512];
    snprintf (args, sizeof args, "set_vm_memory_high_watermark %s", fraction);
    return harness_rabbitmqctl (&stack->rabbit, args, out, sizeof out);
}

static int
s_unblock_publishers (void **state)
{
    s_memory_watermark (*state, "0.4");
    return 0;
}

/* Polls `herald-notifier --check` until it returns want or timeout_ms
   passes; returns the milliseconds it took, or -1. */
static int
s_wait_health (e2e_stack_t *stack, int want, int timeout_ms)
{
    int64_t start = clock_mono_ms ();
    while (stack_check_health (stack, "notifier") != want) {
        if (clock_mono_ms () - start >= timeout_ms)
            return -1;
        harness_nap_ms (100);
    }
    return (int)(clock_mono_ms () - start);
}

static void
test_check_fails_when_the_relay_stalls_with_changes_pending (void **state)
{
    e2e_stack_t *stack = *state;
    enum { STALL_MS = 2000, FIRST = 3, MORE = 3, N = FIRST + MORE };
    char *ids = calloc (N, ID_SIZE);
    stack_store_stats_t stats;
    stack_begin (stack);
    const char *const args[] = { "--stall-ms", "2000", NULL };
    assert_int_equal (stack_start_all_with (stack, args), 0);
    s_post_first_relayed (stack, FIRST, ids, &stats);
    /* Idle, connected, nothing pending: green well past the stall bound. */
    assert_true (s_wait_health (stack, 0, 10000) >= 0);
    harness_nap_ms (2 * STALL_MS);
    assert_int_equal (stack_check_health (stack, "notifier"), 0);

    /* Up but stuck: changes pending, no confirm. --check fails after the
       bound — well before a stale health file (10 s) could make it fail,
       and the notifier never stops touching it while connected. */
    assert_int_equal (s_memory_watermark (stack, "0"), 0);
    assert_int_equal (s_post_range (stack, FIRST, N, ids, 10000), MORE);
    int took = s_wait_health (stack, -1, 8000);
    assert_true (took >= 0);
    assert_true (harness_alive (stack->notifier));
    assert_int_equal (stack_store_stats (stack, &stats), 0);
    assert_true (stats.feed_len >= MORE);
    /* RabbitMQ said it blocks the connection (connection.blocked): the
       stall names the alarm, and the connection is kept, not dropped. */
    const char *log = stack_log_path (stack, "notifier");
    assert_true (harness_count_lines (log, "no progress") >= 1);
    assert_true (harness_count_lines (log, "(RabbitMQ blocks publishes: a memory or disk alarm)")
                 >= 1);
    assert_int_equal (harness_count_lines (log, "dropping RabbitMQ connection"), 0);

    /* Unblocked: the changes are relayed and --check is green again. */
    assert_int_equal (s_memory_watermark (stack, "0.4"), 0);
    assert_int_equal (stack_wait_processed (stack, N, 30000), N);
    assert_true (s_wait_health (stack, 0, 10000) >= 0);
    assert_int_equal (harness_count_lines (log, "RabbitMQ unblocked this connection"), 1);
    s_assert_lines (stack, N, ids);
    stack_end (stack);
    free (ids);
}

/* RabbitMQ's alarm blocks the notifier's connection: it says so in its log
   and metrics, and a SIGTERM then ends it cleanly at once, without waiting
   for confirms or a close the blocked connection cannot answer (that wait
   was --drain-ms and two RPC timeouts, over 20 s). The feed keeps the
   changes for the next notifier. */
static void
test_a_blocked_notifier_says_so_and_stops_without_waiting (void **state)
{
    e2e_stack_t *stack = *state;
    enum { FIRST = 2, MORE = 3, N = FIRST + MORE };
    char *ids = calloc (N, ID_SIZE);
    stack_store_stats_t stats;
    stack_begin (stack);
    stack->metrics = true;
    assert_int_equal (stack_start_all (stack), 0);
    s_post_first_relayed (stack, FIRST, ids, &stats);

    assert_int_equal (s_memory_watermark (stack, "0"), 0);
    assert_int_equal (s_post_range (stack, FIRST, N, ids, 10000), MORE);
    const char *log = stack_log_path (stack, "notifier");
    assert_int_equal (harness_wait_lines (log, "RabbitMQ blocks this connection", 1, 10000), 1);
    scrape_t m = { 0 };
    assert_int_equal (scrape_metrics (stack_metrics_port (stack, "notifier"), &m), 0);
    assert_true (scrape_value (&m, "herald_notifier_broker_blocked") == 1);
    scrape_clear (&m);

    int status = harness_stop (stack->notifier, SIGTERM, 10000);
    stack->notifier = 0;
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    assert_int_equal (stack_store_stats (stack, &stats), 0);
    assert_true (stats.feed_len >= MORE);

    assert_int_equal (s_memory_watermark (stack, "0.4"), 0);
    assert_int_equal (stack_start_notifier (stack), 0);
    assert_int_equal (stack_wait_processed (stack, N, 30000), N);
    s_assert_lines (stack, N, ids);
    stack_end (stack);
    free (ids);
}

/* The race the fenced feed_ack closes: publishes made for the old store are
   confirmed only after the new store is up, and before the notifier has
   read from it (its window is full, so it does not read). Their ack would
   move the new store's cursor over changes nobody published. */
static void
test_confirms_for_the_old_store_never_move_the_new_stores_cursor (void **state)
{
    e2e_stack_t *stack = *state;
    enum { WINDOW = 2, FIRST = 2, AFTER = 8 };
    char *ids = calloc (FIRST + WINDOW + AFTER, ID_SIZE);
    stack_store_stats_t stats;
    stack_begin (stack);
    const char *const args[] = { "--window", "2", NULL };
    assert_int_equal (stack_start_all_with (stack, args), 0);
    s_post_first_relayed (stack, FIRST, ids, &stats);
    /* Two publishes (seqs 5, 6) held unconfirmed: the window is full. */
    assert_int_equal (s_memory_watermark (stack, "0"), 0);
    assert_int_equal (s_post_range (stack, FIRST, FIRST + WINDOW, ids, 10000), WINDOW);
    harness_nap_ms (500); /* the notifier reads and publishes them */

    char old_id[ID_SIZE], new_id[ID_SIZE];
    s_restart_store (stack, 0, old_id, new_id);
    /* The new store gets past seq 6 before the notifier can read it. */
    for (int i = FIRST + WINDOW; i < FIRST + WINDOW + AFTER; i++)
        assert_int_equal (s_post_retry (stack, i, ids, 10000), 201);
    assert_int_equal (stack_store_stats (stack, &stats), 0);
    assert_int_equal (stats.head, AFTER);
    /* Confirms for 5 and 6 arrive now, with the new store in place. */
    assert_int_equal (s_memory_watermark (stack, "0.4"), 0);
    /* Every change of the new store is relayed, none acknowledged unread. */
    assert_int_equal (stack_wait_processed (stack, AFTER, 30000), AFTER);
    for (int i = FIRST + WINDOW; i < FIRST + WINDOW + AFTER; i++)
        assert_int_equal (harness_count_lines (stack->worker_out[0], ids + (size_t)i * ID_SIZE), 1);
    assert_int_equal (stack_wait_store_settled (stack, 2 * AFTER, 30000, &stats), 0);
    assert_int_equal (harness_count_lines (stack_log_path (stack, "notifier"), RESET_LOG), 1);
    stack_end (stack);
    free (ids);
}

/* A store that answered a feed_ack and then lost it (restarted from its
   journal before recording it) shows, under the same identity, a cursor
   behind what the notifier acknowledged. The notifier acknowledges again;
   without that the changes stay in the feed — taking room, and failing
   --check as a stall — until some later change moves the cursor. */
static void
test_an_acknowledgement_the_store_lost_is_sent_again (void **state)
{
    e2e_stack_t *stack = *state;
    enum { HEAD = 3 };
    stack_begin (stack);
    fake_store_t *store = fake_store_new (stack->store_ep, HEAD, 1);
    assert_non_null (store);
    assert_int_equal (stack_start_notifier (stack), 0);
    int64_t until = clock_mono_ms () + 15000;
    while (fake_store_acked (store) < HEAD && clock_mono_ms () < until)
        harness_nap_ms (50);
    assert_int_equal (fake_store_acked (store), HEAD);
    assert_true (fake_store_acks_of_head (store) >= 2); /* the lost one, then again */
    assert_int_equal (harness_count_lines (stack_log_path (stack, "notifier"), RESET_LOG), 0);
    stack_end (stack);
    fake_store_destroy (&store);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_in_memory_store_restart_skips_no_change),
        cmocka_unit_test (test_durable_store_restart_keeps_identity_and_position),
        cmocka_unit_test (test_position_beyond_new_stores_feed_max_does_not_wedge_writes),
        cmocka_unit_test_teardown (test_check_fails_when_the_relay_stalls_with_changes_pending,
                                   s_unblock_publishers),
        cmocka_unit_test_teardown (test_confirms_for_the_old_store_never_move_the_new_stores_cursor,
                                   s_unblock_publishers),
        cmocka_unit_test (test_an_acknowledgement_the_store_lost_is_sent_again),
        cmocka_unit_test_teardown (test_a_blocked_notifier_says_so_and_stops_without_waiting,
                                   s_unblock_publishers),
    };
    return cmocka_run_group_tests (tests, stack_group_setup, stack_group_teardown);
}
