/*
 * publisher — see publisher.h. The tag count mirrors the broker's: after
 * confirm.select RabbitMQ numbers every basic.publish on the channel from 1,
 * so counting the publishes queued gives the tag its confirm will name. A
 * failed flush voids the channel (the caller drops it) and discards what
 * was queued, so the two counts never drift apart.
 *
 * A frame on the wire (AMQP 0-9-1 §2.3.5) is type (1 byte), channel (2),
 * payload size (4), the payload, and the end marker 0xCE. The payloads are
 * rabbitmq-c's encoding: a method frame holds the method number (4 bytes)
 * and amqp_encode_method's arguments; a header frame holds the class (2),
 * a weight of 0 (2), the body size (8) and amqp_encode_properties's flags
 * and properties; body frames hold the body, cut at the connection's
 * frame_max less the envelope, as amqp_basic_publish cuts it.
 */
#include "publisher.h"

#include "amqp_raw.h"
#include "clock.h"
#include "log.h"

#include <amqp_framing.h>
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define S_FRAME_HEAD 7 /* type, channel, payload size */
#define S_FRAME_END 0xCE
#define S_FRAME_ENVELOPE (S_FRAME_HEAD + 1)
/* The most a publish's method and header frames can take: two short
   strings of at most 255 bytes in the method, five in the properties, and
   the fixed fields of both (well under 100 bytes). */
#define S_PUBLISH_HEAD_MAX 2048
/* An output buffer larger than this (grown while the broker blocked us) is
   freed once flushed; below it, it is kept for the next publishes. */
#define S_KEEP_BYTES (4 * PUBLISHER_FLUSH_BYTES)

struct _publisher_t {
    broker_t *broker; /* borrowed */
    char *app_id;
    uint64_t last_tag;  /* tag of the last publish since publisher_start */
    unsigned char *out; /* frames queued for the next flush */
    size_t out_len, out_cap;
    bool blocked;       /* RabbitMQ said connection.blocked: the output is held */
    int64_t blocked_at; /* mono ms it said so */
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
    free ((*self_p)->out);
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
    self->out_len = 0; /* publishes of a dropped channel: the caller re-reads them */
    self->blocked = false;
    amqp_confirm_select (conn, BROKER_CHANNEL);
    return broker_rpc_check (amqp_get_rpc_reply (conn), "confirm.select");
}

/* Writes value at at as n bytes, big-endian (network order, as AMQP). */
static void
s_put (unsigned char *at, uint64_t value, int n)
{
    for (int i = 0; i < n; i++)
        at[i] = (unsigned char)(value >> (8 * (n - 1 - i)));
}

/* Writes a frame's envelope head at at: type, channel, payload size. */
static void
s_frame_head (unsigned char *at, uint8_t type, uint32_t size)
{
    at[0] = type;
    s_put (at + 1, BROKER_CHANNEL, 2);
    s_put (at + 3, size, 4);
}

/* Appends one publish's frames (method, header, body) to the output.
   Returns 0, or -1 (out of memory, or an encoder refused), leaving the
   output as it was. */
static int
s_queue (publisher_t *self, amqp_connection_state_t conn, amqp_basic_publish_t *method,
         amqp_basic_properties_t *props, const void *body, size_t len)
{
    size_t chunk = (size_t)amqp_get_frame_max (conn) - S_FRAME_ENVELOPE;
    size_t frames = len / chunk + 1;
    size_t need = self->out_len + S_PUBLISH_HEAD_MAX + len + frames * S_FRAME_ENVELOPE;
    if (need > self->out_cap) {
        size_t cap = self->out_cap ? self->out_cap : 64 * 1024;
        while (cap < need)
            cap *= 2;
        unsigned char *out = realloc (self->out, cap);
        if (!out)
            return -1;
        self->out = out;
        self->out_cap = cap;
    }
    unsigned char *start = self->out + self->out_len, *at = start;
    unsigned char *end = start + S_PUBLISH_HEAD_MAX / 2;

    /* The method frame: basic.publish and its arguments. */
    s_put (at + S_FRAME_HEAD, AMQP_BASIC_PUBLISH_METHOD, 4);
    unsigned char *args = at + S_FRAME_HEAD + 4;
    int n = amqp_encode_method (AMQP_BASIC_PUBLISH_METHOD, method,
                                (amqp_bytes_t){ (size_t)(end - args - 1), args });
    if (n < 0)
        return -1;
    s_frame_head (at, AMQP_FRAME_METHOD, (uint32_t)(4 + n));
    at = args + n;
    *at++ = S_FRAME_END;

    /* The header frame: class, weight, body size, properties. */
    end = start + S_PUBLISH_HEAD_MAX;
    unsigned char *fixed = at + S_FRAME_HEAD;
    s_put (fixed, AMQP_BASIC_CLASS, 2);
    s_put (fixed + 2, 0, 2); /* weight */
    s_put (fixed + 4, len, 8);
    unsigned char *fields = fixed + 12;
    n = amqp_encode_properties (AMQP_BASIC_CLASS, props,
                                (amqp_bytes_t){ (size_t)(end - fields - 1), fields });
    if (n < 0)
        return -1;
    s_frame_head (at, AMQP_FRAME_HEADER, (uint32_t)(12 + n));
    at = fields + n;
    *at++ = S_FRAME_END;

    /* The body, in frames of at most frame_max. */
    for (size_t off = 0; off < len; off += chunk) {
        size_t part = len - off < chunk ? len - off : chunk;
        s_frame_head (at, AMQP_FRAME_BODY, (uint32_t)part);
        memcpy (at + S_FRAME_HEAD, (const unsigned char *)body + off, part);
        at += S_FRAME_HEAD + part;
        *at++ = S_FRAME_END;
    }
    self->out_len += (size_t)(at - start);
    return 0;
}

