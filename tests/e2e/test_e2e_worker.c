/*
 * End-to-end checks of the worker's side of docs/ARCHITECTURE.md §4, each on
 * the real binaries and a private RabbitMQ node: the retry budget ends in the
 * dead-letter queue, a 404 is acked and logged (printed first, on a
 * redelivery as on a first delivery), a redelivered message whose event is
 * already processed is acked without printing, SIGTERM finishes the requests
 * in flight, and heartbeats keep flowing while an HTTP request hangs. "Acked"
 * is proven by stopping the worker afterwards: an unacked message would go
 * back to the queue.
 */
#include "broker.h"
#include "clock.h"
#include "scrape.h"
#include "stack.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ID_SIZE (STACK_ID_LEN + 1)

/* Stops worker i with SIGTERM and checks it exited 0. */
static void
s_stop_worker (e2e_stack_t *stack, int i)
{
    int status = harness_stop (stack->workers[i], SIGTERM, 15000);
    stack->workers[i] = 0;
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
}

/* Starts store, gateway, notifier; the worker is the caller's. */
static void
s_start_core (e2e_stack_t *stack)
{
    assert_int_equal (stack_start_store (stack, 0), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    assert_int_equal (stack_start_notifier (stack), 0);
}

static void
test_retry_budget_spent_then_dead_lettered (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 5, ATTEMPTS = 3 };
    char ids[N * ID_SIZE];
    stack_begin (stack);
    stack_use_gateway2 (stack); /* never started: every PUT fails to connect */
    s_start_core (stack);
    const char *extra[] = {
        "--max-attempts", "3", "--retry-initial-ms", "20", "--retry-max-ms", "50", NULL
    };
    assert_int_equal (stack_start_worker (stack, 0, extra), 0);
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    assert_int_equal (stack_wait_depth (stack, BROKER_DEAD_QUEUE, N, 30000), N);
    const char *log = stack_log_path (stack, "worker0");
    assert_int_equal (harness_count_lines (log, "giving up after 3 attempts"), N);
    assert_int_equal (harness_count_lines (log, "retrying in"), N * (ATTEMPTS - 1));
    /* Sent once each (the retries did not print again), none processed. */
    assert_true (stack_lines_exactly_once (stack, 0, N, ids, 1u));
    assert_int_equal (stack_count_processed (stack), 0);
    s_stop_worker (stack, 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_QUEUE), 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), N);
    stack_end (stack);
}

static void
test_event_gone_is_acked_and_logged (void **state)
{
    e2e_stack_t *stack = *state;
    stack_begin (stack);
    assert_int_equal (stack_start_all (stack), 0);
    static const char ghost[] = "0b6e1f4c-7a52-4d0e-9c1b-3f2a8d9e5b71";
    assert_int_equal (
        stack_publish_notification (stack, ghost, "u-ghost", "nobody home", "pending"), 0);
    const char *log = stack_log_path (stack, "worker0");
    assert_int_equal (harness_wait_lines (log, "not found", 1, 15000), 1);
    assert_int_equal (harness_count_lines (log, ghost), 1);
    /* The worker goes on. */
    char ids[ID_SIZE];
    assert_int_equal (stack_post_many (stack, 0, 1, ids), 1);
    assert_int_equal (stack_wait_processed (stack, 1, 30000), 1);
    s_stop_worker (stack, 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_QUEUE), 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    stack_end (stack);
}

/* What a client wrote can never forge a second notification line or reach
   the terminal raw: through the whole pipeline, a description holding a
   newline, a fake line and an escape sequence prints as one escaped line. */
static void
test_description_cannot_forge_a_second_line (void **state)
{
    e2e_stack_t *stack = *state;
    stack_begin (stack);
    assert_int_equal (stack_start_all (stack), 0);
    static const char forged[] = "first\nEvent 00000000-0000-4000-8000-000000000000 has been sent "
                                 "to victim: forged\r\x1b[2K\x1b[31mred";
    char id[ID_SIZE];
    assert_int_equal (stack_post (stack, "u-forge", forged, id), 201);
    assert_int_equal (stack_wait_processed (stack, 1, 30000), 1);
    s_stop_worker (stack, 0);
    FILE *out = fopen (stack->worker_out[0], "r");
    assert_non_null (out);
    char line[4096];
    int lines = 0, sent = 0;
    bool found = false;
    while (fgets (line, sizeof line, out)) {
        lines++;
        if (strstr (line, "has been sent"))
            sent++;
        assert_null (strchr (line, '\x1b'));
        assert_null (strchr (line, '\r'));
        if (strstr (line, id)
            && strstr (line, "u-forge: first\\nEvent 00000000-0000-4000-8000-000000000000 has been "
                             "sent to victim: forged\\r\\x1b[2K\\x1b[31mred\n"))
            found = true;
    }
    fclose (out);
    assert_true (found);
    assert_int_equal (lines, 1);
    assert_int_equal (sent, 1);
    stack_end (stack);
}

