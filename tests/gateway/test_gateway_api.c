/*
 * test_gateway_api — the success rows of docs/ARCHITECTURE.md §2 over real
 * HTTP against a real herald-gateway and herald-store: create, read, every
 * partial update, listing (creation order, filters, default and maximum
 * limit, cursor paging to a null next_after), the operational endpoints
 * (/ping, /healthz, /readyz, /metrics whose counters must move,
 * /openapi.json, /docs), trailing slashes and keep-alive, the
 * scheduling of libzmq's threads (--io-sched), and a full store batch
 * going at once, with the loop yielding its core after it.
 *
 * One store and one gateway serve the whole program; each test uses its own
 * user_id so filters isolate it, and the program counts what it creates so
 * an unfiltered listing can be checked exactly.
 */
#define _GNU_SOURCE /* memmem, strcasestr, SCHED_BATCH */
#include "gwclient.h"
#include "io_sched.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static size_t s_created; /* events this program created */

static void
s_create (const char *user_id, const char *description, char *id)
{
    gw_create (gw_shared (), user_id, description, id);
    s_created++;
}

/* A user id unique to this run and tag. */
static const char *
s_user (const char *tag)
{
    static char user[64];
    snprintf (user, sizeof user, "%s-%d", tag, (int)getpid ());
    return user;
}

static void
test_post_returns_event_location_and_get_returns_it (void **state)
{
    gw_resp_t post = { 0 }, get = { 0 };
    const char *body = "{\"user_id\":\"u-42\",\"description\":\"Your order shipped\"}";
    assert_int_equal (gw_json (gw_shared (), &post, "POST", "/events", body), 201);
    s_created++;
    gw_assert_event (post.json, "u-42", "Your order shipped", "pending");
    assert_true (strncasecmp (post.content_type, "application/json", 16) == 0);
    const char *id = json_string_value (json_object_get (post.json, "event_id"));
    char location[64];
    snprintf (location, sizeof location, "/events/%s", id);
    assert_string_equal (post.location, location);
    assert_string_equal (json_string_value (json_object_get (post.json, "created_at")),
                         json_string_value (json_object_get (post.json, "updated_at")));

    assert_int_equal (gw_call (gw_shared (), &get, "GET", post.location, NULL, NULL, 0), 200);
    assert_true (json_equal (get.json, post.json));
    assert_true (strncasecmp (get.content_type, "application/json", 16) == 0);
    gw_resp_clear (&post);
    gw_resp_clear (&get);
}

static void
test_ids_are_distinct_random_v4 (void **state)
{
    char ids[20][GW_ID_LEN + 1];
    for (int i = 0; i < 20; i++) {
        s_create (s_user ("ids"), "d", ids[i]);
        for (int j = 0; j < i; j++)
            assert_string_not_equal (ids[i], ids[j]);
    }
}

static void
test_get_unknown_id_is_404_and_malformed_is_422 (void **state)
{
    gw_resp_t resp = { 0 };
    gw_call (gw_shared (), &resp, "GET", "/events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a2", NULL, NULL,
             0);
    gw_assert_detail (&resp, 404, "Event not found");
    gw_call (gw_shared (), &resp, "GET", "/events/not-a-uuid", NULL, NULL, 0);
    gw_assert_422 (&resp, 1, "uuid_parsing", "path/event_id");
    gw_call (gw_shared (), &resp, "GET", "/events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a", NULL, NULL,
             0);
    gw_assert_422 (&resp, 1, "uuid_parsing", "path/event_id");
    gw_resp_clear (&resp);
}

/* PUT every non-empty subset of {status, user_id, description}. */
static void
test_put_every_subset_updates_exactly_those_fields (void **state)
{
    static const char *const names[] = { "status", "user_id", "description" };
    gw_resp_t resp = { 0 };
    for (int mask = 1; mask < 8; mask++) {
        char id[GW_ID_LEN + 1], user[96];
        snprintf (user, sizeof user, "%s-%d", s_user ("put"), mask);
        s_create (user, "before", id);
        const char *want[3] = { "pending", user, "before" };
        char values[3][64];
        json_t *body = json_object ();
        for (int f = 0; f < 3; f++)
            if (mask & (1 << f)) {
                snprintf (values[f], sizeof values[f], "%s-new-%d", names[f], mask);
                json_object_set_new (body, names[f], json_string (values[f]));
                want[f] = values[f];
            }
        char *text = json_dumps (body, JSON_COMPACT);
        char path[64];
        snprintf (path, sizeof path, "/events/%s", id);
        if (gw_json (gw_shared (), &resp, "PUT", path, text) != 200)
            fail_msg ("PUT %s: %ld %s", text, resp.code, resp.body);
        gw_assert_event (resp.json, want[1], want[2], want[0]);
        assert_string_equal (json_string_value (json_object_get (resp.json, "event_id")), id);
        json_t *put = json_incref (resp.json);
        assert_int_equal (gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0), 200);
        assert_true (json_equal (resp.json, put));
        json_decref (put);
        free (text);
        json_decref (body);
    }
    gw_resp_clear (&resp);
}

