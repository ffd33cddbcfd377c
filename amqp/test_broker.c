/* Unit tests for broker.c that need no RabbitMQ: the node list and the
   round robin over it (attempts at closed loopback ports), the retry
   delays, the disconnected state and what a frame means (broker_frame_kind,
   on frames built here as rabbitmq-c decodes them). URLs and the password
   file: test_broker_url.c. Connecting and the
   topology are exercised against a real node in tests/e2e/test_e2e_delivery.c
   and tests/amqp/test_amqp_live.c, the password file and the per-service
   users in tests/broker/test_broker_users.sh. */
#include "amqp_raw.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static void
test_broker_refuses_what_is_not_a_url_list (void **state)
{
    assert_null (broker_new ("nope", 30));
    assert_null (broker_new ("amqp://h/,,amqp://h2/", 30));
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
    assert_false (broker_has_buffered (broker));
    broker_disconnect (broker); /* harmless when not connected */
    int64_t first = broker_retry_delay_ms (broker);
    assert_true (first >= BROKER_RETRY_INITIAL_MS / 2 && first <= BROKER_RETRY_INITIAL_MS);
    for (int i = 0; i < 20; i++)
        assert_true (broker_retry_delay_ms (broker) <= BROKER_RETRY_MAX_MS);
    broker_destroy (&broker);
    assert_null (broker);
    broker_destroy (&broker);
}

static amqp_frame_t
s_method (amqp_method_number_t id, void *decoded)
{
    amqp_frame_t frame = { .frame_type = AMQP_FRAME_METHOD, .channel = BROKER_CHANNEL };
    frame.payload.method.id = id;
    frame.payload.method.decoded = decoded;
    return frame;
}

static void
test_broker_reads_tag_and_multiple_of_acks_and_nacks (void **state)
{
    amqp_basic_ack_t ack = { .delivery_tag = 7, .multiple = 1 };
    amqp_frame_t frame = s_method (AMQP_BASIC_ACK_METHOD, &ack);
    uint64_t tag = 0;
    bool multiple = false;
    assert_int_equal (broker_frame_kind (&frame, &tag, &multiple), BROKER_FRAME_ACK);
    assert_int_equal (tag, 7);
    assert_true (multiple);

    amqp_basic_nack_t nack = { .delivery_tag = 9, .multiple = 0, .requeue = 1 };
    frame = s_method (AMQP_BASIC_NACK_METHOD, &nack);
    assert_int_equal (broker_frame_kind (&frame, &tag, &multiple), BROKER_FRAME_NACK);
    assert_int_equal (tag, 9);
    assert_false (multiple);
    /* The out parameters are optional. */
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_NACK);
}

static void
test_broker_tells_returns_cancels_closes_and_blocks_from_the_rest (void **state)
{
    amqp_basic_return_t ret = { .reply_code = 312 };
    amqp_basic_cancel_t cancel = { 0 };
    amqp_channel_close_t channel_close = { .reply_code = 406 };
    amqp_connection_close_t connection_close = { .reply_code = 320 };
    amqp_basic_deliver_t deliver = { .delivery_tag = 3 };
    amqp_frame_t frame = s_method (AMQP_BASIC_RETURN_METHOD, &ret);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_RETURN);
    frame = s_method (AMQP_BASIC_CANCEL_METHOD, &cancel);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_CANCEL);
    frame = s_method (AMQP_CHANNEL_CLOSE_METHOD, &channel_close);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_CLOSE);
    frame = s_method (AMQP_CONNECTION_CLOSE_METHOD, &connection_close);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_CLOSE);
    amqp_connection_blocked_t blocked = { .reason = amqp_cstring_bytes ("low on memory") };
    frame = s_method (AMQP_CONNECTION_BLOCKED_METHOD, &blocked);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_BLOCKED);
    frame = s_method (AMQP_CONNECTION_UNBLOCKED_METHOD, NULL);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_UNBLOCKED);

    /* A delivery is not an ack, whatever its tag; content frames are not
       methods at all. Neither touches the out parameters. */
    uint64_t tag = 55;
    bool multiple = true;
    frame = s_method (AMQP_BASIC_DELIVER_METHOD, &deliver);
    assert_int_equal (broker_frame_kind (&frame, &tag, &multiple), BROKER_FRAME_OTHER);
    amqp_frame_t header = { .frame_type = AMQP_FRAME_HEADER, .channel = BROKER_CHANNEL };
    assert_int_equal (broker_frame_kind (&header, &tag, &multiple), BROKER_FRAME_OTHER);
    amqp_frame_t body = { .frame_type = AMQP_FRAME_BODY, .channel = BROKER_CHANNEL };
    assert_int_equal (broker_frame_kind (&body, &tag, &multiple), BROKER_FRAME_OTHER);
    assert_int_equal (tag, 55);
    assert_true (multiple);

    /* Without a connection there is nobody to answer a close. */
    broker_t *broker = broker_new ("amqp://u:p@example.invalid:5999/", 30);
    frame = s_method (AMQP_CHANNEL_CLOSE_METHOD, &channel_close);
    assert_int_equal (broker_handle_close (broker, &frame), 0);
    broker_destroy (&broker);
}

