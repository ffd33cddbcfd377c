/* Unit tests for subscription.c that need no RabbitMQ: a delivery is a copy
   that outlives the envelope it came in (built here as amqp_consume_message
   fills one), and a subscription without a connection neither starts nor
   settles. Consuming, acks and dead-lettering are checked against a real
   node in tests/amqp/test_amqp_live.c. */
#include "amqp_raw.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

/* An envelope as amqp_consume_message hands it out: every part malloc'd or
   in the message's own pool, for amqp_destroy_envelope to free. */
static amqp_envelope_t
s_envelope (uint64_t tag, bool redelivered, const char *body)
{
    amqp_envelope_t env;
    memset (&env, 0, sizeof env);
    env.delivery_tag = tag;
    env.redelivered = redelivered;
    env.consumer_tag = amqp_bytes_malloc_dup (amqp_cstring_bytes ("ctag"));
    env.exchange = amqp_bytes_malloc_dup (amqp_cstring_bytes (BROKER_EXCHANGE));
    env.routing_key = amqp_bytes_malloc_dup (amqp_cstring_bytes (BROKER_CREATED_KEY));
    init_amqp_pool (&env.message.pool, 4096);
    env.message.body =
        *body ? amqp_bytes_malloc_dup (amqp_cstring_bytes ((char *)body)) : amqp_empty_bytes;
    return env;
}

static void
test_delivery_copies_the_body_and_frees_the_envelope (void **state)
{
    amqp_envelope_t env = s_envelope (42, true, "a notification");
    delivery_t delivery;
    assert_int_equal (delivery_take (&delivery, &env), 0);
    assert_int_equal (delivery.tag, 42);
    assert_true (delivery.redelivered);
    assert_int_equal (delivery.len, strlen ("a notification"));
    /* The envelope's body is freed by now (the sanitizers and valgrind
       would catch a delivery still pointing into it, or a leak). */
    assert_memory_equal (delivery.body, "a notification", delivery.len);
    delivery_release (&delivery);
    assert_null (delivery.body);
    assert_int_equal (delivery.len, 0);
    assert_int_equal (delivery.tag, 0);
    delivery_release (&delivery); /* harmless twice */

    env = s_envelope (1, false, "");
    assert_int_equal (delivery_take (&delivery, &env), 0);
    assert_int_equal (delivery.tag, 1);
    assert_false (delivery.redelivered);
    assert_int_equal (delivery.len, 0);
    assert_non_null (delivery.body); /* empty, but owned like any other */
    delivery_release (&delivery);
}

static void
test_subscription_needs_a_connection (void **state)
{
    broker_t *broker = broker_new ("amqp://u:p@example.invalid:5999/", 30);
    subscription_t *subscription = subscription_new (broker, BROKER_QUEUE, 8);
    assert_non_null (subscription);
    assert_int_equal (subscription_start (subscription), -1);
    delivery_t delivery = { 0 };
    const char *why = NULL;
    assert_int_equal (subscription_next (subscription, &delivery, &why), 0);
    assert_null (delivery.body);
    assert_int_equal (subscription_ack (subscription, 1, &why), -1);
    assert_string_equal (why, "not connected");
    why = NULL;
    assert_int_equal (subscription_reject (subscription, 1, &why), -1);
    assert_string_equal (why, "not connected");
    subscription_destroy (&subscription);
    assert_null (subscription);
    subscription_destroy (&subscription);
    broker_destroy (&broker);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_delivery_copies_the_body_and_frees_the_envelope),
        cmocka_unit_test (test_subscription_needs_a_connection),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
