/*
 * test_e2e_metrics — every service's /metrics (issue 18), scraped over HTTP
 * and parsed by prometheus_client's strict text parser (tests/promparse.py),
 * says exactly what a known workload did:
 *   - N events posted and processed: the gateway answered N 201s, the store
 *     handled N creates and N updates, the notifier published and had
 *     confirmed N created and N updated changes with nothing nacked or
 *     published twice, the worker took N deliveries, printed N lines and
 *     acked N, and nothing is left in flight;
 *   - a message the worker cannot decode is dead-lettered and counted once;
 *   - a full queue (no worker, x-max-length) shows as nacks and, once a
 *     worker drains it, as re-publishes of exactly what was refused;
 *   - a notifier killed with its tail unconfirmed shows at the store as a
 *     new connection and records read again, and restarted (its
 *     process_start_time_seconds);
 *   - herald-stat through a burst and with a service down; JSON logs; one
 *     request id through the gateway's, notifier's and worker's logs.
 */
#include "broker.h"
#include "scrape.h"
#include "stack.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <strings.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>

#define ID_SIZE (STACK_ID_LEN + 1)
#define EVENTS 40

/* Scrapes name's /metrics; the scrape must parse. */
static void
s_scrape (e2e_stack_t *stack, const char *name, scrape_t *m)
{
    int port = stack_metrics_port (stack, name);
    assert_true (port > 0);
    if (scrape_metrics (port, m) != 0)
        fail_msg ("the %s's /metrics did not parse", name);
}

/* Scrapes name until series reaches want (counters only grow) or 30 s
   pass; returns the last value. A service just started may not listen
   yet (a loaded machine, a sanitizer build): a scrape that fails is
   tried again until the deadline, then fails the test. */
static double
s_wait_value (e2e_stack_t *stack, const char *name, const char *series, double want)
{
    scrape_t m = { 0 };
    double value = NAN;
    int64_t until = clock_mono_ms () + 30000;
    for (;;) {
        int port = stack_metrics_port (stack, name);
        assert_true (port > 0);
        if (scrape_metrics (port, &m) != 0) {
            if (clock_mono_ms () >= until)
                fail_msg ("the %s's /metrics did not parse", name);
            harness_nap_ms (100);
            continue;
        }
        value = scrape_value (&m, series);
        if (value >= want || clock_mono_ms () >= until)
            break;
        harness_nap_ms (100);
    }
    scrape_clear (&m);
    return value;
}

static void
s_expect (const scrape_t *m, const char *series, double want)
{
    double got = scrape_value (m, series);
    if (got != want)
        fail_msg ("%s is %g, expected %g", series, got, want);
}

