/*
 * test_store_metrics — the real herald-store's /metrics (--metrics-listen,
 * issue 18) over HTTP, parsed by prometheus_client's strict text parser:
 * after a known workload the counters say exactly what happened (creates,
 * not-found gets, a malformed frame, events held, the feed, the journal);
 * a non-loopback metrics address is refused in protected mode with a
 * clear message and exit 1, and served with --metrics-insecure.
 */
#include "durable_client.h"
#include "scrape.h"

#include <math.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define CREATES 50

static void
test_store_metrics_count_exactly_what_happened (void **state)
{
    fixture_t *self = *state;
    int port = harness_free_port ();
    char listen[64];
    snprintf (listen, sizeof listen, "127.0.0.1:%d", port);
    const char *const args[] = { "--fsync", "always", "--metrics-listen", listen, NULL };
    dc_start (self, args);
    assert_int_equal (harness_wait_tcp (port, TIMEOUT_MS), 0);
    for (int i = 0; i < CREATES; i++)
        assert_int_equal (dc_create (self, "u", "counted")->status, PROTO_OK);
    uint8_t unknown[16];
    memset (unknown, 0x42, 16);
    unknown[6] = 0x4f;
    unknown[8] = 0x8f;
    assert_int_equal (dc_get (self, unknown)->status, PROTO_E_NOT_FOUND);
    assert_int_equal (dc_get (self, unknown)->status, PROTO_E_NOT_FOUND);
    assert_int_equal (zsock_send (self->dealer, "s", "not msgpack"), 0);
    assert_int_equal (dc_recv (self)->status, PROTO_E_MALFORMED);

    scrape_t m = { 0 };
    assert_int_equal (scrape_metrics (port, &m), 0);
    assert_true (scrape_value (&m, "herald_store_operations_total{op=\"create\",result=\"ok\"}")
                 == CREATES);
    assert_true (scrape_value (&m, "herald_store_operations_total{op=\"get\",result=\"not_found\"}")
                 == 2);
    assert_true (
        scrape_value (&m, "herald_store_operations_total{op=\"none\",result=\"malformed\"}") == 1);
    assert_true (
        isnan (scrape_value (&m, "herald_store_operations_total{op=\"update\",result=\"ok\"}")));
    assert_true (scrape_value (&m, "herald_store_operation_duration_seconds_count{op=\"create\"}")
                 == CREATES);
    assert_true (
        scrape_value (&m,
                      "herald_store_operation_duration_seconds_bucket{le=\"+Inf\",op=\"create\"}")
        == CREATES);
    assert_true (scrape_value (&m, "herald_store_events") == CREATES);
    assert_true (scrape_value (&m, "herald_store_feed_length") == CREATES);
    assert_true (scrape_value (&m, "herald_store_feed_head") == CREATES);
    assert_true (scrape_value (&m, "herald_store_feed_acknowledged") == 0);
    assert_true (scrape_value (&m, "herald_store_requests_total") == CREATES + 3);
    /* the new data dir's header record, then one per create */
    assert_true (scrape_value (&m, "herald_store_journal_records_total") == CREATES + 1);
    /* fsync always: one sync per commit, each create its own commit here */
    assert_true (scrape_value (&m, "herald_store_journal_syncs_total") >= 1);
    assert_true (scrape_value (&m, "herald_store_journal_sync_seconds_total") > 0);
    assert_true (scrape_value (&m, "herald_store_journal_sync_duration_seconds_count")
                 == scrape_value (&m, "herald_store_journal_syncs_total"));
    assert_true (scrape_value (&m, "herald_store_resident_memory_bytes") > 1000000);
    /* each scrape renders afresh */
    assert_int_equal (dc_create (self, "u", "one more")->status, PROTO_OK);
    assert_int_equal (scrape_metrics (port, &m), 0);
    assert_true (scrape_value (&m, "herald_store_events") == CREATES + 1);
    scrape_clear (&m);
}

static void
test_store_refuses_a_public_metrics_address_without_insecure (void **state)
{
    fixture_t *self = *state;
    char listen[64];
    snprintf (listen, sizeof listen, "0.0.0.0:%d", harness_free_port ());
    const char *const args[] = { "--metrics-listen", listen, NULL };
    dc_spawn (self, args, NULL);
    assert_int_equal (dc_wait_exit (self), 1);
    assert_int_equal (harness_count_lines (self->log, "protected mode: refusing to serve metrics"),
                      1);
    /* --metrics-insecure opens it (and nothing else: the store's own binds
       stay on loopback here) */
    int port = harness_free_port ();
    snprintf (listen, sizeof listen, "0.0.0.0:%d", port);
    const char *const open_args[] = { "--metrics-listen", listen, "--metrics-insecure", NULL };
    dc_start (self, open_args);
    assert_int_equal (harness_wait_tcp (port, TIMEOUT_MS), 0);
    scrape_t m = { 0 };
    assert_int_equal (scrape_metrics (port, &m), 0);
    assert_true (scrape_value (&m, "herald_store_events") == 0);
    scrape_clear (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_store_metrics_count_exactly_what_happened, dc_setup,
                                         dc_teardown),
        cmocka_unit_test_setup_teardown (
            test_store_refuses_a_public_metrics_address_without_insecure, dc_setup, dc_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
