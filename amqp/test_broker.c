/* Unit tests for broker.c that need no RabbitMQ: URL handling and the
   disconnected state. Connecting and the topology are exercised against a
   real node in tests/e2e/test_e2e_delivery.c. */
#include "broker.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static void
test_broker_accepts_amqp_urls (void **state)
{
    char err[256];
    assert_int_equal (broker_url_check ("amqp://guest:guest@127.0.0.1:5672/", err, sizeof err), 0);
    assert_int_equal (broker_url_check ("amqp://u:p@rabbit:5673/herald", err, sizeof err), 0);
    assert_int_equal (broker_url_check ("amqp://localhost", err, sizeof err), 0);
}

static void
test_broker_rejects_non_amqp_urls (void **state)
{
    char err[256] = "";
    assert_int_equal (broker_url_check ("http://127.0.0.1:5672/", err, sizeof err), -1);
    assert_non_null (strstr (err, "not an AMQP URL"));
    assert_int_equal (broker_url_check ("", err, sizeof err), -1);
    assert_int_equal (broker_url_check ("amqp://h:notaport/", err, sizeof err), -1);
    assert_int_equal (broker_url_check ("amqps://h/", err, sizeof err), -1);
    assert_null (broker_new ("nope", 30));
}

static void
test_broker_parses_host_port_and_starts_disconnected (void **state)
{
    broker_t *broker = broker_new ("amqp://u:p@example.invalid:5999/", 30);
    assert_non_null (broker);
    assert_string_equal (broker_host (broker), "example.invalid");
    assert_int_equal (broker_port (broker), 5999);
    assert_false (broker_connected (broker));
    assert_null (broker_conn (broker));
    assert_int_equal (broker_fd (broker), -1);
    broker_disconnect (broker); /* harmless when not connected */
    int64_t first = broker_retry_delay_ms (broker);
    assert_true (first >= BROKER_RETRY_INITIAL_MS / 2 && first <= BROKER_RETRY_INITIAL_MS);
    for (int i = 0; i < 20; i++)
        assert_true (broker_retry_delay_ms (broker) <= BROKER_RETRY_MAX_MS);
    broker_destroy (&broker);
    assert_null (broker);
    broker_destroy (&broker);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_broker_accepts_amqp_urls),
        cmocka_unit_test (test_broker_rejects_non_amqp_urls),
        cmocka_unit_test (test_broker_parses_host_port_and_starts_disconnected),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