static void
test_every_service_counts_a_known_workload_exactly (void **state)
{
    e2e_stack_t *stack = *state;
    static char ids[EVENTS * ID_SIZE];
    stack_begin (stack);
    stack->metrics = true;
    assert_int_equal (stack_start_all (stack), 0);
    assert_int_equal (stack_post_many (stack, 0, EVENTS, ids), EVENTS);
    assert_int_equal (stack_wait_processed (stack, EVENTS, 60000), EVENTS);
    stack_store_stats_t stats;
    assert_int_equal (stack_wait_store_settled (stack, 2 * EVENTS, 30000, &stats), 0);
    assert_true (s_wait_value (stack, "worker0", "herald_worker_acked_total", EVENTS) == EVENTS);
    assert_true (s_wait_value (stack, "notifier", "herald_notifier_confirmed_total", 2 * EVENTS)
                 == 2 * EVENTS);

    scrape_t m = { 0 };
    s_scrape (stack, "gateway", &m);
    s_expect (&m, "herald_http_requests_total{code=\"201\",route=\"POST /events\"}", EVENTS);
    s_expect (&m, "herald_http_requests_total{code=\"200\",route=\"PUT /events/{event_id}\"}",
              EVENTS);

    s_scrape (stack, "store", &m);
    s_expect (&m, "herald_store_operations_total{op=\"create\",result=\"ok\"}", EVENTS);
    s_expect (&m, "herald_store_operations_total{op=\"update\",result=\"ok\"}", EVENTS);
    s_expect (&m, "herald_store_events", EVENTS);
    s_expect (&m, "herald_store_feed_head", 2 * EVENTS);
    s_expect (&m, "herald_store_feed_acknowledged", 2 * EVENTS);
    s_expect (&m, "herald_store_feed_length", 0);
    s_expect (&m, "herald_store_operation_duration_seconds_count{op=\"create\"}", EVENTS);

    s_scrape (stack, "notifier", &m);
    s_expect (&m, "herald_notifier_published_total{kind=\"created\"}", EVENTS);
    s_expect (&m, "herald_notifier_published_total{kind=\"updated\"}", EVENTS);
    s_expect (&m, "herald_notifier_confirmed_total", 2 * EVENTS);
    s_expect (&m, "herald_notifier_confirm_duration_seconds_count", 2 * EVENTS);
    s_expect (&m, "herald_notifier_nacked_total", 0);
    s_expect (&m, "herald_notifier_republished_total", 0);
    s_expect (&m, "herald_notifier_broker_connects_total", 1);
    s_expect (&m, "herald_notifier_broker_connection_losses_total", 0);
    s_expect (&m, "herald_notifier_store_connects_total", 1);
    s_expect (&m, "herald_notifier_confirmed_seq", 2 * EVENTS);
    s_expect (&m, "herald_notifier_acknowledged_seq", 2 * EVENTS);
    s_expect (&m, "herald_notifier_inflight_publishes", 0);
    s_expect (&m, "herald_notifier_broker_blocked", 0);

    s_scrape (stack, "worker0", &m);
    s_expect (&m, "herald_worker_deliveries_total", EVENTS);
    s_expect (&m, "herald_worker_redelivered_total", 0);
    s_expect (&m, "herald_worker_printed_total", EVENTS);
    s_expect (&m, "herald_worker_acked_total", EVENTS);
    s_expect (&m, "herald_worker_dead_lettered_total", 0);
    s_expect (&m, "herald_worker_retries_total", 0);
    /* first deliveries: one PUT each, no GET */
    s_expect (&m, "herald_worker_http_request_duration_seconds_count", EVENTS);
    s_expect (&m, "herald_worker_inflight_deliveries", 0);
    s_expect (&m, "herald_worker_broker_connects_total", 1);
    assert_true (stack_lines_exactly_once (stack, 0, EVENTS, ids, 1u));

    /* A body that is no notification: dead-lettered, counted once. */
    static const char poison[] = "\xc1 not msgpack";
    assert_int_equal (stack_publish_raw (stack, BROKER_QUEUE, poison, sizeof poison - 1), 0);
    assert_true (s_wait_value (stack, "worker0", "herald_worker_dead_lettered_total", 1) == 1);
    assert_int_equal (stack_wait_depth (stack, BROKER_DEAD_QUEUE, 1, 10000), 1);
    s_scrape (stack, "worker0", &m);
    s_expect (&m, "herald_worker_deliveries_total", EVENTS + 1);
    s_expect (&m, "herald_worker_undecodable_total", 1);
    s_expect (&m, "herald_worker_dead_lettered_total", 1);
    s_expect (&m, "herald_worker_acked_total", EVENTS);
    s_expect (&m, "herald_worker_printed_total", EVENTS);
    scrape_clear (&m);
    stack_end (stack);
}

#define QUEUE_MAX 5
#define QUEUE_MAX_TEXT "5"
#define REFUSED_EVENTS 12

static const char *const s_bounded[] = { "--queue-max", QUEUE_MAX_TEXT, NULL };

/* A scenario with metrics on, herald.notifications made afresh with
   x-max-length QUEUE_MAX, no worker, REFUSED_EVENTS posted (ids into ids):
   the queue fills and the notifier holds a tail RabbitMQ refused. */