static void
test_put_moves_updated_at_and_keeps_created_at (void **state)
{
    char id[GW_ID_LEN + 1], path[64];
    s_create (s_user ("stamp"), "d", id);
    snprintf (path, sizeof path, "/events/%s", id);
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0), 200);
    char created[32];
    snprintf (created, sizeof created, "%s",
              json_string_value (json_object_get (resp.json, "created_at")));
    /* Wait (bounded) until the wall clock has left created_at's millisecond. */
    int64_t deadline = clock_mono_ms () + 2000;
    for (;;) {
        struct timespec now;
        clock_gettime (CLOCK_REALTIME, &now);
        char stamp[32];
        struct tm tm;
        gmtime_r (&now.tv_sec, &tm);
        size_t n = strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf (stamp + n, sizeof stamp - n, ".%03ldZ", now.tv_nsec / 1000000);
        if (strcmp (stamp, created) > 0 || clock_mono_ms () > deadline)
            break;
    }
    assert_int_equal (gw_json (gw_shared (), &resp, "PUT", path, "{\"status\":\"processed\"}"),
                      200);
    const char *updated = json_string_value (json_object_get (resp.json, "updated_at"));
    assert_string_equal (json_string_value (json_object_get (resp.json, "created_at")), created);
    assert_true (gw_is_time (updated));
    if (strcmp (updated, created) <= 0)
        fail_msg ("updated_at %s not after created_at %s", updated, created);
    gw_resp_clear (&resp);
}

static void
test_list_keeps_creation_order_and_filters (void **state)
{
    char user[64], ids[6][GW_ID_LEN + 1], got[16][GW_ID_LEN + 1];
    snprintf (user, sizeof user, "%s", s_user ("order"));
    for (int i = 0; i < 6; i++)
        s_create (user, "d", ids[i]);
    char query[128];
    snprintf (query, sizeof query, "user_id=%s", user);
    assert_int_equal (gw_list_all (gw_shared (), query, 100, got[0], 16), 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal (got[i], ids[i]);

    gw_resp_t resp = { 0 };
    for (int i = 1; i < 6; i += 2) {
        char path[64];
        snprintf (path, sizeof path, "/events/%s", ids[i]);
        assert_int_equal (gw_json (gw_shared (), &resp, "PUT", path, "{\"status\":\"processed\"}"),
                          200);
    }
    snprintf (query, sizeof query, "user_id=%s&status=processed", user);
    assert_int_equal (gw_list_all (gw_shared (), query, 100, got[0], 16), 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal (got[i], ids[2 * i + 1]);
    snprintf (query, sizeof query, "status=pending&user_id=%s", user);
    assert_int_equal (gw_list_all (gw_shared (), query, 2, got[0], 16), 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal (got[i], ids[2 * i]);
    /* exact filters: a prefix of the user id or an unknown status match nothing */
    char path[160];
    snprintf (path, sizeof path, "/events?user_id=%.*s", (int)strlen (user) - 1, user);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0), 200);
    assert_int_equal (json_array_size (json_object_get (resp.json, "items")), 0);
    assert_true (json_is_null (json_object_get (resp.json, "next_after")));
    snprintf (path, sizeof path, "/events?user_id=%s&status=nope", user);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0), 200);
    assert_int_equal (json_array_size (json_object_get (resp.json, "items")), 0);
    gw_resp_clear (&resp);
}