/* An event the store does not know (an in-memory store restarted since the
   notification was queued) is handled the same on a redelivery as on a first
   delivery: the line is printed, the 404 logged, counted and acked. Only a
   message that itself says "processed" is not printed: its line went out
   before. */
static void
test_event_gone_same_on_redelivery_as_first_delivery (void **state)
{
    e2e_stack_t *stack = *state;
    static const char first[] = "0b6e1f4c-7a52-4d0e-9c1b-3f2a8d9e5b72";
    static const char again[] = "0b6e1f4c-7a52-4d0e-9c1b-3f2a8d9e5b73";
    static const char done[] = "0b6e1f4c-7a52-4d0e-9c1b-3f2a8d9e5b74";
    stack_begin (stack);
    s_start_core (stack);
    /* `again` is delivered once and requeued unacked before any worker
       runs, so the worker gets it with redelivered set. */
    assert_int_equal (stack_publish_notification (stack, again, "u-again", "gone too", "pending"),
                      0);
    assert_int_equal (stack_requeue_one (stack, BROKER_QUEUE), 0);
    assert_int_equal (stack_publish_notification (stack, first, "u-first", "gone", "pending"), 0);
    assert_int_equal (stack_publish_notification (stack, done, "u-done", "gone, sent", "processed"),
                      0);
    assert_int_equal (stack_wait_depth (stack, BROKER_QUEUE, 3, 10000), 3);
    const char *debug[] = { "--log-level", "debug", NULL };
    assert_int_equal (stack_start_worker (stack, 0, debug), 0);
    const char *log = stack_log_path (stack, "worker0");
    assert_int_equal (harness_wait_lines (log, "not found at the gateway", 3, 15000), 3);
    s_stop_worker (stack, 0);

    /* Both pending messages printed once, redelivered or not; the one
       that says "processed" not at all. */
    const char *out = stack->worker_out[0];
    assert_int_equal (harness_count_lines (out, "Event 0b6e1f4c-7a52-4d0e-9c1b-3f2a8d9e5b72 has "
                                                "been sent to u-first: gone"),
                      1);
    assert_int_equal (harness_count_lines (out, "Event 0b6e1f4c-7a52-4d0e-9c1b-3f2a8d9e5b73 has "
                                                "been sent to u-again: gone too"),
                      1);
    assert_int_equal (harness_count_lines (out, done), 0);
    assert_int_equal (harness_count_lines (out, "has been sent to"), 2);
    const char *ids[] = { first, again, done };
    for (int i = 0; i < 3; i++) {
        char pattern[96];
        snprintf (pattern, sizeof pattern, "event %s not found at the gateway", ids[i]);
        assert_int_equal (harness_count_lines (log, pattern), 1);
    }
    /* The redelivery took the check path (GET), and then the same path as
       the first delivery. */
    assert_int_equal (harness_count_lines (log, "handling it as a first delivery"), 1);
    assert_int_equal (
        harness_count_lines (log, "stopped: 2 printed, 3 acked, 0 dead-lettered, 3 not found"), 1);
    assert_int_equal (stack_queue_depth (stack, BROKER_QUEUE), 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    stack_end (stack);
}

static void
test_redelivered_processed_event_acked_without_printing (void **state)
{
    e2e_stack_t *stack = *state;
    char ids[2 * ID_SIZE];
    stack_begin (stack);
    assert_int_equal (stack_start_all_delivering (stack, ids), 0);
    s_stop_worker (stack, 0);
    assert_int_equal (harness_count_lines (stack->worker_out[0], "has been sent to"), 1);

    /* The same notification again, delivered once and requeued unacked:
       the next worker sees it with redelivered set. */
    assert_int_equal (stack_publish_notification (stack, ids, "u-0", "order 0 shipped", "pending"),
                      0);
    assert_int_equal (stack_requeue_one (stack, BROKER_QUEUE), 0);
    assert_int_equal (stack_wait_depth (stack, BROKER_QUEUE, 1, 10000), 1);
    /* Control: a new event is printed by the same worker. */
    assert_int_equal (stack_post (stack, "u-1", "order 1 shipped", ids + ID_SIZE), 201);
    const char *debug[] = { "--log-level", "debug", NULL };
    assert_int_equal (stack_start_worker (stack, 1, debug), 0);
    assert_int_equal (stack_wait_processed (stack, 2, 30000), 2);
    assert_int_equal (
        harness_wait_lines (stack_log_path (stack, "worker1"), "already processed", 1, 15000), 1);
    s_stop_worker (stack, 1);
    assert_int_equal (harness_count_lines (stack->worker_out[1], ids), 0);
    assert_int_equal (harness_count_lines (stack->worker_out[1], ids + ID_SIZE), 1);
    assert_int_equal (stack_queue_depth (stack, BROKER_QUEUE), 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    stack_end (stack);
}

/* The notifier publishes again after a restart (not a broker redelivery):
   the record then carries the event as it is now, processed. */
static void
test_republished_processed_event_not_printed_again (void **state)
{
    e2e_stack_t *stack = *state;
    char ids[2 * ID_SIZE];
    stack_begin (stack);
    const char *debug[] = { "--log-level", "debug", NULL };
    s_start_core (stack);
    assert_int_equal (stack_start_worker (stack, 0, debug), 0);
    assert_int_equal (stack_post_many (stack, 0, 1, ids), 1);
    assert_int_equal (stack_wait_processed (stack, 1, 30000), 1);
    assert_int_equal (
        stack_publish_notification (stack, ids, "u-0", "order 0 shipped", "processed"), 0);
    assert_int_equal (
        harness_wait_lines (stack_log_path (stack, "worker0"), "already processed", 1, 15000), 1);
    /* A body that says processed is only a hint: the store decides. With
       the notifier away, a pending event announced as processed is still
       printed and processed. */
    assert_int_equal (harness_stop (stack->notifier, SIGTERM, 10000), 0);
    stack->notifier = 0;
    assert_int_equal (stack_post (stack, "u-1", "order 1 shipped", ids + ID_SIZE), 201);
    assert_int_equal (
        stack_publish_notification (stack, ids + ID_SIZE, "u-1", "order 1 shipped", "processed"),
        0);
    assert_int_equal (stack_wait_processed (stack, 2, 30000), 2);
    s_stop_worker (stack, 0);
    assert_int_equal (harness_count_lines (stack->worker_out[0], ids), 1);
    assert_int_equal (harness_count_lines (stack->worker_out[0], ids + ID_SIZE), 1);
    assert_int_equal (stack_queue_depth (stack, BROKER_QUEUE), 0);
    stack_end (stack);
}

static void
test_sigterm_finishes_requests_in_flight (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 1000 };
    char *ids = calloc (N, ID_SIZE);
    stack_begin (stack);
    s_start_core (stack);
    const char *extra[] = { "--prefetch", "64", NULL };
    assert_int_equal (stack_start_worker (stack, 0, extra), 0);
    stack_burst_t *burst = stack_burst_start (stack, 0, N, 0, ids);
    assert_non_null (burst);
    assert_true (harness_wait_lines (stack->worker_out[0], "has been sent to", 100, 30000) >= 100);
    s_stop_worker (stack, 0);
    assert_true (harness_count_lines (stack_log_path (stack, "worker0"), "stopping") >= 1);
    /* Every line the stopped worker printed is an event it marked processed. */
    FILE *out = fopen (stack->worker_out[0], "r");
    assert_non_null (out);
    char line[512];
    int printed = 0;
    while (fgets (line, sizeof line, out)) {
        char id[ID_SIZE], status[32] = "";
        assert_int_equal (sscanf (line, "Event %36s has been sent to", id), 1);
        assert_int_equal (stack_get_status (stack, id, status, sizeof status), 200);
        assert_string_equal (status, "processed");
        printed++;
    }
    fclose (out);
    assert_true (printed >= 100);
    /* What it had not started goes to the next worker: all done, once. */
    assert_int_equal (stack_start_worker (stack, 1, NULL), 0);
    assert_int_equal (stack_burst_join (&burst), N);
    assert_int_equal (stack_wait_processed (stack, N, 60000), N);
    assert_true (stack_lines_exactly_once (stack, 0, N, ids, 3u));
    stack_end (stack);
    free (ids);
}

/* More deliveries than HTTP connections: the rest wait their turn, and
   every event is processed once. */
static void
test_prefetch_beyond_http_connections_processes_everything (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 300 };
    char *ids = calloc (N, ID_SIZE);
    stack_begin (stack);
    s_start_core (stack);
    const char *extra[] = { "--prefetch", "64", "--http-connections", "2", NULL };
    assert_int_equal (stack_start_worker (stack, 0, extra), 0);
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    assert_int_equal (stack_wait_processed (stack, N, 60000), N);
    s_stop_worker (stack, 0);
    assert_true (stack_lines_exactly_once (stack, 0, N, ids, 1u));
    assert_int_equal (harness_count_lines (stack_log_path (stack, "worker0"), "retrying in"), 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_QUEUE), 0);
    stack_end (stack);
    free (ids);
}

