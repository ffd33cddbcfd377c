/*
 * amqp/ against a private RabbitMQ node, without the services: publish tags
 * and the confirms that name them, publishes queued and sent by one flush
 * arriving whole with their properties, and sent by themselves once the
 * flush size is queued, a mandatory publish returned, deliveries
 * acked, rejected into the dead-letter queue and redelivered after a drop,
 * acks flushed together settling exactly the deliveries acked,
 * a channel the server closes turned into an error, and a broker that
 * goes silent (frozen) found by the heartbeat on both sides. The e2e tests see
 * these only through the notifier's and the worker's behaviour; here each
 * is pinned where it is implemented. One node serves every test; each test
 * starts from empty queues.
 */
#include "amqp_raw.h"
#include "harness.h"
#include "publisher.h"
#include "subscription.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 10000

static harness_rabbit_t s_rabbit;

static int
s_setup (void **state)
{
    return harness_rabbit_start (&s_rabbit);
}

static int
s_teardown (void **state)
{
    return harness_rabbit_stop (&s_rabbit);
}

/* A connected broker with both of Herald's queues empty. */
static broker_t *
s_broker (void)
{
    broker_t *broker = broker_new (s_rabbit.url, 10);
    assert_non_null (broker);
    assert_int_equal (broker_connect (broker), 0);
    amqp_connection_state_t conn = broker_conn (broker);
    amqp_queue_purge (conn, BROKER_CHANNEL, amqp_cstring_bytes (BROKER_QUEUE));
    assert_int_equal (broker_rpc_check (amqp_get_rpc_reply (conn), "purge"), 0);
    amqp_queue_purge (conn, BROKER_CHANNEL, amqp_cstring_bytes (BROKER_DEAD_QUEUE));
    assert_int_equal (broker_rpc_check (amqp_get_rpc_reply (conn), "purge"), 0);
    return broker;
}

/* Messages in queue, read on a connection of its own. */
static long
s_depth (const char *queue)
{
    broker_t *broker = broker_new (s_rabbit.url, 10);
    long depth = -1;
    if (broker_connect (broker) == 0) {
        amqp_queue_declare_ok_t *ok =
            amqp_queue_declare (broker_conn (broker), BROKER_CHANNEL, amqp_cstring_bytes (queue), 1,
                                0, 0, 0, amqp_empty_table);
        depth = ok ? (long)ok->message_count : -1;
        broker_disconnect (broker);
    }
    broker_destroy (&broker);
    return depth;
}

/* Waits for the broker's socket (or buffered frames), at most ms. */
static void
s_wait_readable (broker_t *broker, int ms)
{
    if (broker_has_buffered (broker))
        return;
    struct pollfd item = { broker_fd (broker), POLLIN, 0 };
    poll (&item, 1, ms);
}

/* The next confirm event within WAIT_MS: 1, or what publisher_poll said. */
static int
s_next_event (broker_t *broker, publisher_t *publisher, publisher_event_t *event, const char **why)
{
    int64_t until = clock_mono_ms () + WAIT_MS;
    int rc;
    while ((rc = publisher_poll (publisher, event, why)) == 0 && clock_mono_ms () < until)
        s_wait_readable (broker, 50);
    return rc;
}

/* The next delivery within WAIT_MS: 1, or what subscription_next said. */
static int
s_next_delivery (broker_t *broker, subscription_t *subscription, delivery_t *delivery,
                 const char **why)
{
    int64_t until = clock_mono_ms () + WAIT_MS;
    int rc;
    while ((rc = subscription_next (subscription, delivery, why)) == 0 && clock_mono_ms () < until)
        s_wait_readable (broker, 50);
    return rc;
}

/* subscription_flush: the deliveries its frames acked, or -1. */
static int
s_flushed (subscription_t *subscription)
{
    size_t sent = 99;
    const char *why = NULL;
    return subscription_flush (subscription, &sent, &why) == 0 ? (int)sent : -1;
}

/* Drops the connection, connects and subscribes again, and takes the one
   delivery that comes back: redelivered, with body. Notes its ack. */
