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
#define S_BATCHES_KEPT 1024          /* batches whose reply has not come, kept to resend */
#define S_BATCH_RID_BIT (1ULL << 63) /* batch rids never meet the caller's */

/* A batch sent and not yet answered: a copy of it, to send its requests
   one by one if the store refuses it. */
typedef struct {
    uint64_t rid; /* 0: free */
    char *copy;   /* the envelope (malloc'd), NULL when none could be kept */
    size_t len;
} s_sent_t;

struct _store_client_t {
    void *ctx;
    bool own_ctx;
    void *dealer;
    conn_monitor_t *monitor; /* the DEALER's connects and disconnects, NULL none */
    uint64_t next_rid;
    msgpack_sbuffer buf;
    zmq_msg_t last; /* the frame the last decoded reply borrows from */
    /* Batching (store_client_queue): frames queued back to back in queued,
       frame i at queued_off[i]; the batch being built in envelope. */
    size_t batch_max; /* < 2: queue sends at once */
    msgpack_sbuffer queued, envelope;
    size_t queued_off[PROTO_BATCH_MAX + 1];
    uint64_t queued_rid[PROTO_BATCH_MAX];
    size_t n_queued;
    uint64_t *failed; /* rids of queued requests that could not be sent */
    size_t n_failed, cap_failed;
    uint64_t next_batch;
    s_sent_t *sent; /* S_BATCHES_KEPT, by batch number */
    /* A batch reply being handed out: its frames (in last), the next one. */
    proto_str_t frames[PROTO_BATCH_MAX];
    size_t n_frames, next_frame;
    /* The receipt of the last reply that brought one, returned with the
       next list or feed_read (PROTOCOL.md §4.3). */
    bool has_receipt;
    uint8_t receipt[16];
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
    msgpack_sbuffer_init (&self->queued);
    msgpack_sbuffer_init (&self->envelope);
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
    store_client_set_batch (self, config->batch_max);
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
    msgpack_sbuffer_destroy (&self->queued);
    msgpack_sbuffer_destroy (&self->envelope);
    for (size_t i = 0; self->sent && i < S_BATCHES_KEPT; i++)
        free (self->sent[i].copy);
    free (self->sent);
    free (self->failed);
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
    /* A page request shows the store the last receipt: the replies up to
       it stop counting against this client's bytes, so its pages stay
       full however many it reads. */
    proto_request_t with_receipt;
    if (self->has_receipt && (req->op == PROTO_OP_LIST || req->op == PROTO_OP_FEED_READ)
        && !(req->has & PROTO_HAS_RECEIPT)) {
        with_receipt = *req;
        with_receipt.has |= PROTO_HAS_RECEIPT;
        memcpy (with_receipt.receipt, self->receipt, 16);
        req = &with_receipt;
    }
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

/* The next reply of the batch reply being handed out; 0 when none is left. */
static int
s_recv_held (store_client_t *self, proto_reply_t *reply, proto_error_t *err)
{
    if (self->next_frame >= self->n_frames)
        return 0;
    const proto_str_t *f = &self->frames[self->next_frame++];
    return proto_reply_decode (f->ptr, f->len, reply, err) == PROTO_DECODE_OK ? 1 : -1;
}

/* Adds rid to the requests whose send failed (reported by the flush). */
static void
s_failed (store_client_t *self, uint64_t rid)
{
    if (self->n_failed == self->cap_failed) {
        size_t cap = self->cap_failed ? self->cap_failed * 2 : 256;
        uint64_t *failed = realloc (self->failed, cap * sizeof *failed);
        if (!failed)
            return; /* out of memory: that request is answered at its deadline */
        self->failed = failed;
        self->cap_failed = cap;
    }
    self->failed[self->n_failed++] = rid;
}

/* The copy of the batch sent as rid, taken out (the caller's to free);
   NULL when none is kept (too old: overwritten, or not copied). */
static char *
s_sent_take (store_client_t *self, uint64_t rid, size_t *len)
{
    if (!self->sent)
        return NULL;
    s_sent_t *slot = &self->sent[(rid & ~S_BATCH_RID_BIT) % S_BATCHES_KEPT];
    if (slot->rid != rid)
        return NULL;
    char *copy = slot->copy;
    *len = slot->len;
    *slot = (s_sent_t){ 0 };
    return copy;
}

/* Sends each frame of a batch envelope as a message of its own (their
   rids are the caller's, so the replies find their requests). */
static void
s_send_each (store_client_t *self, const void *envelope, size_t len)
{
    proto_str_t frames[PROTO_BATCH_MAX];
    size_t n;
    uint64_t rid;
    if (proto_batch_decode (envelope, len, false, PROTO_BATCH_MAX, &rid, frames, &n, NULL)
        != PROTO_DECODE_OK)
        return; /* our own encoding: cannot happen */
    for (size_t i = 0; i < n; i++)
        if (zmq_send (self->dealer, frames[i].ptr, frames[i].len, ZMQ_DONTWAIT) < 0) {
            proto_request_t req;
            if (proto_request_decode (frames[i].ptr, frames[i].len, NULL, &req, NULL)
                == PROTO_DECODE_OK)
                s_failed (self, req.rid);
        }
}

/* A reply to a batch (decoded into reply from last). An ok one is opened
   and its first reply handed out (1 or -1; 0 only if it is empty). A
   refusal changed nothing (PROTOCOL.md §3.1): the batch's requests are
   sent again one by one, batches are made smaller (invalid: more frames
   than the store takes) or stop (anything else: an older store), and 0 is
   returned, the caller reading on. */
static int
s_open_batch (store_client_t *self, proto_reply_t *reply, proto_error_t *err)
{
    uint64_t rid = reply->rid;
    size_t len = 0;
    char *copy = s_sent_take (self, rid, &len);
    if (reply->status != PROTO_OK) {
        size_t was = self->batch_max;
        if (reply->status == PROTO_E_INVALID && self->batch_max >= 4)
            self->batch_max /= 2;
        else
            self->batch_max = 0;
        if (self->batch_max != was)
            log_warn ("the store refused a batch (%s: %.*s): %s", proto_status_name (reply->status),
                      (int)reply->message.len, reply->message.ptr ? reply->message.ptr : "",
                      self->batch_max ? "batches made smaller" : "one request per message now");
        proto_reply_clear (reply);
        if (copy)
            s_send_each (self, copy, len);
        else
            log_warn ("a refused batch was too old to send again: its requests time out");
        free (copy);
        return 0;
    }
    free (copy);
    proto_op_t op = reply->op;
    proto_reply_clear (reply);
    if (op != PROTO_OP_BATCH) {
        snprintf (err->message, sizeof err->message, "an ok reply to a batch, of op %s",
                  proto_op_name (op));
        err->has_rid = false;
        return -1;
    }
    if (proto_batch_decode (zmq_msg_data (&self->last), zmq_msg_size (&self->last), true,
                            PROTO_BATCH_MAX, &rid, self->frames, &self->n_frames, err)
        != PROTO_DECODE_OK)
        return -1;
    self->next_frame = 0;
    return s_recv_held (self, reply, err);
}

/* store_client_recv without the receipt's keeping. */
static int
s_recv (store_client_t *self, proto_reply_t *reply, proto_error_t *err)
{
    int held = s_recv_held (self, reply, err);
    if (held != 0)
        return held;
    self->n_frames = 0;
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
    if (!framed) {
        *err = (proto_error_t){ .message = "store reply of several frames dropped" };
        return -1;
    }
    if (proto_reply_decode (zmq_msg_data (&self->last), zmq_msg_size (&self->last), reply, err)
        != PROTO_DECODE_OK)
        return -1;
    /* By its rid: an older store refuses a batch as an unknown op, its
       reply's op nil. A refusal handled, read on. */
    if (reply->rid & S_BATCH_RID_BIT) {
        int rc = s_open_batch (self, reply, err);
        return rc != 0 ? rc : s_recv (self, reply, err);
    }
    return 1;
}

int
store_client_recv (store_client_t *self, proto_reply_t *reply, proto_error_t *err)
{
    assert (self);
    proto_error_t scratch;
    int rc = s_recv (self, reply, err ? err : &scratch);
    if (rc == 1 && reply->has_receipt) {
        memcpy (self->receipt, reply->receipt, 16);
        self->has_receipt = true;
    }
    return rc;
}

bool
store_client_holds (store_client_t *self)
{
    assert (self);
    return self->next_frame < self->n_frames;
}

void
store_client_set_batch (store_client_t *self, size_t max)
{
    assert (self);
    if (max > PROTO_BATCH_MAX)
        max = PROTO_BATCH_MAX;
    if (max >= 2 && !self->sent)
        self->sent = calloc (S_BATCHES_KEPT, sizeof *self->sent);
    self->batch_max = self->sent ? max : 0;
}

/* Sends what is queued: one frame as it is, several as a batch (one by
   one when batching was turned off since they were queued). On a failure
   their rids go to the failed list. Returns whether anything went out. */
static bool
s_send_queued (store_client_t *self)
{
    size_t n = self->n_queued;
    if (n == 0)
        return false;
    self->n_queued = 0;
    if (n == 1 || self->batch_max < 2) {
        bool out = false;
        for (size_t i = 0; i < n; i++) {
            if (zmq_send (self->dealer, self->queued.data + self->queued_off[i],
                          self->queued_off[i + 1] - self->queued_off[i], ZMQ_DONTWAIT)
                < 0)
                s_failed (self, self->queued_rid[i]);
            else
                out = true;
        }
        msgpack_sbuffer_clear (&self->queued);
        return out;
    }
    uint64_t rid = S_BATCH_RID_BIT | ++self->next_batch;
    msgpack_sbuffer_clear (&self->envelope);
    int rc = proto_batch_begin (rid, false, n, &self->envelope);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = proto_batch_append (self->queued.data + self->queued_off[i],
                                 self->queued_off[i + 1] - self->queued_off[i], &self->envelope);
    if (rc == 0)
        rc = zmq_send (self->dealer, self->envelope.data, self->envelope.size, ZMQ_DONTWAIT);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            s_failed (self, self->queued_rid[i]);
    } else {
        /* Kept until its reply comes, to send again one by one if the
           store refuses it; the slot's last batch, if unanswered so long,
           is given up. */
        s_sent_t *slot = &self->sent[self->next_batch % S_BATCHES_KEPT];
        free (slot->copy);
        *slot = (s_sent_t){ .rid = rid,
                            .copy = malloc (self->envelope.size),
                            .len = self->envelope.size };
        if (slot->copy)
            memcpy (slot->copy, self->envelope.data, self->envelope.size);
    }
    msgpack_sbuffer_clear (&self->queued);
    return rc >= 0;
}

int
store_client_queue (store_client_t *self, const proto_request_t *req)
{
    assert (self);
    if (self->batch_max < 2 || !proto_batch_allows (req->op))
        return store_client_send (self, req);
    size_t start = self->queued.size;
    if (proto_request_encode (req, &self->queued) != 0) {
        self->queued.size = start;
        errno = ENOMEM;
        return -1;
    }
    self->queued_off[self->n_queued] = start;
    self->queued_off[self->n_queued + 1] = self->queued.size;
    self->queued_rid[self->n_queued++] = req->rid;
    if (self->n_queued < self->batch_max)
        return 0;
    return s_send_queued (self) ? 1 : 0; /* a full batch goes now, not at the flush */
}

size_t
store_client_flush (store_client_t *self, uint64_t *failed, size_t max)
{
    assert (self);
    s_send_queued (self);
    size_t n = self->n_failed < max ? self->n_failed : max;
    if (n) {
        memcpy (failed, self->failed, n * sizeof *failed);
        memmove (self->failed, self->failed + n, (self->n_failed - n) * sizeof *failed);
        self->n_failed -= n;
    }
    return n;
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
