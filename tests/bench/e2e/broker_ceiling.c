/*
 * broker_ceiling — see broker_ceiling.h. The publisher runs in the calling
 * thread, the consumer in a thread of its own; each owns its connection.
 * Publisher confirms are counted the way amqp/publisher.c counts them: after
 * confirm.select RabbitMQ numbers the channel's publishes from 1, and a
 * basic.ack or basic.nack names a tag and, with `multiple`, every earlier
 * one still unconfirmed. The tags in flight are kept in a ring of `window`
 * flags: a publish is made only while the span from the oldest unconfirmed
 * tag to the newest is below the window, so a slot is never reused while
 * its tag is still unconfirmed, even if confirms arrive out of order.
 */
#include "broker_ceiling.h"

#include "amqp_raw.h"
#include "clock.h"
#include "harness.h"

#include <amqp_tcp_socket.h>
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CEILING_CHANNEL 1
#define CEILING_CONNECT_TIMEOUT_MS 5000
#define CEILING_RPC_TIMEOUT_MS 10000
#define CEILING_READ_WAIT_US 100000 /* longest wait for a frame before rechecking the deadline */
#define CEILING_READY_WAIT_MS 10000 /* for the consumer to be consuming */

/* The consumer thread's state, shared with the publisher through atomics
   (its counters are read only after the join). */
typedef struct {
    const broker_ceiling_config_t *config;
    int64_t deadline_us;
    atomic_int state; /* 0 starting, 1 consuming, 2 done, -1 failed */
    atomic_bool stop; /* the publisher gave up: leave now */
    int acked;        /* deliveries acked */
    int wrong_size;   /* deliveries whose body was not body_len bytes */
    int64_t last_ack_us;
} s_consumer_t;

/* Opens a connection to url with channel CEILING_CHANNEL open, no
   heartbeats (a run lasts less than one would matter) and the RPC timeout
   set. Returns the connection, or NULL after printing why. Blocks up to the
   connect and RPC timeouts. */
static amqp_connection_state_t
s_connect (const char *url)
{
    char *copy = strdup (url);
    if (!copy)
        return NULL;
    struct amqp_connection_info info;
    amqp_default_connection_info (&info);
    amqp_connection_state_t conn = NULL;
    if (amqp_parse_url (copy, &info) != AMQP_STATUS_OK) {
        fprintf (stderr, "broker_ceiling: '%s' is not an AMQP URL\n", url);
        goto done;
    }
    if (!info.vhost || !*info.vhost)
        info.vhost = "/"; /* as amqp/broker.c reads "amqp://host/" */
    conn = amqp_new_connection ();
    amqp_socket_t *socket = conn ? amqp_tcp_socket_new (conn) : NULL;
    if (!socket)
        goto failed;
    struct timeval connect_tv = { CEILING_CONNECT_TIMEOUT_MS / 1000, 0 };
    struct timeval rpc_tv = { CEILING_RPC_TIMEOUT_MS / 1000, 0 };
    int status = amqp_socket_open_noblock (socket, info.host, info.port, &connect_tv);
    if (status != AMQP_STATUS_OK) {
        fprintf (stderr, "broker_ceiling: connect: %s\n", amqp_error_string2 (status));
        goto failed;
    }
    amqp_set_handshake_timeout (conn, &connect_tv);
    amqp_set_rpc_timeout (conn, &rpc_tv);
    if (broker_rpc_check (amqp_login (conn, info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 0,
                                      AMQP_SASL_METHOD_PLAIN, info.user, info.password),
                          "broker_ceiling login"))
        goto failed;
    amqp_channel_open (conn, CEILING_CHANNEL);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "broker_ceiling channel.open"))
        goto failed;
    goto done;

failed:
    if (conn)
        amqp_destroy_connection (conn);
    conn = NULL;
done:
    free (copy);
    return conn;
}