static void
test_list_limit_defaults_to_100_and_allows_1000 (void **state)
{
    enum { N = 1001 };
    char user[64], path[160];
    snprintf (user, sizeof user, "%s", s_user ("limit"));
    char (*ids)[GW_ID_LEN + 1] = calloc (N, GW_ID_LEN + 1);
    for (int i = 0; i < N; i++)
        s_create (user, "d", ids[i]);
    gw_resp_t resp = { 0 };
    snprintf (path, sizeof path, "/events?user_id=%s", user);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0), 200);
    json_t *items = json_object_get (resp.json, "items");
    assert_int_equal (json_array_size (items), 100);
    gw_assert_cursor (gw_shared (), json_object_get (resp.json, "next_after"), ids[99]);

    snprintf (path, sizeof path, "/events?user_id=%s&limit=1000", user);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0), 200);
    items = json_object_get (resp.json, "items");
    assert_int_equal (json_array_size (items), 1000);
    for (int i = 0; i < 1000; i++)
        assert_string_equal (
            json_string_value (json_object_get (json_array_get (items, i), "event_id")), ids[i]);
    gw_assert_cursor (gw_shared (), json_object_get (resp.json, "next_after"), ids[999]);
    char next[GW_CURSOR_MAX + 1];
    snprintf (next, sizeof next, "%s",
              json_string_value (json_object_get (resp.json, "next_after")));
    char next_path[GW_CURSOR_MAX + 160];
    snprintf (next_path, sizeof next_path, "/events?user_id=%s&limit=1000&after=%s", user, next);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", next_path, NULL, NULL, 0), 200);
    items = json_object_get (resp.json, "items");
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (
        json_string_value (json_object_get (json_array_get (items, 0), "event_id")), ids[1000]);
    assert_true (json_is_null (json_object_get (resp.json, "next_after")));

    snprintf (path, sizeof path, "/events?user_id=%s&limit=1", user);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0), 200);
    assert_int_equal (json_array_size (json_object_get (resp.json, "items")), 1);
    gw_resp_clear (&resp);
    free (ids);
}

static void
test_after_cursor_pages_through_everything (void **state)
{
    enum { N = 23 };
    char user[64], ids[N][GW_ID_LEN + 1], got[N + 1][GW_ID_LEN + 1];
    snprintf (user, sizeof user, "%s", s_user ("page"));
    for (int i = 0; i < N; i++)
        s_create (user, "d", ids[i]);
    char query[128];
    snprintf (query, sizeof query, "user_id=%s", user);
    for (int limit = 1; limit <= 25; limit += 4) {
        assert_int_equal (gw_list_all (gw_shared (), query, limit, got[0], N + 1), N);
        for (int i = 0; i < N; i++)
            assert_string_equal (got[i], ids[i]);
    }
    /* unfiltered: every event this program created, each once */
    size_t total = s_created;
    char (*all)[GW_ID_LEN + 1] = calloc (total + 1, GW_ID_LEN + 1);
    assert_int_equal (gw_list_all (gw_shared (), "", 1000, all[0], total + 1), total);
    int j = 0;
    for (int i = 0; i < (int)total && j < N; i++)
        if (strcmp (all[i], ids[j]) == 0)
            j++;
        else
            assert_true (j == 0); /* this test's events are the last N, in order */
    assert_int_equal (j, N);
    assert_string_equal (all[total - 1], ids[N - 1]);
    for (size_t a = 0; a < total; a++)
        for (size_t b = a + 1; b < total; b++)
            assert_string_not_equal (all[a], all[b]);
    free (all);
}

static void
test_ping_healthz_readyz (void **state)
{
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/ping", NULL, NULL, 0), 200);
    assert_string_equal (json_string_value (json_object_get (resp.json, "ping")), "pong");
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/healthz", NULL, NULL, 0), 200);
    assert_string_equal (json_string_value (json_object_get (resp.json, "status")), "ok");
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/readyz", NULL, NULL, 0), 200);
    assert_string_equal (json_string_value (json_object_get (resp.json, "status")), "ready");
    gw_resp_clear (&resp);
}

/* libzmq's own threads run under SCHED_BATCH by default (--io-sched), in
   the gateway and the store, and the loop threads keep the policy they
   inherit; --io-sched normal leaves them all that one. Skipped where this
   system refuses SCHED_BATCH (the services then warn and run without) or
   HERALD_IO_SCHED asks for normal. */
