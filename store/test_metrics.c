/* test_metrics — the store's /metrics text (store/metrics.h): every stat
   the stats op reports, journal ones included, has a Prometheus name; after
   a known workload the operation counters say exactly what happened, by op
   and result, and each operation that ran has its latency histogram. */
#include "metrics.h"
#include "persist.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char dir[64];
    dispatch_t *dispatch;
    persist_t *persist;
    msgpack_sbuffer request, out;
    uint64_t rid;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/test_metrics.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    proto_limits_t limits = proto_limits_default ();
    self->dispatch = dispatch_new (1000, &limits);
    assert_non_null (self->dispatch);
    persist_config_t config = { self->dir, JOURNAL_FSYNC_NO, 2, 1 << 30 };
    self->persist = persist_open (self->dispatch, &config);
    assert_non_null (self->persist);
    msgpack_sbuffer_init (&self->request);
    msgpack_sbuffer_init (&self->out);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    persist_destroy (&self->persist);
    dispatch_destroy (&self->dispatch);
    msgpack_sbuffer_destroy (&self->request);
    msgpack_sbuffer_destroy (&self->out);
    char cmd[96];
    snprintf (cmd, sizeof cmd, "rm -rf %s", self->dir);
    assert_int_equal (system (cmd), 0);
    free (self);
    return 0;
}

static void
s_call (fixture_t *self, proto_request_t *req)
{
    req->rid = ++self->rid;
    msgpack_sbuffer_clear (&self->request);
    assert_int_equal (proto_request_encode (req, &self->request), 0);
    dispatch_frame (self->dispatch, self->request.data, self->request.size, &self->out);
    assert_true (self->out.size > 0);
}

static char *
s_render (fixture_t *self)
{
    size_t len = 0;
    char *text = store_metrics_render (&(store_metrics_t){ self->dispatch, self->persist }, &len);
    assert_non_null (text);
    assert_int_equal (strlen (text), len);
    return text;
}

static void
test_every_stat_has_a_prometheus_name (void **state)
{
    fixture_t *self = *state;
    size_t n = 0;
    const proto_stat_t *stats = dispatch_stats (self->dispatch, &n);
    assert_true (n > 20); /* the journal's are there too */
    for (size_t i = 0; i < n; i++)
        if (!store_metrics_knows (stats[i].name.ptr, stats[i].name.len))
            fail_msg ("stat %.*s has no Prometheus name in store/metrics.c", (int)stats[i].name.len,
                      stats[i].name.ptr);
    char *text = s_render (self);
    assert_non_null (strstr (text, "# TYPE herald_store_journal_sync_seconds_total counter\n"));
    assert_non_null (strstr (text, "# TYPE herald_store_feed_length gauge\n"));
    free (text);
}

static void
test_operations_are_counted_by_op_and_result (void **state)
{
    fixture_t *self = *state;
    proto_request_t create = { .op = PROTO_OP_CREATE,
                               .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                               .user_id = { "u", 1 },
                               .description = { "d", 1 } };
    for (int i = 0; i < 3; i++)
        s_call (self, &create);
    proto_request_t get = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    memset (get.event_id, 0x42, 16);
    get.event_id[6] = 0x4f; /* version 4 */
    get.event_id[8] = 0x8f; /* variant 10 */
    s_call (self, &get);
    s_call (self, &get);
    /* not a request at all */
    dispatch_frame (self->dispatch, "\xc1", 1, &self->out);
    char *text = s_render (self);
    assert_non_null (
        strstr (text, "herald_store_operations_total{op=\"create\",result=\"ok\"} 3\n"));
    assert_non_null (
        strstr (text, "herald_store_operations_total{op=\"get\",result=\"not_found\"} 2\n"));
    assert_non_null (
        strstr (text, "herald_store_operations_total{op=\"none\",result=\"malformed\"} 1\n"));
    assert_null (strstr (text, "op=\"update\""));
    assert_non_null (
        strstr (text, "herald_store_operation_duration_seconds_count{op=\"create\"} 3\n"));
    assert_non_null (
        strstr (text, "herald_store_operation_duration_seconds_count{op=\"get\"} 2\n"));
    assert_non_null (strstr (text, "herald_store_events 3\n"));
    assert_non_null (strstr (text, "herald_store_feed_length 3\n"));
    assert_non_null (strstr (text, "herald_store_requests_total 6\n"));
    assert_non_null (strstr (text, "herald_store_errors_total 3\n"));
    free (text);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_every_stat_has_a_prometheus_name, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_operations_are_counted_by_op_and_result, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