/* Closes conn politely (bounded by the RPC timeout) and frees it. */
static void
s_close (amqp_connection_state_t conn)
{
    amqp_channel_close (conn, CEILING_CHANNEL, AMQP_REPLY_SUCCESS);
    amqp_connection_close (conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection (conn);
}

/* Declares the dead-letter exchange, the exchange, the queue with Herald's
   arguments for herald.notifications and the binding, on a short-lived
   connection. 0, or -1 (printed). */
static int
s_declare (const broker_ceiling_config_t *config)
{
    amqp_connection_state_t conn = s_connect (config->url);
    if (!conn)
        return -1;
    int rc = -1;
    amqp_exchange_declare (conn, CEILING_CHANNEL, amqp_cstring_bytes (BROKER_CEILING_DEAD_EXCHANGE),
                           amqp_cstring_bytes ("fanout"), 0, 1, 0, 0, amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "declare " BROKER_CEILING_DEAD_EXCHANGE))
        goto done;
    amqp_exchange_declare (conn, CEILING_CHANNEL, amqp_cstring_bytes (BROKER_CEILING_EXCHANGE),
                           amqp_cstring_bytes ("topic"), 0, 1, 0, 0, amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "declare exchange " BROKER_CEILING_EXCHANGE))
        goto done;
    /* The arguments of broker_declare_topology (amqp/broker.c), under our
       own dead-letter exchange. */
    broker_queue_args_t q = { .max = config->queue_max,
                              .type = config->quorum ? BROKER_QUEUE_QUORUM : BROKER_QUEUE_CLASSIC,
                              .delivery_limit = BROKER_DELIVERY_LIMIT_DEFAULT };
    amqp_table_entry_t entries[BROKER_QUEUE_ARGUMENTS_MAX + 1];
    int n_entries = broker_queue_arguments (&q, BROKER_CEILING_DEAD_EXCHANGE, entries);
    n_entries = broker_queue_type_argument (&q, entries, n_entries);
    amqp_table_t args = { n_entries, entries };
    amqp_queue_declare (conn, CEILING_CHANNEL, amqp_cstring_bytes (BROKER_CEILING_QUEUE), 0, 1, 0,
                        0, args);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "declare queue " BROKER_CEILING_QUEUE))
        goto done;
    amqp_queue_bind (conn, CEILING_CHANNEL, amqp_cstring_bytes (BROKER_CEILING_QUEUE),
                     amqp_cstring_bytes (BROKER_CEILING_EXCHANGE),
                     amqp_cstring_bytes (BROKER_CEILING_ROUTING_KEY), amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "bind " BROKER_CEILING_QUEUE))
        goto done;
    rc = 0;
done:
    s_close (conn);
    return rc;
}

/* Deletes the queue and both exchanges (whatever they hold). 0 or -1. */
static int
s_delete (const broker_ceiling_config_t *config)
{
    amqp_connection_state_t conn = s_connect (config->url);
    if (!conn)
        return -1;
    int rc = -1;
    amqp_queue_delete (conn, CEILING_CHANNEL, amqp_cstring_bytes (BROKER_CEILING_QUEUE), 0, 0);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "delete queue " BROKER_CEILING_QUEUE))
        goto done;
    amqp_exchange_delete (conn, CEILING_CHANNEL, amqp_cstring_bytes (BROKER_CEILING_EXCHANGE), 0);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "delete " BROKER_CEILING_EXCHANGE))
        goto done;
    amqp_exchange_delete (conn, CEILING_CHANNEL, amqp_cstring_bytes (BROKER_CEILING_DEAD_EXCHANGE),
                          0);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "delete " BROKER_CEILING_DEAD_EXCHANGE))
        goto done;
    rc = 0;
done:
    s_close (conn);
    return rc;
}

/* The consumer thread: qos, consume with manual acks, ack each delivery as
   it arrives until config->messages are acked, the deadline passes or the
   publisher sets stop. Ends in state 2 (all acked) or -1. */