static void
test_io_threads_run_under_sched_batch (void **state)
{
    (void)state;
    const char *asked = getenv ("HERALD_IO_SCHED");
    if ((asked && strcmp (asked, "batch") != 0) || io_sched_policy (true) != SCHED_BATCH)
        skip ();
    int inherited = sched_getscheduler (0);
    gw_t *gw = gw_shared ();
    assert_int_equal (harness_thread_policy (gw->gateway, "ZMQbg/IO/0"), SCHED_BATCH);
    assert_int_equal (harness_thread_policy (gw->gateway, "ZMQbg/Reaper"), SCHED_BATCH);
    assert_int_equal (harness_thread_policy (gw->gateway, "herald-gateway"), inherited);
    assert_int_equal (harness_thread_policy (gw->store, "ZMQbg/IO/0"), SCHED_BATCH);
    assert_int_equal (harness_thread_policy (gw->store, "herald-store"), inherited);
    const char *const extra[] = { "--io-sched", "normal", NULL };
    gw_t normal;
    assert_int_equal (gw_start_gateway_on (&normal, gw, extra), 0);
    assert_int_equal (gw_wait_readyz (&normal, 200, 10000), 0);
    assert_int_equal (harness_thread_policy (normal.gateway, "ZMQbg/IO/0"), inherited);
    assert_int_equal (harness_thread_policy (normal.gateway, "ZMQbg/Reaper"), inherited);
    gw_fini (&normal);
}

/* Sends a GET of an absent event on each of n fresh connections, all
   before reading any answer (each a 404 from the store): those that land
   in one pass of the loop go to the store together. */
static void
s_burst (gw_t *gw, int n)
{
    static const char req[] = "GET /events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a2 HTTP/1.1\r\n"
                              "Host: t\r\nConnection: close\r\n\r\n";
    int fds[16];
    assert_true (n <= 16);
    for (int i = 0; i < n; i++)
        assert_true ((fds[i] = gw_raw_connect (gw->http_port)) >= 0);
    for (int i = 0; i < n; i++)
        assert_int_equal (send (fds[i], req, sizeof req - 1, MSG_NOSIGNAL),
                          (ssize_t)sizeof req - 1);
    for (int i = 0; i < n; i++) {
        assert_int_equal (gw_read_head (fds[i], 5000, NULL, 0), 404);
        close (fds[i]);
    }
}

/* With --store-batch 2, two requests in one pass fill a batch, which goes
   at once (herald_store_full_batches_total). Under --io-sched batch the
   loop then yields its core, once per full batch (herald_loop_yields_total);
   under normal, where libzmq's I/O thread preempts anyway, never. */
static void
test_a_full_batch_goes_at_once_and_the_loop_yields (void **state)
{
    (void)state;
    bool batch =
        io_sched_policy (true) == SCHED_BATCH; /* --io-sched batch below beats the environment */
    for (int normal = 0; normal < 2; normal++) {
        const char *const extra[] = { "--store-batch", "2", "--io-sched",
                                      normal ? "normal" : "batch", NULL };
        gw_t gw;
        assert_int_equal (gw_start_gateway_on (&gw, gw_shared (), extra), 0);
        assert_int_equal (gw_wait_readyz (&gw, 200, 10000), 0);
        double full = 0;
        for (int round = 0; round < 500 && full < 3; round++) {
            s_burst (&gw, 16);
            full = gw_fetch_metric (&gw, "herald_store_full_batches_total", NULL);
        }
        if (full < 3)
            fail_msg ("%s: %g full batches after 500 bursts of 16 requests", extra[3], full);
        double yields = gw_fetch_metric (&gw, "herald_loop_yields_total", NULL);
        if (normal || !batch)
            assert_true (yields == 0);
        else if (yields != full)
            fail_msg ("batch: %g yields for %g full batches", yields, full);
        gw_fini (&gw);
    }
}

