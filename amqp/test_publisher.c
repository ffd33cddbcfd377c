/* Unit tests for publisher.c that need no RabbitMQ: a publisher whose
   broker is not connected refuses to start or publish, names why, and has
   nothing to read. Tag numbering and confirms (ack, returned) are checked
   against a real node in tests/amqp/test_amqp_live.c. */
#include "publisher.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static void
test_publisher_refuses_to_publish_without_a_connection (void **state)
{
    broker_t *broker = broker_new ("amqp://u:p@example.invalid:5999/", 30);
    publisher_t *publisher = publisher_new (broker, "herald-test");
    assert_non_null (publisher);
    assert_int_equal (publisher_start (publisher), -1);
    publisher_message_t message = { .routing_key = BROKER_CREATED_KEY,
                                    .body = "x",
                                    .len = 1,
                                    .message_id = "id:1",
                                    .mandatory = true };
    const char *why = NULL;
    assert_int_equal (publisher_publish (publisher, &message, &why), -1);
    assert_string_equal (why, "not connected");
    publisher_event_t event = { 0 };
    why = NULL;
    assert_int_equal (publisher_poll (publisher, &event, &why), 0);
    assert_null (why);
    publisher_destroy (&publisher);
    assert_null (publisher);
    publisher_destroy (&publisher);
    assert_false (broker_connected (broker)); /* the broker is left alone */
    broker_destroy (&broker);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_publisher_refuses_to_publish_without_a_connection),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