static void *
s_consumer_thread (void *arg)
{
    s_consumer_t *self = arg;
    const broker_ceiling_config_t *config = self->config;
    amqp_connection_state_t conn = s_connect (config->url);
    if (!conn) {
        atomic_store (&self->state, -1);
        return NULL;
    }
    bool broken = false; /* the connection is unusable: no polite close */
    amqp_basic_qos (conn, CEILING_CHANNEL, 0, (uint16_t)config->prefetch, 0);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "broker_ceiling basic.qos"))
        goto failed;
    amqp_basic_consume (conn, CEILING_CHANNEL, amqp_cstring_bytes (BROKER_CEILING_QUEUE),
                        amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "broker_ceiling basic.consume"))
        goto failed;
    atomic_store (&self->state, 1);
    while (self->acked < config->messages && !atomic_load (&self->stop)
           && clock_mono_us () < self->deadline_us) {
        amqp_maybe_release_buffers (conn);
        amqp_envelope_t env;
        struct timeval tv = { 0, CEILING_READ_WAIT_US };
        amqp_rpc_reply_t r = amqp_consume_message (conn, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            if (env.message.body.len != config->body_len)
                self->wrong_size++;
            int status = amqp_basic_ack (conn, CEILING_CHANNEL, env.delivery_tag, 0);
            amqp_destroy_envelope (&env);
            if (status != AMQP_STATUS_OK) {
                fprintf (stderr, "broker_ceiling: basic.ack: %s\n", amqp_error_string2 (status));
                broken = true;
                goto failed;
            }
            self->acked++;
            self->last_ack_us = clock_mono_us ();
            continue;
        }
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
            && r.library_error == AMQP_STATUS_TIMEOUT)
            continue;
        if (r.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION
            || r.library_error != AMQP_STATUS_UNEXPECTED_STATE) {
            broker_rpc_check (r, "broker_ceiling consume");
            broken = true;
            goto failed;
        }
        /* Not a delivery: read the frame and judge it. */
        amqp_frame_t frame;
        if (amqp_simple_wait_frame_noblock (conn, &frame, &tv) != AMQP_STATUS_OK) {
            broken = true;
            goto failed;
        }
        broker_frame_t kind = broker_frame_kind (&frame, NULL, NULL);
        if (kind == BROKER_FRAME_CANCEL || kind == BROKER_FRAME_CLOSE) {
            fprintf (stderr, "broker_ceiling: the broker ended the consumer\n");
            broken = true;
            goto failed;
        }
    }
    atomic_store (&self->state, self->acked == config->messages ? 2 : -1);
    s_close (conn);
    return NULL;

failed:
    atomic_store (&self->state, -1);
    if (broken)
        amqp_destroy_connection (conn);
    else
        s_close (conn);
    return NULL;
}

/* The publisher's bookkeeping of tags in flight. */
typedef struct {
    unsigned char *settled; /* ring of window flags, index tag % window */
    unsigned char *update;  /* ring beside it: the tag was an event.updated publish */
    uint64_t window;
    uint64_t low;  /* oldest unconfirmed tag (last + 1 when none) */
    uint64_t last; /* tag of the newest publish */
    int to_send;   /* publishes still to make (nacked ones come back) */
    int owed;      /* event.updated publishes still to make (updates only) */
    int confirmed; /* publishes acked by the broker */
    int nacked;    /* publishes nacked (and counted in to_send or owed again) */
    int returned;  /* publishes returned unroutable: the run is void */
    int64_t last_confirm_us;
} s_flight_t;

/* Settles tag (ack or nack) if it is in flight and not yet settled. */
static void
s_settle_one (s_flight_t *f, uint64_t tag, bool ack)
{
    if (tag < f->low || tag > f->last || f->settled[tag % f->window])
        return;
    f->settled[tag % f->window] = 1;
    if (ack)
        f->confirmed++;
    else {
        f->nacked++;
        if (f->update[tag % f->window])
            f->owed++;
        else
            f->to_send++;
    }
}

/* Applies a basic.ack / basic.nack for tag (and every earlier unsettled
   tag when multiple), then moves low past the settled tags. */
static void
s_settle (s_flight_t *f, uint64_t tag, bool multiple, bool ack)
{
    if (multiple)
        for (uint64_t t = f->low; t <= tag && t <= f->last; t++)
            s_settle_one (f, t, ack);
    else
        s_settle_one (f, tag, ack);
    while (f->low <= f->last && f->settled[f->low % f->window])
        f->low++;
    f->last_confirm_us = clock_mono_us ();
}

/* Handles one frame read on the publisher's connection. 0, or -1 when the
   channel or connection is gone. */