static void
test_metrics_counters_move (void **state)
{
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/metrics", NULL, NULL, 0), 200);
    assert_true (strncmp (resp.content_type, "text/plain", 10) == 0);
    assert_non_null (strstr (resp.content_type, "version=0.0.4"));
    double before =
        gw_metric (resp.body, "herald_http_requests_total", "/ping\"", "code=\"200\"", NULL);
    double missing_before =
        gw_metric (resp.body, "herald_http_requests_total", "code=\"404\"", NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/ping", NULL, NULL, 0), 200);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET",
                               "/events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a2", NULL, NULL, 0),
                      404);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/metrics", NULL, NULL, 0), 200);
    const char *text = resp.body;
    double after = gw_metric (text, "herald_http_requests_total", "/ping\"", "code=\"200\"", NULL);
    if (after < before + 3)
        fail_msg ("/ping 200 counter went %g -> %g after 3 pings:\n%s", before, after, text);
    assert_true (gw_metric (text, "herald_http_requests_total", "code=\"404\"", NULL)
                 >= missing_before + 1);
    /* every family the interface names is exposed */
    static const char *const families[] = { "herald_http_requests_total",
                                            "herald_http_request_duration_seconds_bucket",
                                            "herald_http_request_duration_seconds_count",
                                            "herald_store_roundtrip_seconds_bucket",
                                            "herald_http_inflight_requests",
                                            "herald_store_up",
                                            "herald_store_late_replies_total",
                                            "herald_store_full_batches_total",
                                            "herald_loop_yields_total" };
    for (size_t i = 0; i < sizeof families / sizeof *families; i++)
        if (!strstr (text, families[i]))
            fail_msg ("metric %s missing:\n%s", families[i], text);
    assert_true (gw_metric (text, "herald_store_up", NULL) == 1);
    assert_true (gw_metric (text, "herald_store_roundtrip_seconds_count", NULL) >= 1);
    gw_resp_clear (&resp);
}

static void
test_openapi_and_docs (void **state)
{
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/openapi.json", NULL, NULL, 0), 200);
    assert_true (strncasecmp (resp.content_type, "application/json", 16) == 0);
    assert_non_null (resp.json);
    const char *version = json_string_value (json_object_get (resp.json, "openapi"));
    assert_non_null (version);
    assert_true (version[0] == '3');
    json_t *paths = json_object_get (resp.json, "paths");
    static const char *const routes[] = { "/events", "/events/{event_id}",
                                          "/ping",   "/healthz",
                                          "/readyz", "/metrics" };
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (!json_object_get (paths, routes[i]))
            fail_msg ("openapi.json has no path %s", routes[i]);
    assert_non_null (json_object_get (json_object_get (paths, "/events"), "post"));
    assert_non_null (json_object_get (json_object_get (paths, "/events/{event_id}"), "put"));

    assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/docs", NULL, NULL, 0), 200);
    assert_true (strncasecmp (resp.content_type, "text/html", 9) == 0);
    assert_non_null (strcasestr (resp.body, "<html"));
    /* it documents every route, written in the page or read from the
       gateway's own /openapi.json (same origin, not an external fetch) */
    if (!strstr (resp.body, "/openapi.json"))
        for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
            assert_non_null (strstr (resp.body, routes[i]));
    /* self-contained: nothing fetched from elsewhere */
    static const char *const external[] = { "src=\"http", "src='http", "src=\"//", "href=\"http",
                                            "@import" };
    for (size_t i = 0; i < sizeof external / sizeof *external; i++)
        if (strcasestr (resp.body, external[i]))
            fail_msg ("/docs fetches something external (%s)", external[i]);
    gw_resp_clear (&resp);
}

static void
test_trailing_slash_is_accepted_everywhere (void **state)
{
    gw_resp_t resp = { 0 };
    const char *body = "{\"user_id\":\"slash\",\"description\":\"d\"}";
    assert_int_equal (gw_json (gw_shared (), &resp, "POST", "/events/", body), 201);
    s_created++;
    gw_assert_event (resp.json, "slash", "d", "pending");
    char path[64];
    snprintf (path, sizeof path, "/events/%s/",
              json_string_value (json_object_get (resp.json, "event_id")));
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0), 200);
    gw_assert_event (resp.json, "slash", "d", "pending");
    assert_int_equal (gw_json (gw_shared (), &resp, "PUT", path, "{\"status\":\"seen\"}"), 200);
    gw_assert_event (resp.json, "slash", "d", "seen");
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/events/?user_id=slash", NULL, NULL, 0),
                      200);
    assert_int_equal (json_array_size (json_object_get (resp.json, "items")), 1);
    static const char *const paths[] = { "/ping/",    "/healthz/",      "/readyz/",
                                         "/metrics/", "/openapi.json/", "/docs/" };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (gw_call (gw_shared (), &resp, "GET", paths[i], NULL, NULL, 0) != 200)
            fail_msg ("GET %s: %ld", paths[i], resp.code);
    gw_resp_clear (&resp);
}