int
publisher_flush (publisher_t *self, const char **why)
{
    assert (self && why);
    if (self->out_len == 0)
        return 0;
    amqp_connection_state_t conn = broker_conn (self->broker);
    int fd = conn ? amqp_get_sockfd (conn) : -1;
    if (fd < 0) {
        self->out_len = 0;
        *why = "not connected";
        return -1;
    }
    if (self->blocked)
        return 0; /* held: the broker reads nothing until it unblocks */
    int64_t deadline = clock_mono_ms () + PUBLISHER_SEND_TIMEOUT_MS;
    size_t off = 0;
    while (off < self->out_len) {
        ssize_t n = send (fd, self->out + off, self->out_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            self->out_len = 0;
            *why = "socket error while publishing";
            return -1;
        }
        int64_t left = deadline - clock_mono_ms ();
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        if (left <= 0 || (poll (&p, 1, (int)left) < 0 && errno != EINTR)) {
            self->out_len = 0;
            *why = left <= 0
                       ? "RabbitMQ took no publish for 30 s (a memory or disk alarm, or a dead "
                         "connection)"
                       : "poll failed while publishing";
            return -1;
        }
    }
    self->out_len = 0;
    if (self->out_cap > S_KEEP_BYTES) {
        free (self->out); /* grown by a block's held output: give it back */
        self->out = NULL;
        self->out_cap = 0;
    }
    return 0;
}

int64_t
publisher_publish (publisher_t *self, const publisher_message_t *msg, const char **why)
{
    assert (self && msg && why);
    amqp_connection_state_t conn = broker_conn (self->broker);
    if (!conn) {
        self->out_len = 0; /* publishes of a connection that is gone */
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
    amqp_basic_publish_t method = { .exchange = amqp_cstring_bytes (BROKER_EXCHANGE),
                                    .routing_key = amqp_cstring_bytes (msg->routing_key),
                                    .mandatory = msg->mandatory };
    if (s_queue (self, conn, &method, &props, msg->body, msg->len) != 0) {
        self->out_len = 0;
        *why = "out of memory, or a publish rabbitmq-c cannot encode";
        return -1;
    }
    if (self->out_len >= PUBLISHER_FLUSH_BYTES && publisher_flush (self, why) != 0)
        return -1;
    return (int64_t)++self->last_tag;
}

bool
publisher_blocked (publisher_t *self)
{
    assert (self);
    return self->blocked && broker_connected (self->broker);
}

/* connection.blocked (blocked) and connection.unblocked: the output is held
   from the one to the other, and sent at once when the broker reads again. */
static int
s_on_blocking (publisher_t *self, bool blocked, const amqp_frame_t *frame, const char **why)
{
    if (blocked) {
        const amqp_connection_blocked_t *m = frame->payload.method.decoded;
        if (!self->blocked) {
            log_warn ("RabbitMQ blocks this connection's publishes (%.*s): holding them until it "
                      "unblocks it; the store's feed keeps every change",
                      (int)m->reason.len, (const char *)m->reason.bytes);
            self->blocked = true;
            self->blocked_at = clock_mono_ms ();
        }
        return 0;
    }
    if (!self->blocked)
        return 0;
    self->blocked = false;
    log_info ("RabbitMQ unblocked this connection after %.1f s; sending the %zu bytes held",
              (double)(clock_mono_ms () - self->blocked_at) / 1000.0, self->out_len);
    return publisher_flush (self, why);
}

int
publisher_poll (publisher_t *self, publisher_event_t *event, const char **why)
{
    assert (self && event && why);
    if (publisher_flush (self, why) != 0)
        return -1;
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
        broker_frame_t kind = broker_frame_kind (&frame, &event->tag, &event->multiple);
        switch (kind) {
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
        case BROKER_FRAME_BLOCKED:
        case BROKER_FRAME_UNBLOCKED:
            if (s_on_blocking (self, kind == BROKER_FRAME_BLOCKED, &frame, why) != 0)
                return -1;
            break;
        case BROKER_FRAME_CANCEL: /* no consumer on this connection */
        case BROKER_FRAME_OTHER:
            break;
        }
    }
    return 0;
}