static void
s_drop_and_ack_redelivered (broker_t *broker, subscription_t *subscription, const char *body)
{
    const char *why = NULL;
    broker_drop (broker);
    assert_int_equal (broker_connect (broker), 0);
    assert_int_equal (subscription_start (subscription), 0);
    delivery_t again;
    assert_int_equal (s_next_delivery (broker, subscription, &again, &why), 1);
    assert_true (again.redelivered);
    assert_int_equal (again.len, strlen (body));
    assert_memory_equal (again.body, body, again.len);
    assert_int_equal (subscription_ack (subscription, again.tag, &why), 0);
    delivery_release (&again);
}

static int64_t
s_publish (publisher_t *publisher, const char *key, const char *body, bool mandatory)
{
    publisher_message_t message = { .routing_key = key,
                                    .body = body,
                                    .len = strlen (body),
                                    .message_id = "test:1",
                                    .timestamp = 1764000000,
                                    .mandatory = mandatory };
    const char *why = NULL;
    int64_t tag = publisher_publish (publisher, &message, &why);
    if (tag < 0)
        print_error ("publish failed: %s\n", why);
    return tag;
}

/* publisher_flush: 0, or -1 (printed). */
static int
s_flush (publisher_t *publisher)
{
    const char *why = NULL;
    int rc = publisher_flush (publisher, &why);
    if (rc != 0)
        print_error ("flush failed: %s\n", why);
    return rc;
}

/* Waits until the broker has confirmed every tag up to last (acks only). */
static void
s_confirmed_upto (broker_t *broker, publisher_t *publisher, uint64_t last)
{
    uint64_t low = 0; /* every tag <= low acked; single acks may come out of order */
    bool *acked = calloc ((size_t)last + 1, sizeof *acked);
    assert_non_null (acked);
    while (low < last) {
        publisher_event_t event;
        const char *why = NULL;
        assert_int_equal (s_next_event (broker, publisher, &event, &why), 1);
        assert_int_equal (event.kind, PUBLISHER_ACK);
        assert_true (event.tag >= 1 && event.tag <= last);
        for (uint64_t t = event.multiple ? 1 : event.tag; t <= event.tag; t++)
            acked[t] = true;
        while (low < last && acked[low + 1])
            low++;
    }
    free (acked);
}

/* Takes the next message of queue with basic.get (NULL body: none). The
   caller frees the body and destroys the message. */
static bool
s_get (broker_t *broker, const char *queue, amqp_message_t *message)
{
    amqp_connection_state_t conn = broker_conn (broker);
    amqp_rpc_reply_t r = amqp_basic_get (conn, BROKER_CHANNEL, amqp_cstring_bytes (queue), 1);
    assert_int_equal (r.reply_type, AMQP_RESPONSE_NORMAL);
    if (r.reply.id != AMQP_BASIC_GET_OK_METHOD)
        return false;
    r = amqp_read_message (conn, BROKER_CHANNEL, message, 0);
    assert_int_equal (r.reply_type, AMQP_RESPONSE_NORMAL);
    return true;
}

static bool
s_bytes_equal (amqp_bytes_t bytes, const char *text)
{
    return bytes.len == strlen (text)
           && (bytes.len == 0 || memcmp (bytes.bytes, text, bytes.len) == 0);
}

/* Waits until queue holds want messages, at most WAIT_MS; returns the depth seen last. */
static long
s_wait_depth (const char *queue, long want)
{
    int64_t until = clock_mono_ms () + WAIT_MS;
    long depth;
    while ((depth = s_depth (queue)) != want && clock_mono_ms () < until)
        harness_nap_ms (20);
    return depth;
}

/* A persistent, mandatory event.created publish whose body is S_BIG_BODY
   bytes of fill (one buffer, shared by every call). */
#define S_BIG_BODY (16 * 1024)
static publisher_message_t
s_big_message (char fill, const char *message_id)
{
    static char body[S_BIG_BODY];
    memset (body, fill, sizeof body);
    return (publisher_message_t){ .routing_key = BROKER_CREATED_KEY,
                                  .body = body,
                                  .len = sizeof body,
                                  .message_id = message_id,
                                  .timestamp = 1764000000,
                                  .mandatory = true };
}