static void
s_begin_full_queue (e2e_stack_t *stack, char *ids)
{
    char out[512];
    stack_begin (stack); /* declares the queue unbounded: make it afresh */
    harness_rabbitmqctl (&stack->rabbit, "delete_queue " BROKER_QUEUE, out, sizeof out);
    stack->metrics = true;
    assert_int_equal (stack_start_store (stack, 0), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    assert_int_equal (stack_start_notifier_with (stack, s_bounded), 0);
    assert_int_equal (stack_post_many (stack, 0, REFUSED_EVENTS, ids), REFUSED_EVENTS);
    assert_true (s_wait_value (stack, "notifier", "herald_notifier_nacked_total", 1) >= 1);
}

static void
test_a_full_queue_shows_as_nacks_then_republishes (void **state)
{
    e2e_stack_t *stack = *state;
    static char ids[REFUSED_EVENTS * ID_SIZE];
    char out[512];
    s_begin_full_queue (stack, ids);
    assert_int_equal (stack_queue_messages (stack, BROKER_QUEUE), QUEUE_MAX);
    scrape_t m = { 0 };
    s_scrape (stack, "notifier", &m);
    double nacked = scrape_value (&m, "herald_notifier_nacked_total");
    s_expect (&m, "herald_notifier_confirmed_total", QUEUE_MAX);
    s_expect (&m, "herald_notifier_confirmed_seq", QUEUE_MAX);
    assert_true (scrape_value (&m, "herald_notifier_feed_length") >= REFUSED_EVENTS - QUEUE_MAX);

    /* A worker drains it: every refused change is published again. */
    assert_int_equal (stack_start_worker (stack, 0, s_bounded), 0);
    assert_int_equal (stack_wait_processed (stack, REFUSED_EVENTS, 60000), REFUSED_EVENTS);
    stack_store_stats_t stats;
    assert_int_equal (stack_wait_store_settled (stack, 2 * REFUSED_EVENTS, 30000, &stats), 0);
    s_scrape (stack, "notifier", &m);
    /* published = first tries + re-publishes of the refused; each created
       change reached the queue exactly once */
    double created = scrape_value (&m, "herald_notifier_published_total{kind=\"created\"}");
    double republished = scrape_value (&m, "herald_notifier_republished_total");
    assert_true (republished >= 1);
    assert_true (created == REFUSED_EVENTS + republished);
    assert_true (scrape_value (&m, "herald_notifier_nacked_total") >= nacked);
    assert_true (stack_lines_exactly_once (stack, 0, REFUSED_EVENTS, ids, 1u));
    s_scrape (stack, "worker0", &m);
    s_expect (&m, "herald_worker_printed_total", REFUSED_EVENTS);
    scrape_clear (&m);
    stack_end (stack);
    harness_rabbitmqctl (&stack->rabbit, "delete_queue " BROKER_QUEUE, out, sizeof out);
}

static void
test_a_killed_notifier_shows_as_a_new_connection_and_a_reread_tail (void **state)
{
    e2e_stack_t *stack = *state;
    static char ids[REFUSED_EVENTS * ID_SIZE];
    char out[512];
    /* no worker and a bounded queue: the notifier holds a tail it could
       not get confirmed, whatever the timing */
    s_begin_full_queue (stack, ids);
    scrape_t m = { 0 };
    s_scrape (stack, "store", &m);
    double connections = scrape_value (&m, "herald_store_connections_total");
    double rereads = scrape_value (&m, "herald_store_feed_reread_records_total");
    assert_true (connections >= 3); /* gateway, notifier, its doorbell */
    s_scrape (stack, "notifier", &m);
    double started = scrape_value (&m, "process_start_time_seconds");
    assert_true (started > 1.7e9);

    assert_int_equal (harness_stop (stack->notifier, SIGKILL, 10000) != -1, 1);
    stack->notifier = 0;
    assert_int_equal (stack_start_notifier_with (stack, s_bounded), 0);
    /* the store saw it come back and read its tail again */
    assert_true (s_wait_value (stack, "store", "herald_store_connections_total", connections + 1)
                 > connections);
    assert_true (
        s_wait_value (stack, "store", "herald_store_feed_reread_records_total", rereads + 1)
        > rereads);
    s_scrape (stack, "notifier", &m);
    assert_true (scrape_value (&m, "process_start_time_seconds") >= started);
    s_expect (&m, "herald_notifier_broker_connects_total", 1);
    /* and nothing is lost */
    assert_int_equal (stack_start_worker (stack, 0, s_bounded), 0);
    assert_int_equal (stack_wait_processed (stack, REFUSED_EVENTS, 60000), REFUSED_EVENTS);
    scrape_clear (&m);
    stack_end (stack);
    harness_rabbitmqctl (&stack->rabbit, "delete_queue " BROKER_QUEUE, out, sizeof out);
}

#define STAT_EVENTS 400
#define STAT_LINES 4

/* Runs herald-stat against the stack (its metrics ports, RabbitMQ for the
   queue column) for STAT_LINES lines; returns its output's path. */
static const char *
s_run_stat (e2e_stack_t *stack, const char *name)
{
    static char path[600];
    snprintf (path, sizeof path, "%s/run%d-%s.out", harness_tmpdir (), stack->run, name);
    char gateway[80], store[80], notifier[80], worker[80], amqp[200];
    snprintf (gateway, sizeof gateway, "--gateway=http://127.0.0.1:%d/metrics",
              stack_metrics_port (stack, "gateway"));
    snprintf (store, sizeof store, "--store=http://127.0.0.1:%d/metrics",
              stack_metrics_port (stack, "store"));
    snprintf (notifier, sizeof notifier, "--notifier=http://127.0.0.1:%d/metrics",
              stack_metrics_port (stack, "notifier"));
    snprintf (worker, sizeof worker, "--workers=http://127.0.0.1:%d/metrics",
              stack_metrics_port (stack, "worker0"));
    snprintf (amqp, sizeof amqp, "HERALD_STAT_AMQP_URL=%s", stack->rabbit.url);
    const char *argv[] = { harness_bin ("herald-stat"),
                           gateway,
                           store,
                           notifier,
                           worker,
                           "--interval-ms",
                           "500",
                           "--count",
                           "4",
                           NULL };
    const char *env[] = { amqp, NULL };
    pid_t pid = harness_spawn (argv, env, path, NULL);
    assert_true (pid > 0);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    return path;
}

/* The data lines of herald-stat's output, split into columns. */
typedef struct {
    int n;
    char cols[STAT_LINES][10][16];
} s_stat_lines_t;

static void
s_read_stat (const char *path, s_stat_lines_t *out)
{
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    char line[512];
    out->n = 0;
    bool header = false;
    while (fgets (line, sizeof line, f)) {
        if (strncmp (line, "time ", 5) == 0) {
            assert_non_null (strstr (line, "creates/s"));
            header = true;
            continue;
        }
        assert_true (out->n < STAT_LINES);
        char (*c)[16] = out->cols[out->n];
        assert_int_equal (sscanf (line, "%15s %15s %15s %15s %15s %15s %15s %15s %15s %15s", c[0],
                                  c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]),
                          10);
        out->n++;
    }
    fclose (f);
    assert_true (header);
}

