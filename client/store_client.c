/*
 * store_client — see store_client.h.
 *
 * Raw libzmq rather than czmq: the gateway runs one context per process
 * and one client per event-loop thread, and the hot path receives into a
 * zmq_msg_t that is decoded in place (no copy of the frame).
 */
#include "store_client.h"

#include "clock.h"
#include "conn_monitor.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_HEARTBEAT_IVL_MS 1000
#define S_HEARTBEAT_TIMEOUT_MS 3000
#define S_RECONNECT_IVL_MS 100
#define S_RECONNECT_IVL_MAX_MS 2000

struct _store_client_t {
    void *ctx;
    bool own_ctx;
    void *dealer;
    conn_monitor_t *monitor; /* the DEALER's connects and disconnects, NULL none */
    uint64_t next_rid;
    msgpack_sbuffer buf;
    zmq_msg_t last; /* the frame the last decoded reply borrows from */
};

store_client_t *
store_client_new (const store_client_config_t *config)
{
    assert (config && config->endpoint);
    store_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    zmq_msg_init (&self->last);
    msgpack_sbuffer_init (&self->buf);
    self->next_rid = 1;
    self->ctx = config->zmq_ctx;
    if (!self->ctx) {
        self->ctx = zmq_ctx_new ();
        self->own_ctx = true;
    }
    self->dealer = self->ctx ? zmq_socket (self->ctx, ZMQ_DEALER) : NULL;
    if (!self->dealer) {
        log_error ("cannot create a socket for the store: %s", zmq_strerror (errno));
        store_client_destroy (&self);
        return NULL;
    }
    int one = 1, linger = config->linger_ms;
    int heartbeat_ivl = S_HEARTBEAT_IVL_MS, heartbeat_timeout = S_HEARTBEAT_TIMEOUT_MS;
    int reconnect = config->reconnect_ms > 0 ? config->reconnect_ms : S_RECONNECT_IVL_MS;
    int reconnect_max = S_RECONNECT_IVL_MAX_MS;
    int64_t maxmsg = 2 * PROTO_FRAME_MAX; /* a bigger frame is no reply of ours */
    zmq_setsockopt (self->dealer, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt (self->dealer, ZMQ_LINGER, &linger, sizeof linger);
    if (config->hwm > 0) {
        zmq_setsockopt (self->dealer, ZMQ_SNDHWM, &config->hwm, sizeof config->hwm);
        zmq_setsockopt (self->dealer, ZMQ_RCVHWM, &config->hwm, sizeof config->hwm);
    }
    zmq_setsockopt (self->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt (self->dealer, ZMQ_HEARTBEAT_IVL, &heartbeat_ivl, sizeof heartbeat_ivl);
    zmq_setsockopt (self->dealer, ZMQ_HEARTBEAT_TIMEOUT, &heartbeat_timeout,
                    sizeof heartbeat_timeout);
    zmq_setsockopt (self->dealer, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
    zmq_setsockopt (self->dealer, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max);
    assert (!config->curve_keys == !config->curve_server_key);
    if (config->curve_keys
        && curve_make_client (self->dealer, config->curve_keys, config->curve_server_key) != 0) {
        log_error ("cannot apply the CURVE keys: %s", zmq_strerror (errno));
        store_client_destroy (&self);
        return NULL;
    }
    /* Connections made and lost, for the metrics (conn_monitor.h). */
    if (config->monitor)
        self->monitor =
            conn_monitor_new (self->ctx, self->dealer, ZMQ_EVENT_CONNECTED, ZMQ_EVENT_DISCONNECTED);
    if (zmq_connect (self->dealer, config->endpoint) != 0) {
        log_error ("cannot connect to the store at '%s': %s", config->endpoint,
                   zmq_strerror (errno));
        store_client_destroy (&self);
        return NULL;
    }
    return self;
}

void
store_client_destroy (store_client_t **self_p)
{
    assert (self_p);
    store_client_t *self = *self_p;
    if (!self)
        return;
    zmq_msg_close (&self->last);
    conn_monitor_destroy (&self->monitor);
    if (self->dealer)
        zmq_close (self->dealer);
    if (self->own_ctx && self->ctx)
        zmq_ctx_term (self->ctx);
    msgpack_sbuffer_destroy (&self->buf);
    free (self);
    *self_p = NULL;
}

void *
store_client_socket (store_client_t *self)
{
    assert (self);
    return self->dealer;
}

int
store_client_send (store_client_t *self, const proto_request_t *req)
{
    assert (self);
    msgpack_sbuffer_clear (&self->buf);
    if (proto_request_encode (req, &self->buf) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return zmq_send (self->dealer, self->buf.data, self->buf.size, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

uint64_t
store_client_request (store_client_t *self, proto_request_t *req)
{
    assert (self);
    req->rid = self->next_rid++;
    return store_client_send (self, req) == 0 ? req->rid : 0;
}

int
store_client_recv (store_client_t *self, proto_reply_t *reply, proto_error_t *err)
{
    assert (self);
    zmq_msg_close (&self->last);
    zmq_msg_init (&self->last);
    if (zmq_msg_recv (&self->last, self->dealer, ZMQ_DONTWAIT) < 0)
        return 0;
    /* One frame per reply is the protocol; a leading empty delimiter (a
       REQ-style envelope) is tolerated, anything else is not ours. */
    bool framed = true;
    while (zmq_msg_more (&self->last)) {
        framed = framed && zmq_msg_size (&self->last) == 0;
        if (zmq_msg_recv (&self->last, self->dealer, ZMQ_DONTWAIT) < 0)
            break;
    }
    proto_error_t scratch;
    if (!err)
        err = &scratch;
    if (!framed) {
        *err = (proto_error_t){ .message = "store reply of several frames dropped" };
        return -1;
    }
    if (proto_reply_decode (zmq_msg_data (&self->last), zmq_msg_size (&self->last), reply, err)
        != PROTO_DECODE_OK)
        return -1;
    return 1;
}

int
store_client_call (store_client_t *self, proto_request_t *req, int timeout_ms, proto_reply_t *reply)
{
    assert (self);
    int64_t deadline = clock_mono_ms () + timeout_ms;
    /* With ZMQ_IMMEDIATE nothing is queued before the connection is made:
       wait for it (POLLOUT) within the same deadline. */
    uint64_t rid = 0;
    for (int64_t now = clock_mono_ms (); rid == 0 && now < deadline; now = clock_mono_ms ()) {
        zmq_pollitem_t item = { self->dealer, 0, ZMQ_POLLOUT, 0 };
        if (zmq_poll (&item, 1, (long)(deadline - now)) > 0)
            rid = store_client_request (self, req);
    }
    if (rid == 0)
        return -1;
    for (int64_t now = clock_mono_ms (); now < deadline; now = clock_mono_ms ()) {
        zmq_pollitem_t item = { self->dealer, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long)(deadline - now)) <= 0)
            continue;
        int rc;
        while ((rc = store_client_recv (self, reply, NULL)) != 0) {
            if (rc == 1 && reply->rid == rid)
                return 0;
            if (rc == 1)
                proto_reply_clear (reply);
        }
    }
    return -1;
}

void
store_client_connections (store_client_t *self, uint64_t *connects, uint64_t *disconnects)
{
    assert (self);
    if (self->monitor)
        conn_monitor_drain (self->monitor, connects, disconnects);
    else {
        if (connects)
            *connects = 0;
        if (disconnects)
            *disconnects = 0;
    }
}