static void
test_a_flush_sends_every_queued_publish_whole_and_in_order (void **state)
{
    broker_t *broker = s_broker ();
    publisher_t *publisher = publisher_new (broker, "herald-test");
    assert_int_equal (publisher_start (publisher), 0);
    /* 40 small publishes, one with an empty body, one whose strings take a
       short string's 255 bytes, and one body that needs two body frames
       (frame_max is 128 KiB by default): under PUBLISHER_FLUSH_BYTES in all,
       so nothing leaves before the flush. */
    enum { N = 41, EMPTY = 10, BIG = 20, LONG = 30 };
    size_t big_len = (size_t)amqp_get_frame_max (broker_conn (broker)) + 123;
    char *big = malloc (big_len + 1);
    assert_non_null (big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)('a' + i % 26);
    big[big_len] = '\0';
    char long_text[256];
    memset (long_text, 'm', 255);
    long_text[255] = '\0';
    char bodies[N][16], ids[N][256];
    for (int i = 0; i < N; i++) {
        snprintf (bodies[i], sizeof bodies[i], i == EMPTY ? "" : "body %d", i);
        snprintf (ids[i], sizeof ids[i], "%s", i == LONG ? long_text : "test:");
        if (i != LONG)
            snprintf (ids[i] + 5, sizeof ids[i] - 5, "%d", i);
        publisher_message_t message = {
            .routing_key = BROKER_CREATED_KEY,
            .body = i == BIG ? big : bodies[i],
            .len = i == BIG ? big_len : strlen (bodies[i]),
            .message_id = ids[i],
            .correlation_id = i == LONG ? long_text
                              : i % 2   ? "req-odd"
                                        : NULL,
            .timestamp = 1764000000 + (uint64_t)i,
            .mandatory = true,
        };
        const char *why = NULL;
        assert_int_equal (publisher_publish (publisher, &message, &why), i + 1);
    }
    harness_nap_ms (100); /* time enough to be routed, had any been sent */
    assert_int_equal (s_depth (BROKER_QUEUE), 0);
    assert_int_equal (s_flush (publisher), 0);
    s_confirmed_upto (broker, publisher, N);

    /* Each arrives whole, in order, with the properties amqp_basic_publish
       would have sent. */
    for (int i = 0; i < N; i++) {
        amqp_message_t message;
        assert_true (s_get (broker, BROKER_QUEUE, &message));
        if (i == BIG) {
            assert_int_equal (message.body.len, big_len);
            assert_memory_equal (message.body.bytes, big, big_len);
        } else
            assert_true (s_bytes_equal (message.body, bodies[i]));
        amqp_basic_properties_t *p = &message.properties;
        assert_true (s_bytes_equal (p->message_id, ids[i]));
        assert_true (s_bytes_equal (p->content_type, PUBLISHER_CONTENT_TYPE));
        assert_true (s_bytes_equal (p->type, BROKER_CREATED_KEY));
        assert_true (s_bytes_equal (p->app_id, "herald-test"));
        assert_int_equal (p->delivery_mode, AMQP_DELIVERY_PERSISTENT);
        assert_int_equal (p->timestamp, 1764000000 + (uint64_t)i);
        bool has_correlation = i == LONG || i % 2;
        assert_int_equal ((p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG) != 0, has_correlation);
        if (has_correlation)
            assert_true (s_bytes_equal (p->correlation_id, i == LONG ? long_text : "req-odd"));
        amqp_destroy_message (&message);
    }
    amqp_message_t none;
    assert_false (s_get (broker, BROKER_QUEUE, &none));
    free (big);
    publisher_destroy (&publisher);
    broker_disconnect (broker);
    broker_destroy (&broker);
}