static void
test_herald_stat_shows_a_burst_and_blanks_a_service_that_is_down (void **state)
{
    e2e_stack_t *stack = *state;
    static char ids[STAT_EVENTS * ID_SIZE];
    stack_begin (stack);
    stack->metrics = true;
    assert_int_equal (stack_start_all (stack), 0);
    stack_burst_t *burst = stack_burst_start (stack, 0, STAT_EVENTS, 200, ids);
    assert_non_null (burst);
    assert_true (stack_burst_wait (burst, 20, 30000) >= 20);
    s_stat_lines_t lines;
    s_read_stat (s_run_stat (stack, "stat"), &lines);
    int posted = stack_burst_join (&burst);
    assert_int_equal (lines.n, STAT_LINES);
    int creating = 0;
    for (int i = 0; i < lines.n; i++) {
        /* every column known: all services up, RabbitMQ asked */
        for (int c = 1; c < 10; c++)
            if (strcmp (lines.cols[i][c], "-") == 0)
                fail_msg ("line %d column %d is -", i, c);
        creating += atoi (lines.cols[i][1]) > 0;
    }
    /* the burst ran through the lines (posting started before, ended after) */
    assert_true (creating >= 1);
    assert_int_equal (stack_wait_processed (stack, posted, 60000), posted);
    /* the notifier down: its columns (published/s, lag) read -, the rest go on */
    harness_stop (stack->notifier, SIGTERM, 10000);
    stack->notifier = 0;
    s_read_stat (s_run_stat (stack, "stat2"), &lines);
    assert_int_equal (lines.n, STAT_LINES);
    for (int i = 0; i < lines.n; i++) {
        assert_string_equal (lines.cols[i][3], "-");
        assert_string_equal (lines.cols[i][5], "-");
        assert_string_not_equal (lines.cols[i][4], "-");
        assert_string_not_equal (lines.cols[i][2], "-");
    }
    stack_end (stack);
}