/* A "gateway" that accepts connections (the kernel's backlog does) and
   never answers: every request hangs until the worker's timeout. */
static int
s_black_hole (int *port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    if (fd < 0 || bind (fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen (fd, 64) != 0
        || getsockname (fd, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    *port = ntohs (addr.sin_port);
    return fd;
}

static void
test_heartbeats_flow_while_http_hangs (void **state)
{
    e2e_stack_t *stack = *state;
    int port = 0;
    int hole = s_black_hole (&port);
    assert_true (hole >= 0);
    stack_begin (stack);
    snprintf (stack->worker_gateway_url, sizeof stack->worker_gateway_url, "http://127.0.0.1:%d",
              port);
    s_start_core (stack);
    /* Heartbeat 1 s: RabbitMQ drops a client silent for ~2 s. Each request
       hangs 4 s, twice, before the message is dead-lettered. */
    const char *extra[] = { "--heartbeat",
                            "1",
                            "--http-timeout-ms",
                            "4000",
                            "--max-attempts",
                            "2",
                            "--retry-initial-ms",
                            "10",
                            "--retry-max-ms",
                            "20",
                            NULL };
    assert_int_equal (stack_start_worker (stack, 0, extra), 0);
    char ids[ID_SIZE];
    assert_int_equal (stack_post_many (stack, 0, 1, ids), 1);
    assert_int_equal (stack_wait_depth (stack, BROKER_DEAD_QUEUE, 1, 30000), 1);
    const char *log = stack_log_path (stack, "worker0");
    assert_int_equal (harness_count_lines (log, "giving up after 2 attempts"), 1);
    assert_int_equal (harness_count_lines (log, "timed out"), 2);
    /* One connection all along: the broker never missed our heartbeats. */
    assert_int_equal (harness_count_lines (log, "dropping RabbitMQ connection"), 0);
    assert_int_equal (harness_count_lines (log, "connected to RabbitMQ"), 1);
    assert_true (harness_alive (stack->workers[0]));
    stack_end (stack);
    close (hole);
}

/* Connections the black hole accepted within ms, kept open in fds. */
static int
s_accept_for (int hole, int ms, int fds[], int max)
{
    int n = 0;
    for (int64_t end = clock_mono_ms () + ms; clock_mono_ms () < end;) {
        struct pollfd p = { .fd = hole, .events = POLLIN };
        if (poll (&p, 1, 50) == 1 && n < max) {
            int fd = accept (hole, NULL, NULL);
            if (fd >= 0)
                fds[n++] = fd;
        }
    }
    return n;
}

/* The worker holds every delivery its prefetch allows, but opens no more
   than --http-connections to the gateway, however long they hang. */
static void
test_http_connections_bound_the_requests_in_flight (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 10, CONNECTIONS = 3 };
    int port = 0;
    int hole = s_black_hole (&port);
    assert_true (hole >= 0);
    stack_begin (stack);
    snprintf (stack->worker_gateway_url, sizeof stack->worker_gateway_url, "http://127.0.0.1:%d",
              port);
    stack->metrics = true;
    s_start_core (stack);
    const char *extra[] = { "--prefetch", "16", "--http-connections", "3", "--http-timeout-ms",
                            "60000",      NULL };
    assert_int_equal (stack_start_worker (stack, 0, extra), 0);
    char ids[N * ID_SIZE];
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    /* All N published and delivered: N in the queue, none of them ready ... */
    long depth = -1, messages = -1;
    for (int64_t end = clock_mono_ms () + 30000; clock_mono_ms () < end; harness_nap_ms (100)) {
        depth = stack_queue_depth (stack, BROKER_QUEUE);
        messages = stack_queue_messages (stack, BROKER_QUEUE);
        if (depth == 0 && messages == N)
            break;
    }
    assert_int_equal (depth, 0);
    assert_int_equal (messages, N);
    /* ... and 3 connections, whatever time the others have to show up. */
    int fds[N];
    int accepted = s_accept_for (hole, 3000, fds, N);
    assert_int_equal (accepted, CONNECTIONS);
    assert_int_equal (harness_count_lines (stack->worker_out[0], "has been sent to"), CONNECTIONS);
    /* Its metrics say the same: N held, N - 3 of them waiting. */
    scrape_t m = { 0 };
    assert_int_equal (scrape_metrics (stack_metrics_port (stack, "worker0"), &m), 0);
    assert_true (scrape_value (&m, "herald_worker_inflight_deliveries") == N);
    assert_true (scrape_value (&m, "herald_worker_waiting_deliveries") == N - CONNECTIONS);
    scrape_clear (&m);
    /* Stopping: no new request starts, the hung ones fail once their
       connections close, and nothing was acked, so all N go back to the
       queue. (Closing them first would hand the freed connections to the
       jobs still waiting, whose requests the stop would then wait for.) */
    assert_int_equal (kill (stack->workers[0], SIGTERM), 0);
    assert_int_equal (
        harness_wait_lines (stack_log_path (stack, "worker0"), "stopping: finishing", 1, 10000), 1);
    for (int i = 0; i < accepted; i++)
        close (fds[i]);
    int status = harness_stop (stack->workers[0], SIGTERM, 15000);
    stack->workers[0] = 0;
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    assert_int_equal (stack_wait_depth (stack, BROKER_QUEUE, N, 10000), N);
    stack_end (stack);
    close (hole);
}

/* stdout refuses the lines (/dev/full: every write is ENOSPC): the worker
   marks nothing processed and acks nothing, stops with status 1, and the
   messages wait in the queue for a worker that can print them. Before, the
   failed write was only logged and the events were marked processed with
   their notification lost. */
static void
test_a_worker_whose_stdout_fails_acks_nothing_and_stops (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 3 };
    char ids[N * ID_SIZE];
    stack_begin (stack);
    s_start_core (stack);
    char out[sizeof stack->worker_out[0]];
    snprintf (out, sizeof out, "%s", stack->worker_out[0]);
    snprintf (stack->worker_out[0], sizeof stack->worker_out[0], "/dev/full");
    assert_int_equal (stack_start_worker (stack, 0, NULL), 0);
    snprintf (stack->worker_out[0], sizeof stack->worker_out[0], "%s", out);
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    int status = -1;
    pid_t pid = stack->workers[0];
    for (int i = 0; i < 600; i++) {
        if (waitpid (pid, &status, WNOHANG) == pid)
            break;
        status = -1;
        harness_nap_ms (50);
    }
    assert_int_not_equal (status, -1); /* it stopped by itself */
    stack->workers[0] = 0;
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 1);
    assert_true (harness_count_lines (stack_log_path (stack, "worker0"), "stdout refused") >= 1);
    for (int i = 0; i < N; i++) {
        char st[32] = "";
        assert_int_equal (stack_get_status (stack, ids + i * ID_SIZE, st, sizeof st), 200);
        assert_string_equal (st, "pending");
    }
    assert_int_equal (stack_wait_depth (stack, BROKER_QUEUE, N, 10000), N);
    /* A worker that can print takes them: each printed once, processed. */
    assert_int_equal (stack_start_worker (stack, 1, NULL), 0);
    assert_int_equal (stack_wait_processed (stack, N, 30000), N);
    assert_true (stack_lines_exactly_once (stack, 0, N, ids, 2u));
    stack_end (stack);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_retry_budget_spent_then_dead_lettered),
        cmocka_unit_test (test_description_cannot_forge_a_second_line),
        cmocka_unit_test (test_event_gone_is_acked_and_logged),
        cmocka_unit_test (test_event_gone_same_on_redelivery_as_first_delivery),
        cmocka_unit_test (test_redelivered_processed_event_acked_without_printing),
        cmocka_unit_test (test_republished_processed_event_not_printed_again),
        cmocka_unit_test (test_sigterm_finishes_requests_in_flight),
        cmocka_unit_test (test_heartbeats_flow_while_http_hangs),
        cmocka_unit_test (test_prefetch_beyond_http_connections_processes_everything),
        cmocka_unit_test (test_http_connections_bound_the_requests_in_flight),
        cmocka_unit_test (test_a_worker_whose_stdout_fails_acks_nothing_and_stops),
    };
    return cmocka_run_group_tests (tests, stack_group_setup, stack_group_teardown);
}