static void
test_publishes_leave_by_themselves_once_the_flush_size_is_queued (void **state)
{
    broker_t *broker = s_broker ();
    publisher_t *publisher = publisher_new (broker, "herald-test");
    assert_int_equal (publisher_start (publisher), 0);
    /* Each publish is its body and a little over 100 bytes of frames, so
       the FULL-th is the first to take the output past the flush size. */
    enum { FULL = PUBLISHER_FLUSH_BYTES / S_BIG_BODY };
    publisher_message_t message = s_big_message ('b', "test:big");
    const char *why = NULL;
    /* The publish that takes the output past PUBLISHER_FLUSH_BYTES sends
       all of it, with no flush or poll from the caller... */
    for (int i = 1; i <= FULL; i++)
        assert_int_equal (publisher_publish (publisher, &message, &why), i);
    assert_int_equal (s_wait_depth (BROKER_QUEUE, FULL), FULL);
    /* ...and the next one waits for the caller's flush again. */
    assert_int_equal (publisher_publish (publisher, &message, &why), FULL + 1);
    harness_nap_ms (100);
    assert_int_equal (s_depth (BROKER_QUEUE), FULL);
    assert_int_equal (s_flush (publisher), 0);
    s_confirmed_upto (broker, publisher, FULL + 1);
    assert_int_equal (s_depth (BROKER_QUEUE), FULL + 1);
    publisher_destroy (&publisher);
    broker_disconnect (broker);
    broker_destroy (&broker);
}

/* Sets RabbitMQ's memory high watermark: at 0 its memory alarm goes off
   and it blocks every publishing connection; 0.4 is the default. */
static int
s_memory_watermark (const char *fraction)
{
    char args[64], out[512];
    snprintf (args, sizeof args, "set_vm_memory_high_watermark %s", fraction);
    return harness_rabbitmqctl (&s_rabbit, args, out, sizeof out);
}

static int
s_end_alarm (void **state)
{
    return s_memory_watermark ("0.4");
}

static void
test_publishes_are_held_while_the_broker_blocks_the_connection (void **state)
{
    broker_t *broker = s_broker ();
    publisher_t *publisher = publisher_new (broker, "herald-test");
    assert_int_equal (publisher_start (publisher), 0);
    enum { HELD = 800 }; /* 12.8 MB: more than loopback's socket buffers take */
    publisher_message_t message = s_big_message ('h', "test:held");
    const char *why = NULL;

    /* In the alarm, the first publish is read, and the broker then blocks
       the connection and says so. */
    assert_int_equal (s_memory_watermark ("0"), 0);
    assert_int_equal (publisher_publish (publisher, &message, &why), 1);
    assert_int_equal (s_flush (publisher), 0);
    int64_t until = clock_mono_ms () + WAIT_MS;
    publisher_event_t event;
    while (!publisher_blocked (publisher) && clock_mono_ms () < until) {
        assert_int_equal (publisher_poll (publisher, &event, &why), 0);
        s_wait_readable (broker, 50);
    }
    assert_true (publisher_blocked (publisher));

    /* Far more than the socket takes: nothing is written, so neither the
       publishes (whose flush by size would otherwise wait out
       PUBLISHER_SEND_TIMEOUT_MS and fail) nor the flush wait. */
    for (int i = 2; i <= HELD + 1; i++)
        assert_int_equal (publisher_publish (publisher, &message, &why), i);
    assert_int_equal (s_flush (publisher), 0);
    assert_int_equal (publisher_poll (publisher, &event, &why), 0);
    assert_true (publisher_blocked (publisher));
    assert_int_equal (s_depth (BROKER_QUEUE), 0);

    /* The alarm ends: connection.unblocked, and every held publish leaves,
       is confirmed and arrives whole. */
    assert_int_equal (s_memory_watermark ("0.4"), 0);
    s_confirmed_upto (broker, publisher, HELD + 1);
    assert_false (publisher_blocked (publisher));
    assert_int_equal (s_wait_depth (BROKER_QUEUE, HELD + 1), HELD + 1);
    amqp_message_t got;
    assert_true (s_get (broker, BROKER_QUEUE, &got));
    assert_int_equal (got.body.len, S_BIG_BODY);
    assert_memory_equal (got.body.bytes, message.body, S_BIG_BODY);
    amqp_destroy_message (&got);
    publisher_destroy (&publisher);
    broker_disconnect (broker);
    broker_destroy (&broker);
}

