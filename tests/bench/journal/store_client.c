/*
 * store_client — see store_client.h. Requests are numbered from 1 on this
 * socket; a reply whose rid is not the awaited one (a ping that timed out
 * earlier, say) is dropped.
 */
#include "store_client.h"

#include "clock.h"
#include "proto.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define STORE_CLIENT_RECONNECT_MS 1

struct _store_client_t {
    void *ctx;
    void *dealer;
    uint64_t rid;
    msgpack_sbuffer buf;
};

store_client_t *
store_client_new (const char *endpoint)
{
    store_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    msgpack_sbuffer_init (&self->buf);
    self->ctx = zmq_ctx_new ();
    if (self->ctx)
        self->dealer = zmq_socket (self->ctx, ZMQ_DEALER);
    int linger = 0, reconnect = STORE_CLIENT_RECONNECT_MS;
    if (!self->dealer || zmq_setsockopt (self->dealer, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_setsockopt (self->dealer, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect) != 0
        || zmq_connect (self->dealer, endpoint) != 0) {
        fprintf (stderr, "bench: cannot connect to %s: %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        store_client_destroy (&self);
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
    if (self->dealer)
        zmq_close (self->dealer);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    msgpack_sbuffer_destroy (&self->buf);
    free (self);
    *self_p = NULL;
}

/* Sends one request of op and waits for its reply into *reply (decoded;
   the caller clears it) and *msg (which holds the bytes the reply's
   strings point into; the caller closes it). Returns 0 or -1. */
static int
s_request (store_client_t *self, proto_op_t op, int timeout_ms, zmq_msg_t *msg,
           proto_reply_t *reply)
{
    proto_request_t req = { .op = op, .rid = ++self->rid };
    msgpack_sbuffer_clear (&self->buf);
    if (proto_request_encode (&req, &self->buf) != 0
        || zmq_send (self->dealer, self->buf.data, self->buf.size, ZMQ_DONTWAIT) < 0)
        return -1;
    int64_t deadline = clock_mono_ms () + timeout_ms;
    for (;;) {
        int64_t left = deadline - clock_mono_ms ();
        zmq_pollitem_t item = { self->dealer, 0, ZMQ_POLLIN, 0 };
        if (left <= 0 || zmq_poll (&item, 1, (long)left) <= 0)
            return -1;
        zmq_msg_init (msg);
        if (zmq_msg_recv (msg, self->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (msg);
            continue;
        }
        proto_error_t err;
        if (proto_reply_decode (zmq_msg_data (msg), zmq_msg_size (msg), reply, &err)
            != PROTO_DECODE_OK) {
            fprintf (stderr, "bench: undecodable reply: %s\n", err.message);
            zmq_msg_close (msg);
            continue;
        }
        if (reply->rid == req.rid && reply->status == PROTO_OK)
            return 0;
        bool failed = reply->rid == req.rid;
        if (failed)
            fprintf (stderr, "bench: %s: %s\n", proto_op_name (op),
                     proto_status_name (reply->status));
        proto_reply_clear (reply);
        zmq_msg_close (msg);
        if (failed)
            return -1;
    }
}

int
store_client_ping (store_client_t *self, int timeout_ms)
{
    assert (self);
    zmq_msg_t msg;
    proto_reply_t reply;
    if (s_request (self, PROTO_OP_PING, timeout_ms, &msg, &reply) != 0)
        return -1;
    proto_reply_clear (&reply);
    zmq_msg_close (&msg);
    return 0;
}

/* The stats names the benchmarks read, and where each goes. */
static uint64_t *
s_slot (store_stats_t *out, const char *name, size_t len)
{
    static const struct {
        const char *name;
        size_t offset;
    } names[] = {
        { "events", offsetof (store_stats_t, events) },
        { "rss_bytes", offsetof (store_stats_t, rss_bytes) },
        { "journal_bytes", offsetof (store_stats_t, journal_bytes) },
        { "journal_live_bytes_estimate", offsetof (store_stats_t, journal_live_bytes) },
        { "journal_commits", offsetof (store_stats_t, journal_commits) },
        { "journal_records", offsetof (store_stats_t, journal_records) },
        { "journal_syncs", offsetof (store_stats_t, journal_syncs) },
        { "journal_sync_us_total", offsetof (store_stats_t, journal_sync_us_total) },
        { "journal_sync_us_max", offsetof (store_stats_t, journal_sync_us_max) },
        { "journal_unsynced_max_ms", offsetof (store_stats_t, journal_unsynced_max_ms) },
        { "journal_write_errors", offsetof (store_stats_t, journal_write_errors) },
        { "journal_rewrites", offsetof (store_stats_t, journal_rewrites) },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen (names[i].name) == len && memcmp (names[i].name, name, len) == 0)
            return (uint64_t *)((char *)out + names[i].offset);
    return NULL;
}

int
store_client_stats (store_client_t *self, store_stats_t *out, int timeout_ms)
{
    assert (self);
    memset (out, 0, sizeof *out);
    zmq_msg_t msg;
    proto_reply_t reply;
    if (s_request (self, PROTO_OP_STATS, timeout_ms, &msg, &reply) != 0)
        return -1;
    for (size_t i = 0; i < reply.n_stats; i++) {
        const proto_stat_t *stat = &reply.stats[i];
        uint64_t *slot = s_slot (out, stat->name.ptr, stat->name.len);
        if (slot)
            *slot = stat->value;
        if (stat->name.len == 13 && memcmp (stat->name.ptr, "journal_bytes", 13) == 0)
            out->journal = true;
    }
    proto_reply_clear (&reply);
    zmq_msg_close (&msg);
    return 0;
}

int
store_stats_fetch (const char *endpoint, store_stats_t *out, int timeout_ms)
{
    store_client_t *client = store_client_new (endpoint);
    if (!client)
        return -1;
    int rc = store_client_stats (client, out, timeout_ms);
    store_client_destroy (&client);
    return rc;
}