/* Every line of path parses as a JSON log object of service; returns how
   many lines have event_id == event_id and a message holding needle. */
static int
s_check_json_log (const char *path, const char *service, const char *event_id, const char *needle)
{
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    char line[8192];
    int lines = 0, matching = 0;
    while (fgets (line, sizeof line, f)) {
        json_error_t err;
        json_t *o = json_loads (line, 0, &err);
        if (!o || !json_is_object (o))
            fail_msg ("%s line %d is not a JSON object: %s", path, lines + 1, line);
        const char *level = json_string_value (json_object_get (o, "level"));
        assert_non_null (json_string_value (json_object_get (o, "time")));
        assert_non_null (level);
        assert_true (strcmp (level, "debug") == 0 || strcmp (level, "info") == 0
                     || strcmp (level, "warn") == 0 || strcmp (level, "error") == 0);
        assert_string_equal (json_string_value (json_object_get (o, "service")), service);
        const char *message = json_string_value (json_object_get (o, "message"));
        assert_non_null (message);
        const char *id = json_string_value (json_object_get (o, "event_id"));
        if (id && strcmp (id, event_id) == 0 && strstr (message, needle))
            matching++;
        json_decref (o);
        lines++;
    }
    fclose (f);
    assert_true (lines > 0);
    return matching;
}

static void
test_json_logs_parse_line_by_line_and_name_the_event (void **state)
{
    e2e_stack_t *stack = *state;
    static char ids[5 * ID_SIZE];
    stack_begin (stack);
    stack->json_logs = true;
    assert_int_equal (stack_start_all (stack), 0);
    assert_int_equal (stack_post_many (stack, 0, 5, ids), 5);
    assert_int_equal (stack_wait_processed (stack, 5, 60000), 5);
    /* a notification for an event the store never had: the worker prints
       it, its PUT gets 404, and it says so on a line naming the event */
    static const char ghost[] = "7d1f0a52-9b3c-4e8d-a6f1-0c2b3d4e5f60";
    assert_int_equal (
        stack_publish_notification (stack, ghost, "u-ghost", "never stored", "pending"), 0);
    char worker_log[600];
    snprintf (worker_log, sizeof worker_log, "%s", stack_log_path (stack, "worker0"));
    assert_true (harness_wait_lines (worker_log, "not found at the gateway", 1, 30000) >= 1);
    stack_end (stack);
    assert_int_equal (s_check_json_log (worker_log, "herald-worker", ghost, "not found"), 1);
    const char *services[][2] = { { "store", "herald-store" },
                                  { "gateway", "herald-gateway" },
                                  { "notifier", "herald-notifier" } };
    for (size_t i = 0; i < 3; i++)
        s_check_json_log (stack_log_path (stack, services[i][0]), services[i][1], "", "");
}