static int
s_publisher_frame (amqp_connection_state_t conn, const amqp_frame_t *frame, s_flight_t *f)
{
    uint64_t tag = 0;
    bool multiple = false;
    switch (broker_frame_kind (frame, &tag, &multiple)) {
    case BROKER_FRAME_ACK:
        s_settle (f, tag, multiple, true);
        return 0;
    case BROKER_FRAME_NACK:
        s_settle (f, tag, multiple, false);
        return 0;
    case BROKER_FRAME_RETURN: {
        /* Unroutable: the binding is missing. Its content follows. */
        amqp_message_t message;
        if (amqp_read_message (conn, frame->channel, &message, 0).reply_type
            == AMQP_RESPONSE_NORMAL)
            amqp_destroy_message (&message);
        f->returned++;
        return 0;
    }
    case BROKER_FRAME_CLOSE:
        fprintf (stderr, "broker_ceiling: the broker closed the publisher's channel\n");
        return -1;
    default:
        return 0;
    }
}

/* Publishes config->messages with confirms, keeping up to config->window in
   flight, until all are confirmed, the deadline passes or the consumer
   fails. *t_first gets the first publish's time. 0 or -1. */
static int
s_publish_all (const broker_ceiling_config_t *config, amqp_connection_state_t conn,
               s_consumer_t *consumer, int64_t deadline_us, s_flight_t *f, int64_t *t_first)
{
    unsigned char *body = malloc (config->body_len);
    if (!body)
        return -1;
    memset (body, 0xa5, config->body_len);
    char message_id[BROKER_CEILING_PROPERTY_MAX + 24];
    char correlation_id[BROKER_CEILING_PROPERTY_MAX + 1];
    memset (correlation_id, 'r', config->correlation_id_len);
    correlation_id[config->correlation_id_len] = '\0';
    /* The properties herald-notifier sets (amqp/publisher.c). */
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG
                   | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG
                   | AMQP_BASIC_APP_ID_FLAG;
    props.content_type = amqp_cstring_bytes ("application/msgpack");
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props.app_id = amqp_cstring_bytes ("herald-notifier");
    if (config->correlation_id_len) {
        props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        props.correlation_id = amqp_cstring_bytes (correlation_id);
    }
    amqp_bytes_t bytes = { config->body_len, body };
    int rc = -1;
    int publishes = config->messages * (config->updates ? 2 : 1);
    *t_first = 0;
    while (f->confirmed < publishes && clock_mono_us () < deadline_us
           && atomic_load (&consumer->state) != -1 && !f->returned) {
        while ((f->to_send > 0 || f->owed > 0) && f->last + 1 - f->low < f->window) {
            /* A message's update goes right after it, as the notifier's
               would (much later, in fact: once the worker marked it). */
            bool update = f->owed > 0;
            const char *key = update ? BROKER_CEILING_UPDATE_KEY : BROKER_CEILING_ROUTING_KEY;
            /* A unique id of exactly message_id_len bytes (digits of the tag). */
            snprintf (message_id, sizeof message_id, "%0*llu", (int)config->message_id_len,
                      (unsigned long long)(f->last + 1));
            message_id[config->message_id_len] = '\0';
            props.message_id = amqp_cstring_bytes (message_id);
            props.type = amqp_cstring_bytes (key);
            props.timestamp = (uint64_t)(clock_wall_ms () / 1000);
            int status = amqp_basic_publish (conn, CEILING_CHANNEL,
                                             amqp_cstring_bytes (BROKER_CEILING_EXCHANGE),
                                             amqp_cstring_bytes (key), !update, 0, &props, bytes);
            if (status != AMQP_STATUS_OK) {
                fprintf (stderr, "broker_ceiling: publish: %s\n", amqp_error_string2 (status));
                goto done;
            }
            if (!*t_first)
                *t_first = clock_mono_us ();
            f->last++;
            f->settled[f->last % f->window] = 0;
            f->update[f->last % f->window] = update;
            if (update)
                f->owed--;
            else {
                f->to_send--;
                f->owed += config->updates;
            }
        }
        /* Wait for a confirm only when nothing more may be sent; then take
           every frame already there before publishing again. */
        bool blocked = (f->to_send == 0 && f->owed == 0) || f->last + 1 - f->low >= f->window;
        struct timeval tv = { 0, blocked ? CEILING_READ_WAIT_US : 0 };
        amqp_frame_t frame;
        int status;
        while ((status = amqp_simple_wait_frame_noblock (conn, &frame, &tv)) == AMQP_STATUS_OK) {
            if (s_publisher_frame (conn, &frame, f))
                goto done;
            tv = (struct timeval){ 0, 0 };
        }
        if (status != AMQP_STATUS_TIMEOUT) {
            fprintf (stderr, "broker_ceiling: reading confirms: %s\n", amqp_error_string2 (status));
            goto done;
        }
        amqp_maybe_release_buffers (conn);
    }
    if (f->returned)
        fprintf (stderr, "broker_ceiling: %d publishes returned unroutable\n", f->returned);
    rc = f->confirmed == publishes && !f->returned ? 0 : -1;
done:
    free (body);
    return rc;
}