static void
test_publishes_are_numbered_from_one_per_connection_and_confirmed (void **state)
{
    broker_t *broker = s_broker ();
    publisher_t *publisher = publisher_new (broker, "herald-test");
    for (int round = 0; round < 2; round++) {
        assert_int_equal (publisher_start (publisher), 0);
        for (int64_t i = 1; i <= 3; i++)
            assert_int_equal (s_publish (publisher, BROKER_CREATED_KEY, "x", true), i);
        /* Acks (single or multiple, in any order) cover 1..3 and nothing
           else. */
        bool acked[4] = { false };
        while (!(acked[1] && acked[2] && acked[3])) {
            publisher_event_t event;
            const char *why = NULL;
            assert_int_equal (s_next_event (broker, publisher, &event, &why), 1);
            assert_int_equal (event.kind, PUBLISHER_ACK);
            assert_in_range (event.tag, 1, 3);
            for (uint64_t t = event.multiple ? 1 : event.tag; t <= event.tag; t++)
                acked[t] = true;
        }
        /* A new connection starts the numbering again. */
        broker_drop (broker);
        assert_int_equal (broker_connect (broker), 0);
    }
    publisher_destroy (&publisher);
    broker_disconnect (broker);
    broker_destroy (&broker);
    assert_int_equal (s_depth (BROKER_QUEUE), 6);
}

static void
test_an_unroutable_mandatory_publish_comes_back_returned_then_acked (void **state)
{
    broker_t *broker = s_broker ();
    publisher_t *publisher = publisher_new (broker, "herald-test");
    assert_int_equal (publisher_start (publisher), 0);
    /* Nothing is bound to this key: not mandatory, it is just acked. */
    assert_int_equal (s_publish (publisher, "nobody.listens", "lost", false), 1);
    publisher_event_t event;
    const char *why = NULL;
    assert_int_equal (s_next_event (broker, publisher, &event, &why), 1);
    assert_int_equal (event.kind, PUBLISHER_ACK);
    assert_int_equal (event.tag, 1);
    /* Mandatory, it comes back first, then its ack. */
    assert_int_equal (s_publish (publisher, "nobody.listens", "returned", true), 2);
    assert_int_equal (s_next_event (broker, publisher, &event, &why), 1);
    assert_int_equal (event.kind, PUBLISHER_RETURNED);
    assert_int_equal (s_next_event (broker, publisher, &event, &why), 1);
    assert_int_equal (event.kind, PUBLISHER_ACK);
    assert_int_equal (event.tag, 2);
    publisher_destroy (&publisher);
    broker_disconnect (broker);
    broker_destroy (&broker);
    assert_int_equal (s_depth (BROKER_QUEUE), 0);
}

static void
test_deliveries_are_acked_dead_lettered_or_redelivered_after_a_drop (void **state)
{
    broker_t *broker = s_broker ();
    publisher_t *publisher = publisher_new (broker, "herald-test");
    assert_int_equal (publisher_start (publisher), 0);
    assert_int_equal (s_publish (publisher, BROKER_CREATED_KEY, "one", true), 1);
    assert_int_equal (s_publish (publisher, BROKER_CREATED_KEY, "two", true), 2);
    assert_int_equal (s_publish (publisher, BROKER_CREATED_KEY, "three", true), 3);
    assert_int_equal (s_flush (publisher), 0);
    publisher_destroy (&publisher);
    broker_disconnect (broker);
    assert_int_equal (broker_connect (broker), 0);

    subscription_t *subscription = subscription_new (broker, BROKER_QUEUE, 8);
    assert_int_equal (subscription_start (subscription), 0);
    const char *bodies[] = { "one", "two", "three" };
    delivery_t d[3];
    const char *why = NULL;
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_next_delivery (broker, subscription, &d[i], &why), 1);
        assert_int_equal (d[i].len, strlen (bodies[i]));
        assert_memory_equal (d[i].body, bodies[i], d[i].len);
        assert_false (d[i].redelivered);
    }
    assert_int_equal (subscription_ack (subscription, d[0].tag, &why), 0);
    assert_int_equal (subscription_reject (subscription, d[1].tag, &why), 0);
    assert_int_equal (s_flushed (subscription), 1);
    uint64_t void_tag = d[2].tag;
    for (int i = 0; i < 3; i++)
        delivery_release (&d[i]);

    /* "three" was never settled: after a drop it comes again, redelivered. */
    s_drop_and_ack_redelivered (broker, subscription, "three");

    /* A tag this channel never gave out (as a stale tag from an older
       connection would be) is refused before it reaches the wire, where
       the server would close the channel for it; the ack already noted
       still goes. */
    why = NULL;
    assert_int_equal (subscription_ack (subscription, void_tag + 100, &why), -1);
    assert_string_equal (why, "not an unsettled delivery of this channel");
    assert_int_equal (subscription_reject (subscription, void_tag + 100, &why), -1);
    assert_int_equal (s_flushed (subscription), 1);
    assert_int_equal (s_flushed (subscription), 0);
    broker_disconnect (broker);
    subscription_destroy (&subscription);
    broker_destroy (&broker);
    assert_int_equal (s_depth (BROKER_QUEUE), 0);
    assert_int_equal (s_depth (BROKER_DEAD_QUEUE), 1);
}