static size_t
s_header (char *data, size_t size, size_t nmemb, void *arg)
{
    size_t n = size * nmemb;
    static const char name[] = "X-Request-Id: ";
    if (n > sizeof name - 1 && strncasecmp (data, name, sizeof name - 1) == 0)
        snprintf (arg, 128, "%.*s", (int)strcspn (data + sizeof name - 1, "\r\n"),
                  data + sizeof name - 1);
    return n;
}

/* POSTs an event with X-Request-Id: rid; returns the HTTP status, and the
   X-Request-Id answered in echoed (128 bytes). */
static long
s_post_traced (e2e_stack_t *stack, const char *rid, char *echoed)
{
    CURL *curl = curl_easy_init ();
    char url[128], header[128];
    snprintf (url, sizeof url, "%s/events", stack->gateway_url);
    snprintf (header, sizeof header, "X-Request-Id: %s", rid);
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    headers = curl_slist_append (headers, header);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS,
                      "{\"user_id\":\"u-traced\",\"description\":\"follow me\"}");
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, echoed);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *devnull = fopen ("/dev/null", "w");
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, devnull);
    long code = 0;
    if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
    fclose (devnull);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    return code;
}

/* Waits until the log of name has a line holding both a and b. */
static bool
s_log_has (e2e_stack_t *stack, const char *name, const char *a, const char *b)
{
    char path[600];
    snprintf (path, sizeof path, "%s", stack_log_path (stack, name));
    int64_t until = clock_mono_ms () + 20000;
    do {
        FILE *f = fopen (path, "r");
        char line[4096];
        bool found = false;
        while (f && !found && fgets (line, sizeof line, f))
            found = strstr (line, a) && strstr (line, b);
        if (f)
            fclose (f);
        if (found)
            return true;
        harness_nap_ms (100);
    } while (clock_mono_ms () < until);
    return false;
}

static void
test_a_request_id_follows_its_event_through_every_log (void **state)
{
    e2e_stack_t *stack = *state;
    stack_begin (stack);
    stack->debug_logs = true;
    assert_int_equal (stack_start_all (stack), 0);
    char rid[64], echoed[128] = "";
    snprintf (rid, sizeof rid, "trace-%d-%lld", stack->run, (long long)clock_mono_ms ());
    assert_int_equal (s_post_traced (stack, rid, echoed), 201);
    assert_string_equal (echoed, rid);
    assert_int_equal (stack_wait_processed (stack, 1, 60000), 1);
    stack_store_stats_t stats;
    assert_int_equal (stack_wait_store_settled (stack, 2, 30000, &stats), 0);
    /* grep the id over the logs: the gateway's POST and the worker's PUT,
       the notifier's two publishes (created, and the update the PUT made),
       the worker's printed line */
    assert_true (s_log_has (stack, "gateway", "POST /events 201 /events/", rid));
    assert_true (s_log_has (stack, "gateway", "PUT /events/{event_id} 200", rid));
    assert_true (s_log_has (stack, "notifier", "published created event", rid));
    assert_true (s_log_has (stack, "notifier", "published updated event", rid));
    assert_true (s_log_has (stack, "worker0", "printed (request", rid));
    stack_end (stack);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_service_counts_a_known_workload_exactly),
        cmocka_unit_test (test_a_full_queue_shows_as_nacks_then_republishes),
        cmocka_unit_test (test_a_killed_notifier_shows_as_a_new_connection_and_a_reread_tail),
        cmocka_unit_test (test_herald_stat_shows_a_burst_and_blanks_a_service_that_is_down),
        cmocka_unit_test (test_json_logs_parse_line_by_line_and_name_the_event),
        cmocka_unit_test (test_a_request_id_follows_its_event_through_every_log),
    };
    return cmocka_run_group_tests (tests, stack_group_setup, stack_group_teardown);
}
