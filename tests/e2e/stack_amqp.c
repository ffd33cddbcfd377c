/*
 * stack_amqp — the tests' side of RabbitMQ (see stack.h): purging the
 * queues between scenarios, reading queue depths with a passive declare,
 * publishing by hand (confirmed) and taking a message back unacked so the
 * broker redelivers it. Short-lived connections through amqp/broker.h, so
 * the tests declare exactly the topology the services do; the raw
 * rabbitmq-c calls go through amqp/amqp_raw.h, the services' own do not.
 */
#include "stack.h"

#include "amqp_raw.h"
#include "clock.h"
#include "proto.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
s_nap_ms (int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

broker_t *
stack_broker_new (e2e_stack_t *self)
{
    broker_t *broker = broker_new (self->rabbit.url, 0);
    if (broker && self->quorum) {
        broker_queue_args_t args = { .max = BROKER_QUEUE_MAX_DEFAULT,
                                     .type = BROKER_QUEUE_QUORUM,
                                     .delivery_limit = self->delivery_limit
                                                           ? self->delivery_limit
                                                           : BROKER_DELIVERY_LIMIT_DEFAULT };
        broker_set_queue_args (broker, &args);
    }
    return broker;
}

void
stack_purge (e2e_stack_t *self)
{
    broker_t *broker = stack_broker_new (self);
    if (broker && broker_connect (broker) == 0) {
        amqp_queue_purge (broker_conn (broker), BROKER_CHANNEL, amqp_cstring_bytes (BROKER_QUEUE));
        amqp_queue_purge (broker_conn (broker), BROKER_CHANNEL,
                          amqp_cstring_bytes (BROKER_DEAD_QUEUE));
        broker_disconnect (broker);
    }
    broker_destroy (&broker);
}

long
stack_queue_depth (e2e_stack_t *self, const char *queue)
{
    long depth = -1;
    broker_t *broker = stack_broker_new (self);
    if (broker && broker_connect (broker) == 0) {
        amqp_queue_declare_ok_t *ok =
            amqp_queue_declare (broker_conn (broker), BROKER_CHANNEL, amqp_cstring_bytes (queue), 1,
                                0, 0, 0, amqp_empty_table);
        if (ok)
            depth = (long)ok->message_count;
        broker_disconnect (broker);
    }
    broker_destroy (&broker);
    return depth;
}

long
stack_wait_depth (e2e_stack_t *self, const char *queue, long n, int timeout_ms)
{
    int64_t until = clock_mono_ms () + timeout_ms;
    long depth = stack_queue_depth (self, queue);
    while (depth < n && clock_mono_ms () < until) {
        s_nap_ms (100);
        depth = stack_queue_depth (self, queue);
    }
    return depth;
}

int
stack_publish_raw (e2e_stack_t *self, const char *queue, const void *body, size_t len)
{
    int rc = -1;
    broker_t *broker = stack_broker_new (self);
    if (broker && broker_connect (broker) == 0) {
        amqp_connection_state_t conn = broker_conn (broker);
        amqp_basic_properties_t props = { ._flags = AMQP_BASIC_DELIVERY_MODE_FLAG,
                                          .delivery_mode = AMQP_DELIVERY_PERSISTENT };
        amqp_bytes_t bytes = { len, (void *)body };
        /* A confirmed publish, so the message is in the queue on return. */
        amqp_confirm_select (conn, BROKER_CHANNEL);
        if (amqp_basic_publish (conn, BROKER_CHANNEL, amqp_empty_bytes, amqp_cstring_bytes (queue),
                                1, 0, &props, bytes)
            == AMQP_STATUS_OK) {
            amqp_frame_t frame;
            struct timeval tv = { 5, 0 };
            if (amqp_simple_wait_frame_noblock (conn, &frame, &tv) == AMQP_STATUS_OK
                && frame.frame_type == AMQP_FRAME_METHOD
                && frame.payload.method.id == AMQP_BASIC_ACK_METHOD)
                rc = 0;
        }
        broker_disconnect (broker);
    }
    broker_destroy (&broker);
    return rc;
}

int
stack_publish_notification (e2e_stack_t *self, const char *id, const char *user_id,
                            const char *description, const char *status)
{
    proto_change_t n = { .seq = 1, .kind = PROTO_CHANGE_CREATED };
    if (proto_uuid_parse (id, strlen (id), n.event.id) != 0)
        return -1;
    n.event.user_id = (proto_str_t){ user_id, strlen (user_id) };
    n.event.description = (proto_str_t){ description, strlen (description) };
    n.event.status = (proto_str_t){ status, strlen (status) };
    n.event.created_at = n.event.updated_at = 1764000000000;
    n.event.seq = 1;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    int rc = proto_notification_encode (&n, &buf) == 0
                 ? stack_publish_raw (self, BROKER_QUEUE, buf.data, buf.size)
                 : -1;
    msgpack_sbuffer_destroy (&buf);
    return rc;
}

int
stack_requeue_one (e2e_stack_t *self, const char *queue)
{
    int rc = -1;
    broker_t *broker = stack_broker_new (self);
    if (broker && broker_connect (broker) == 0) {
        amqp_connection_state_t conn = broker_conn (broker);
        amqp_rpc_reply_t r = amqp_basic_get (conn, BROKER_CHANNEL, amqp_cstring_bytes (queue), 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL && r.reply.id == AMQP_BASIC_GET_OK_METHOD) {
            amqp_message_t message;
            if (amqp_read_message (conn, BROKER_CHANNEL, &message, 0).reply_type
                == AMQP_RESPONSE_NORMAL) {
                amqp_destroy_message (&message);
                rc = 0; /* taken, never acked: closing the channel requeues it */
            }
        }
        broker_disconnect (broker);
    }
    broker_destroy (&broker);
    return rc;
}

/* The column of queue in `rabbitmqctl list_queues name COLUMN`, into
   value (size bytes). 0, or -1 when rabbitmqctl fails or lists no such
   queue. */
static int
s_list_queues (e2e_stack_t *self, const char *column, const char *queue, char *value, size_t size)
{
    char args[128], out[4096];
    snprintf (args, sizeof args, "list_queues -q --no-table-headers name %s", column);
    if (harness_rabbitmqctl (&self->rabbit, args, out, sizeof out) != 0)
        return -1;
    char *save = NULL;
    for (char *line = strtok_r (out, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        size_t len = strcspn (line, " \t");
        if (strncmp (line, queue, len) == 0 && queue[len] == '\0') {
            snprintf (value, size, "%s", line + len + strspn (line + len, " \t"));
            return 0;
        }
    }
    return -1;
}

long
stack_queue_messages (e2e_stack_t *self, const char *queue)
{
    char value[64];
    long n;
    return s_list_queues (self, "messages", queue, value, sizeof value) == 0
                   && sscanf (value, "%ld", &n) == 1
               ? n
               : -1;
}

int
stack_queue_leader (e2e_stack_t *self, const char *queue)
{
    char value[128];
    int node;
    return s_list_queues (self, "leader", queue, value, sizeof value) == 0
                   && sscanf (value, "h%d@", &node) == 1
               ? node - 1
               : -1;
}