static void
test_acks_flushed_together_settle_exactly_the_acked_deliveries (void **state)
{
    broker_t *broker = s_broker ();
    publisher_t *publisher = publisher_new (broker, "herald-test");
    assert_int_equal (publisher_start (publisher), 0);
    const char *bodies[] = { "one", "two", "three", "four", "five" };
    for (int i = 0; i < 5; i++)
        assert_int_equal (s_publish (publisher, BROKER_CREATED_KEY, bodies[i], true), i + 1);
    assert_int_equal (s_flush (publisher), 0);
    publisher_destroy (&publisher);
    broker_disconnect (broker);
    assert_int_equal (broker_connect (broker), 0);

    subscription_t *subscription = subscription_new (broker, BROKER_QUEUE, 8);
    assert_int_equal (subscription_start (subscription), 0);
    delivery_t d[5];
    const char *why = NULL;
    for (int i = 0; i < 5; i++)
        assert_int_equal (s_next_delivery (broker, subscription, &d[i], &why), 1);
    /* Finished out of order, "three" still in progress: one multiple ack
       for one and two, single acks for four and five. */
    assert_int_equal (subscription_ack (subscription, d[4].tag, &why), 0);
    assert_int_equal (subscription_ack (subscription, d[1].tag, &why), 0);
    assert_int_equal (subscription_ack (subscription, d[0].tag, &why), 0);
    assert_int_equal (subscription_ack (subscription, d[3].tag, &why), 0);
    assert_int_equal (s_flushed (subscription), 4);
    for (int i = 0; i < 5; i++)
        delivery_release (&d[i]);

    /* The acks reached the broker before the drop, and none covered
       "three": it alone comes back. */
    s_drop_and_ack_redelivered (broker, subscription, "three");
    assert_int_equal (s_flushed (subscription), 1);
    broker_disconnect (broker);
    subscription_destroy (&subscription);
    broker_destroy (&broker);
    assert_int_equal (s_depth (BROKER_QUEUE), 0);
    assert_int_equal (s_depth (BROKER_DEAD_QUEUE), 0);
}

static void
test_a_channel_closed_under_the_publisher_is_an_error (void **state)
{
    broker_t *broker = s_broker ();
    publisher_t *publisher = publisher_new (broker, "herald-test");
    assert_int_equal (publisher_start (publisher), 0);
    /* Without the exchange, the server closes the channel (404). */
    broker_t *other = broker_new (s_rabbit.url, 10);
    assert_int_equal (broker_connect (other), 0);
    amqp_exchange_delete (broker_conn (other), BROKER_CHANNEL, amqp_cstring_bytes (BROKER_EXCHANGE),
                          0);
    assert_int_equal (broker_rpc_check (amqp_get_rpc_reply (broker_conn (other)), "delete"), 0);
    broker_disconnect (other);
    assert_int_equal (s_publish (publisher, BROKER_CREATED_KEY, "x", true), 1);
    publisher_event_t event;
    const char *why = NULL;
    assert_int_equal (s_next_event (broker, publisher, &event, &why), -1);
    assert_string_equal (why, "closed by the server");
    broker_drop (broker);
    /* Connecting declares the topology again, binding included. */
    assert_int_equal (broker_connect (other), 0);
    broker_disconnect (other);
    broker_destroy (&other);
    publisher_destroy (&publisher);
    broker_destroy (&broker);
}

