/*
 * subscription — see subscription.h. amqp_consume_message does the reading;
 * when what comes is not a delivery it answers UNEXPECTED_STATE and leaves
 * the frame queued on the connection, so it is read here and judged: a
 * cancel or a close ends the connection, anything else is of no interest.
 */
#include "subscription.h"

#include "ack_batch.h"
#include "amqp_raw.h"
#include "log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _subscription_t {
    broker_t *broker; /* borrowed */
    char *queue;
    int prefetch;
    ack_batch_t *acks; /* of the current channel */
};

void
delivery_release (delivery_t *self)
{
    assert (self);
    free (self->body);
    *self = (delivery_t){ 0 };
}

int
delivery_take (delivery_t *self, amqp_envelope_t *env)
{
    assert (self && env);
    *self = (delivery_t){ 0 };
    size_t len = env->message.body.len;
    void *body = malloc (len ? len : 1);
    if (body) {
        if (len)
            memcpy (body, env->message.body.bytes, len);
        *self = (delivery_t){
            .tag = env->delivery_tag, .redelivered = env->redelivered != 0, .body = body, .len = len
        };
    }
    amqp_destroy_envelope (env);
    return body ? 0 : -1;
}

subscription_t *
subscription_new (broker_t *broker, const char *queue, int prefetch)
{
    assert (broker && queue);
    assert (prefetch > 0 && prefetch <= UINT16_MAX);
    subscription_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->broker = broker;
    self->prefetch = prefetch;
    self->queue = strdup (queue);
    self->acks = ack_batch_new (prefetch);
    if (!self->queue || !self->acks)
        subscription_destroy (&self);
    return self;
}

void
subscription_destroy (subscription_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->queue);
    ack_batch_destroy (&(*self_p)->acks);
    free (*self_p);
    *self_p = NULL;
}

int
subscription_start (subscription_t *self)
{
    assert (self);
    amqp_connection_state_t conn = broker_conn (self->broker);
    if (!conn)
        return -1;
    ack_batch_reset (self->acks); /* tags start at 1 on a new channel */
    amqp_basic_qos (conn, BROKER_CHANNEL, 0, (uint16_t)self->prefetch, 0);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "basic.qos"))
        return -1;
    amqp_basic_consume (conn, BROKER_CHANNEL, amqp_cstring_bytes (self->queue), amqp_empty_bytes, 0,
                        0, 0, amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "basic.consume"))
        return -1;
    log_info ("consuming %s (prefetch %d)", self->queue, self->prefetch);
    return 0;
}

int
subscription_next (subscription_t *self, delivery_t *delivery, const char **why)
{
    assert (self && delivery && why);
    amqp_connection_state_t conn;
    while ((conn = broker_conn (self->broker)) != NULL) {
        /* Every delivery handed out so far is a copy: nothing of the pool
           is in use. */
        amqp_maybe_release_buffers (conn);
        amqp_envelope_t env;
        struct timeval zero = { 0, 0 };
        amqp_rpc_reply_t r = amqp_consume_message (conn, &env, &zero, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            if (delivery_take (delivery, &env) != 0) {
                *why = "out of memory for a delivery";
                return -1;
            }
            if (ack_batch_delivered (self->acks, delivery->tag) != 0) {
                delivery_release (delivery);
                *why = "more deliveries than the prefetch window";
                return -1;
            }
            return 1;
        }
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
            && r.library_error == AMQP_STATUS_TIMEOUT)
            return 0;
        if (r.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION
            || r.library_error != AMQP_STATUS_UNEXPECTED_STATE) {
            broker_rpc_check (r, "consume");
            /* The library's reason (a socket error, a heartbeat timeout)
               when it has one. */
            *why = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                       ? amqp_error_string2 (r.library_error)
                       : "consume failed";
            return -1;
        }
        /* Not a delivery: the frame was put back; read and judge it. */
        amqp_frame_t frame;
        if (amqp_simple_wait_frame (conn, &frame) != AMQP_STATUS_OK) {
            *why = "socket error";
            return -1;
        }
        switch (broker_frame_kind (&frame, NULL, NULL)) {
        case BROKER_FRAME_CANCEL:
            *why = "the broker cancelled our consumer";
            return -1;
        case BROKER_FRAME_CLOSE:
            broker_handle_close (self->broker, &frame);
            *why = "closed by the server";
            return -1;
        default:
            break; /* of no interest */
        }
    }
    return 0;
}

int
subscription_ack (subscription_t *self, uint64_t tag, const char **why)
{
    assert (self && why);
    if (!broker_conn (self->broker)) {
        *why = "not connected";
        return -1;
    }
    if (ack_batch_ack (self->acks, tag) != 0) {
        *why = "not an unsettled delivery of this channel";
        return -1;
    }
    return 0;
}

int
subscription_reject (subscription_t *self, uint64_t tag, const char **why)
{
    assert (self && why);
    amqp_connection_state_t conn = broker_conn (self->broker);
    if (!conn) {
        *why = "not connected";
        return -1;
    }
    if (ack_batch_forget (self->acks, tag) != 0) {
        *why = "not an unsettled delivery of this channel";
        return -1;
    }
    int rc = amqp_basic_reject (conn, BROKER_CHANNEL, tag, 0);
    if (rc != AMQP_STATUS_OK) {
        *why = amqp_error_string2 (rc);
        return -1;
    }
    return 0;
}

int
subscription_flush (subscription_t *self, size_t *sent, const char **why)
{
    assert (self && sent && why);
    *sent = 0;
    if (ack_batch_pending (self->acks) == 0)
        return 0;
    amqp_connection_state_t conn = broker_conn (self->broker);
    if (!conn) {
        *why = "not connected";
        return -1;
    }
    size_t n;
    uint64_t tag;
    bool multiple;
    while ((n = ack_batch_next (self->acks, &tag, &multiple)) > 0) {
        int rc = amqp_basic_ack (conn, BROKER_CHANNEL, tag, multiple);
        if (rc != AMQP_STATUS_OK) {
            *why = amqp_error_string2 (rc);
            return -1;
        }
        *sent += n;
    }
    return 0;
}
