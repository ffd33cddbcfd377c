/*
 * publisher — see publisher.h. The tag count mirrors the broker's: after
 * confirm.select RabbitMQ numbers every basic.publish on the channel from 1,
 * so counting successful basic_publish calls gives the tag its confirm will
 * name. A failed basic_publish voids the channel (the caller drops it), so
 * the two counts never drift apart.
 */
#include "publisher.h"

#include "amqp_raw.h"
#include "log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _publisher_t {
    broker_t *broker; /* borrowed */
    char *app_id;
    uint64_t last_tag; /* tag of the last publish since publisher_start */
};

publisher_t *
publisher_new (broker_t *broker, const char *app_id)
{
    assert (broker && app_id);
    publisher_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->broker = broker;
    self->app_id = strdup (app_id);
    if (!self->app_id) {
        free (self);
        return NULL;
    }
    return self;
}

void
publisher_destroy (publisher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->app_id);
    free (*self_p);
    *self_p = NULL;
}

int
publisher_start (publisher_t *self)
{
    assert (self);
    amqp_connection_state_t conn = broker_conn (self->broker);
    if (!conn)
        return -1;
    self->last_tag = 0;
    amqp_confirm_select (conn, BROKER_CHANNEL);
    return broker_rpc_check (amqp_get_rpc_reply (conn), "confirm.select");
}

int64_t
publisher_publish (publisher_t *self, const publisher_message_t *msg, const char **why)
{
    assert (self && msg && why);
    amqp_connection_state_t conn = broker_conn (self->broker);
    if (!conn) {
        *why = "not connected";
        return -1;
    }
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG
                   | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG
                   | AMQP_BASIC_APP_ID_FLAG;
    props.content_type = amqp_cstring_bytes (PUBLISHER_CONTENT_TYPE);
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props.message_id = amqp_cstring_bytes (msg->message_id);
    props.type = amqp_cstring_bytes (msg->routing_key);
    props.timestamp = msg->timestamp;
    props.app_id = amqp_cstring_bytes (self->app_id);
    if (msg->correlation_id) {
        props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        props.correlation_id = amqp_cstring_bytes (msg->correlation_id);
    }
    amqp_bytes_t body = { msg->len, (void *)msg->body };
    int rc =
        amqp_basic_publish (conn, BROKER_CHANNEL, amqp_cstring_bytes (BROKER_EXCHANGE),
                            amqp_cstring_bytes (msg->routing_key), msg->mandatory, 0, &props, body);
    if (rc != AMQP_STATUS_OK) {
        *why = amqp_error_string2 (rc);
        return -1;
    }
    return (int64_t)++self->last_tag;
}

int
publisher_poll (publisher_t *self, publisher_event_t *event, const char **why)
{
    assert (self && event && why);
    amqp_connection_state_t conn;
    while ((conn = broker_conn (self->broker)) != NULL) {
        amqp_frame_t frame;
        struct timeval zero = { 0, 0 };
        int rc = amqp_simple_wait_frame_noblock (conn, &frame, &zero);
        if (rc == AMQP_STATUS_TIMEOUT) {
            amqp_maybe_release_buffers (conn);
            return 0;
        }
        if (rc != AMQP_STATUS_OK) {
            *why = amqp_error_string2 (rc);
            return -1;
        }
        *event = (publisher_event_t){ 0 };
        switch (broker_frame_kind (&frame, &event->tag, &event->multiple)) {
        case BROKER_FRAME_ACK:
            event->kind = PUBLISHER_ACK;
            return 1;
        case BROKER_FRAME_NACK:
            event->kind = PUBLISHER_NACK;
            return 1;
        case BROKER_FRAME_RETURN: {
            const amqp_basic_return_t *ret = frame.payload.method.decoded;
            log_error ("RabbitMQ returned a publish as unroutable: %u %.*s", ret->reply_code,
                       (int)ret->reply_text.len, (const char *)ret->reply_text.bytes);
            /* Its content follows: read it off the connection and drop it. */
            amqp_message_t message;
            amqp_rpc_reply_t r = amqp_read_message (conn, frame.channel, &message, 0);
            if (r.reply_type == AMQP_RESPONSE_NORMAL)
                amqp_destroy_message (&message);
            event->kind = PUBLISHER_RETURNED;
            return 1;
        }
        case BROKER_FRAME_CLOSE:
            broker_handle_close (self->broker, &frame);
            *why = "closed by the server";
            return -1;
        case BROKER_FRAME_CANCEL: /* no consumer on this connection */
        case BROKER_FRAME_OTHER:
            break;
        }
    }
    return 0;
}