/* The node's process (its pid file), or -1. */
static pid_t
s_rabbit_pid (void)
{
    char path[600];
    snprintf (path, sizeof path, "%s/node.pid", s_rabbit.dir);
    FILE *f = fopen (path, "r");
    long pid = -1;
    if (!f || fscanf (f, "%ld", &pid) != 1)
        pid = -1;
    if (f)
        fclose (f);
    return (pid_t)pid;
}

static pid_t s_frozen = -1;

/* The node, stopped with SIGSTOP: its sockets stay open and silent, as a
   broker on a partitioned or paused host. */
static void
s_freeze (void)
{
    s_frozen = s_rabbit_pid ();
    assert_true (s_frozen > 0);
    assert_int_equal (kill (s_frozen, SIGSTOP), 0);
}

/* Teardown: the node runs again whatever the test's outcome. */
static int
s_thaw (void **state)
{
    (void)state;
    if (s_frozen > 0)
        kill (s_frozen, SIGCONT);
    s_frozen = -1;
    return 0;
}

/* With a 1 s heartbeat the broker owes a frame every second; rabbitmq-c
   gives up after two silent heartbeats. publisher_poll's zero-timeout read
   must report that (rabbitmq-c 0.10 took a {0, 0} timeout as "immediate"
   and never did; 0.11 does), or a notifier would wait on a dead broker
   until TCP gave up, ~15 minutes. */
static void
test_a_silent_broker_is_a_heartbeat_timeout_for_the_publisher (void **state)
{
    broker_t *broker = broker_new (s_rabbit.url, 1);
    assert_non_null (broker);
    assert_int_equal (broker_connect (broker), 0);
    publisher_t *publisher = publisher_new (broker, "herald-test");
    assert_int_equal (publisher_start (publisher), 0);
    s_freeze ();
    publisher_event_t event;
    const char *why = NULL;
    assert_int_equal (s_next_event (broker, publisher, &event, &why), -1);
    assert_non_null (strstr (why, "heartbeat"));
    s_thaw (NULL);
    broker_drop (broker);
    publisher_destroy (&publisher);
    broker_destroy (&broker);
}

/* The same for the worker's side: subscription_next reads with a zero
   timeout too. */
static void
test_a_silent_broker_is_a_heartbeat_timeout_for_the_subscription (void **state)
{
    broker_t *broker = broker_new (s_rabbit.url, 1);
    assert_non_null (broker);
    assert_int_equal (broker_connect (broker), 0);
    subscription_t *subscription = subscription_new (broker, BROKER_QUEUE, 8);
    assert_int_equal (subscription_start (subscription), 0);
    s_freeze ();
    delivery_t delivery;
    const char *why = NULL;
    assert_int_equal (s_next_delivery (broker, subscription, &delivery, &why), -1);
    assert_non_null (strstr (why, "heartbeat"));
    s_thaw (NULL);
    broker_drop (broker);
    subscription_destroy (&subscription);
    broker_destroy (&broker);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_publishes_are_numbered_from_one_per_connection_and_confirmed),
        cmocka_unit_test (test_a_flush_sends_every_queued_publish_whole_and_in_order),
        cmocka_unit_test (test_publishes_leave_by_themselves_once_the_flush_size_is_queued),
        cmocka_unit_test_teardown (test_publishes_are_held_while_the_broker_blocks_the_connection,
                                   s_end_alarm),
        cmocka_unit_test (test_an_unroutable_mandatory_publish_comes_back_returned_then_acked),
        cmocka_unit_test (test_deliveries_are_acked_dead_lettered_or_redelivered_after_a_drop),
        cmocka_unit_test (test_acks_flushed_together_settle_exactly_the_acked_deliveries),
        cmocka_unit_test (test_a_channel_closed_under_the_publisher_is_an_error),
        cmocka_unit_test_teardown (test_a_silent_broker_is_a_heartbeat_timeout_for_the_publisher,
                                   s_thaw),
        cmocka_unit_test_teardown (test_a_silent_broker_is_a_heartbeat_timeout_for_the_subscription,
                                   s_thaw),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