int
broker_ceiling_run (const broker_ceiling_config_t *config, broker_ceiling_result_t *out)
{
    assert (config && out && config->url);
    assert (config->messages > 0 && config->body_len > 0
            && config->body_len <= BROKER_CEILING_BODY_MAX);
    assert (config->message_id_len <= BROKER_CEILING_PROPERTY_MAX
            && config->correlation_id_len <= BROKER_CEILING_PROPERTY_MAX);
    assert (config->window > 0 && config->window <= BROKER_CEILING_WINDOW_MAX);
    assert (config->prefetch > 0 && config->prefetch <= UINT16_MAX);
    *out = (broker_ceiling_result_t){ 0 };
    int64_t deadline_us = clock_mono_us () + (int64_t)config->timeout_ms * 1000;
    if (s_declare (config)) {
        s_delete (config); /* half a topology is still ours to remove */
        return -1;
    }
    int rc = -1;
    s_flight_t flight = { .window = (uint64_t)config->window,
                          .low = 1,
                          .to_send = config->messages };
    flight.settled = calloc ((size_t)config->window, 1);
    flight.update = calloc ((size_t)config->window, 1);
    s_consumer_t consumer = { .config = config, .deadline_us = deadline_us };
    atomic_init (&consumer.state, 0);
    atomic_init (&consumer.stop, false);
    amqp_connection_state_t conn = flight.settled && flight.update ? s_connect (config->url) : NULL;
    pthread_t thread;
    bool started = false;
    if (!conn)
        goto done;
    amqp_confirm_select (conn, CEILING_CHANNEL);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "broker_ceiling confirm.select"))
        goto done;
    if (pthread_create (&thread, NULL, s_consumer_thread, &consumer) != 0)
        goto done;
    started = true;
    int64_t ready_by = clock_mono_us () + CEILING_READY_WAIT_MS * 1000LL;
    while (atomic_load (&consumer.state) == 0 && clock_mono_us () < ready_by)
        harness_nap_ms (1);
    if (atomic_load (&consumer.state) != 1) {
        fprintf (stderr, "broker_ceiling: the consumer did not start\n");
        goto done;
    }
    int64_t t_first = 0;
    if (s_publish_all (config, conn, &consumer, deadline_us, &flight, &t_first) == 0) {
        pthread_join (thread, NULL);
        started = false;
        if (atomic_load (&consumer.state) == 2 && consumer.wrong_size == 0)
            rc = 0;
        else
            fprintf (stderr, "broker_ceiling: the consumer acked %d of %d (%d of a wrong size)\n",
                     consumer.acked, config->messages, consumer.wrong_size);
        out->acked = consumer.acked;
        out->seconds = (double)(consumer.last_ack_us - t_first) / 1e6;
    }
    out->nacked = flight.nacked;
    if (t_first && flight.last_confirm_us > t_first)
        out->confirm_seconds = (double)(flight.last_confirm_us - t_first) / 1e6;
    if (rc == 0 && out->seconds > 0)
        out->rate = out->acked / out->seconds;
    else
        rc = -1;

done:
    if (started) { /* the publisher failed: stop the consumer */
        atomic_store (&consumer.stop, true);
        pthread_join (thread, NULL);
        out->acked = consumer.acked;
    }
    if (conn)
        s_close (conn);
    free (flight.settled);
    free (flight.update);
    if (s_delete (config))
        rc = -1;
    return rc;
}
