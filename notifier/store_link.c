/*
 * store_link — see store_link.h. One reply frame is kept alive between
 * calls because the decoded strings point into it.
 */
#include "store_link.h"

#include "log.h"

#include <assert.h>
#include <czmq.h>
#include <string.h>

#define STORE_LINK_LINGER_MS 2000 /* lets the final feed_ack leave on exit */

struct _store_link_t {
    zsock_t *sock;
    zframe_t *frame;     /* frame of the last decoded reply */
    proto_reply_t reply; /* owns the decoded arrays */
    uint64_t next_rid;
    msgpack_sbuffer buf;
};

store_link_t *
store_link_new (const char *endpoint)
{
    store_link_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock) {
        free (self);
        return NULL;
    }
    zsock_set_immediate (self->sock, 1);
    zsock_set_linger (self->sock, STORE_LINK_LINGER_MS);
    zsock_set_heartbeat_ivl (self->sock, 1000);
    zsock_set_heartbeat_timeout (self->sock, 3000);
    zsock_set_reconnect_ivl (self->sock, 100);
    zsock_set_reconnect_ivl_max (self->sock, 2000);
    if (zsock_connect (self->sock, "%s", endpoint) != 0) {
        log_error ("cannot connect to the store at '%s'", endpoint);
        zsock_destroy (&self->sock);
        free (self);
        return NULL;
    }
    msgpack_sbuffer_init (&self->buf);
    self->next_rid = 1;
    return self;
}

void
store_link_destroy (store_link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_link_t *self = *self_p;
    proto_reply_clear (&self->reply);
    zframe_destroy (&self->frame);
    zsock_destroy (&self->sock);
    msgpack_sbuffer_destroy (&self->buf);
    free (self);
    *self_p = NULL;
}

void *
store_link_handle (store_link_t *self)
{
    assert (self);
    return zsock_resolve (self->sock);
}

static uint64_t
s_send (store_link_t *self, proto_request_t *req)
{
    req->rid = self->next_rid++;
    msgpack_sbuffer_clear (&self->buf);
    if (proto_request_encode (req, &self->buf) != 0)
        return 0;
    if (zmq_send (zsock_resolve (self->sock), self->buf.data, self->buf.size, ZMQ_DONTWAIT) < 0)
        return 0;
    return req->rid;
}

uint64_t
store_link_read (store_link_t *self, uint64_t from, uint32_t max)
{
    assert (self);
    proto_request_t req = { .op = PROTO_OP_FEED_READ, .has = PROTO_HAS_MAX, .max = max };
    if (from > 0) {
        req.has |= PROTO_HAS_FROM;
        req.from = from;
    }
    return s_send (self, &req);
}

uint64_t
store_link_ack (store_link_t *self, uint64_t seq, const uint8_t *store_id)
{
    assert (self);
    proto_request_t req = { .op = PROTO_OP_FEED_ACK, .has = PROTO_HAS_SEQ, .seq = seq };
    if (store_id) {
        req.has |= PROTO_HAS_STORE_ID;
        memcpy (req.store_id, store_id, 16);
    }
    return s_send (self, &req);
}

int
store_link_recv (store_link_t *self, proto_reply_t *reply)
{
    assert (self);
    proto_reply_clear (&self->reply);
    zframe_destroy (&self->frame);
    self->frame = zframe_recv_nowait (self->sock);
    if (!self->frame)
        return 0;
    /* One frame per reply is the protocol; tolerate a leading delimiter by
       keeping the last part of a multipart message. */
    while (zframe_more (self->frame)) {
        zframe_t *next = zframe_recv (self->sock);
        if (!next)
            break;
        zframe_destroy (&self->frame);
        self->frame = next;
    }
    proto_error_t err;
    if (proto_reply_decode (zframe_data (self->frame), zframe_size (self->frame), &self->reply,
                            &err)
        != PROTO_DECODE_OK) {
        log_warn ("dropping malformed store reply: %s", err.message);
        return -1;
    }
    *reply = self->reply;
    return 1;
}