static void
test_keepalive_reuses_one_connection (void **state)
{
    gw_t client = *gw_shared ();
    client.curl = NULL;
    gw_init (&client);                          /* a fresh curl handle ... */
    client.http_port = gw_shared ()->http_port; /* ... on the same gateway */
    snprintf (client.base_url, sizeof client.base_url, "%s", gw_shared ()->base_url);
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (&client, &resp, "GET", "/ping", NULL, NULL, 0), 200);
    assert_int_equal (resp.num_connects, 1);
    for (int i = 0; i < 5; i++) {
        assert_int_equal (gw_json (&client, &resp, "POST", "/events",
                                   "{\"user_id\":\"ka\",\"description\":\"d\"}"),
                          201);
        s_created++;
        assert_int_equal (resp.num_connects, 0);
        assert_int_equal (gw_call (&client, &resp, "GET", "/ping", NULL, NULL, 0), 200);
        assert_int_equal (resp.num_connects, 0);
    }
    gw_resp_clear (&resp);
    client.store = client.gateway = 0; /* not ours to stop */
    gw_fini (&client);
}

/* The X-Request-Id of the response whose head is in head, into id (128
   bytes); "" when there is none. */
static void
s_request_id (const char *head, char *id)
{
    const char *at = strcasestr (head, "\r\nX-Request-Id: ");
    id[0] = '\0';
    if (at)
        snprintf (id, 128, "%.*s", (int)strcspn (at + 16, "\r\n"), at + 16);
}

/* GET /readyz (a store round trip) on a new connection, with header
   (a line, or ""); its X-Request-Id into id (128 bytes). */
static void
s_readyz_id (const char *header, char *id)
{
    int fd = gw_raw_connect (gw_shared ()->http_port);
    assert_true (fd >= 0);
    char req[256], head[4096];
    int n = snprintf (req, sizeof req,
                      "GET /readyz HTTP/1.1\r\nHost: t\r\n%sConnection: close\r\n\r\n", header);
    assert_int_equal (send (fd, req, (size_t)n, 0), n);
    assert_int_equal (gw_read_head (fd, 5000, head, sizeof head), 200);
    s_request_id (head, id);
    close (fd);
}

/* A request without X-Request-Id gets one made by the gateway: 16 hex
   digits that name this gateway process, '-', and a counter in hex that
   grows by one per request; one the client sends (valid) is echoed. */
static void
test_every_response_names_its_request_id (void **state)
{
    char id[3][128];
    for (int i = 0; i < 2; i++) {
        s_readyz_id ("", id[i]);
        size_t len = strlen (id[i]);
        assert_true (len >= 18 && len <= 33);
        assert_int_equal (id[i][16], '-');
        assert_int_equal (strspn (id[i], "0123456789abcdef"), 16);
        assert_int_equal (strspn (id[i] + 17, "0123456789abcdef"), len - 17);
        assert_true (id[i][17] != '0'); /* no leading zero */
    }
    assert_memory_equal (id[0], id[1], 17); /* one process, one prefix */
    unsigned long long a = strtoull (id[0] + 17, NULL, 16), b = strtoull (id[1] + 17, NULL, 16);
    assert_true (b > a); /* other loops may take numbers in between, never this one's again */
    s_readyz_id ("X-Request-Id: client-7:x\r\n", id[2]);
    assert_string_equal (id[2], "client-7:x");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_post_returns_event_location_and_get_returns_it),
        cmocka_unit_test (test_ids_are_distinct_random_v4),
        cmocka_unit_test (test_get_unknown_id_is_404_and_malformed_is_422),
        cmocka_unit_test (test_put_every_subset_updates_exactly_those_fields),
        cmocka_unit_test (test_put_moves_updated_at_and_keeps_created_at),
        cmocka_unit_test (test_list_keeps_creation_order_and_filters),
        cmocka_unit_test (test_list_limit_defaults_to_100_and_allows_1000),
        cmocka_unit_test (test_ping_healthz_readyz),
        cmocka_unit_test (test_io_threads_run_under_sched_batch),
        cmocka_unit_test (test_a_full_batch_goes_at_once_and_the_loop_yields),
        cmocka_unit_test (test_metrics_counters_move),
        cmocka_unit_test (test_openapi_and_docs),
        cmocka_unit_test (test_trailing_slash_is_accepted_everywhere),
        cmocka_unit_test (test_keepalive_reuses_one_connection),
        cmocka_unit_test (test_every_response_names_its_request_id),
        cmocka_unit_test (test_after_cursor_pages_through_everything),
    };
    return cmocka_run_group_tests (tests, gw_shared_setup, gw_shared_teardown);
}