static void
test_broker_fails_over_round_robin (void **state)
{
    /* Three nodes, none listening: each failed attempt moves to the next,
       and after the last comes the first again. */
    int ports[3];
    for (int i = 0; i < 3; i++) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = { .sin_family = AF_INET,
                                    .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
        socklen_t len = sizeof addr;
        assert_int_equal (bind (fd, (struct sockaddr *)&addr, len), 0);
        assert_int_equal (getsockname (fd, (struct sockaddr *)&addr, &len), 0);
        ports[i] = ntohs (addr.sin_port);
        close (fd); /* bound, never listening: connections are refused */
    }
    char list[256];
    snprintf (list, sizeof list,
              "amqp://u:p@127.0.0.1:%d/,amqp://u:p@127.0.0.1:%d/herald,"
              "amqp://u:p@localhost:%d",
              ports[0], ports[1], ports[2]);
    broker_t *broker = broker_new (list, 30);
    assert_non_null (broker);
    assert_int_equal (broker_nodes (broker), 3);
    const int expected[] = { 0, 1, 2, 0, 1 };
    for (int i = 0; i < 5; i++) {
        assert_int_equal (broker_node (broker), expected[i]);
        assert_int_equal (broker_port (broker), ports[expected[i]]);
        assert_string_equal (broker_host (broker), expected[i] == 2 ? "localhost" : "127.0.0.1");
        assert_int_equal (broker_connect (broker), -1);
        assert_false (broker_connected (broker));
    }
    broker_destroy (&broker);

    /* One URL: always that node. */
    snprintf (list, sizeof list, "amqp://u:p@127.0.0.1:%d/", ports[0]);
    broker = broker_new (list, 30);
    assert_int_equal (broker_nodes (broker), 1);
    assert_int_equal (broker_connect (broker), -1);
    assert_int_equal (broker_node (broker), 0);
    broker_drop (broker);
    assert_int_equal (broker_node (broker), 0);
    broker_destroy (&broker);
}

static void
test_broker_waits_longer_after_a_lost_connection (void **state)
{
    /* Without a connection lost, the first delays are the backoff's alone
       (100, 200, 400, 800 ms ceilings). The extra wait after a loss needs a
       connection: test_e2e_cluster fails without it (a channel opened on a
       survivor before the quorum queue's new leader is known stays stuck). */
    broker_t *broker = broker_new ("amqp://u:p@example.invalid:5999/", 30);
    for (int i = 0; i < 4; i++)
        assert_true (broker_retry_delay_ms (broker) <= BROKER_RETRY_INITIAL_MS << i);
    broker_destroy (&broker);
}

static void
test_broker_queue_args_default_to_classic (void **state)
{
    broker_t *broker = broker_new ("amqp://u:p@example.invalid:5999/", 30);
    const broker_queue_args_t *args = broker_queue_args (broker);
    assert_int_equal (args->type, BROKER_QUEUE_CLASSIC);
    assert_int_equal (args->max, BROKER_QUEUE_MAX_DEFAULT);
    assert_int_equal (args->delivery_limit, BROKER_DELIVERY_LIMIT_DEFAULT);
    broker_queue_args_t quorum = { .max = 0, .type = BROKER_QUEUE_QUORUM, .delivery_limit = 3 };
    broker_set_queue_args (broker, &quorum);
    assert_int_equal (broker_queue_args (broker)->type, BROKER_QUEUE_QUORUM);
    assert_int_equal (broker_queue_args (broker)->delivery_limit, 3);
    broker_set_queue_max (broker, 7);
    assert_int_equal (broker_queue_args (broker)->max, 7);
    assert_string_equal (broker_queue_type_name (BROKER_QUEUE_QUORUM), "quorum");
    assert_string_equal (broker_queue_type_name (BROKER_QUEUE_CLASSIC), "classic");
    broker_destroy (&broker);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_broker_refuses_what_is_not_a_url_list),
        cmocka_unit_test (test_broker_parses_host_port_and_starts_disconnected),
        cmocka_unit_test (test_broker_reads_tag_and_multiple_of_acks_and_nacks),
        cmocka_unit_test (test_broker_tells_returns_cancels_closes_and_blocks_from_the_rest),
        cmocka_unit_test (test_broker_fails_over_round_robin),
        cmocka_unit_test (test_broker_waits_longer_after_a_lost_connection),
        cmocka_unit_test (test_broker_queue_args_default_to_classic),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
