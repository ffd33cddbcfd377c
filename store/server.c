/*
 * server — see server.h.
 *
 * The hot path uses libzmq's zmq_msg_t API on the sockets czmq created:
 * the identity frame received is the one sent back (no copy), the request
 * payload is decoded in place, and the reply is encoded into one
 * msgpack_sbuffer reused for every request, then copied into a slot of
 * reply_pool (sent zero-copy, handed back by libzmq's I/O thread without
 * malloc's arena lock). Per request the only heap traffic is libzmq's own:
 * the small header of a zero-copy message, and the request frames its I/O
 * thread reads in shared buffers.
 *
 * What a peer that never reads costs (issue 14). Replies the ROUTER cannot
 * queue are dropped and counted (unroutable), so the question is only how
 * much one peer's queue can hold. libzmq bounds it in messages: S_SNDHWM
 * replies (the issue measured 100,000 of them, each list reply ~1 MiB: 8 MB
 * to 399 MB of RSS from one peer sending 400 lists). libzmq's writer learns
 * of the reader's progress in steps of up to 1024 messages, so a peer
 * reading as fast as it can still sees drops once it keeps more than about
 * S_SNDHWM - 1024 requests in flight (measured: a 2048-deep benchmark lost
 * replies at 2048, a 1024-deep one none); S_SNDHWM is 2048, twice the
 * gateway's default --max-inflight of 1024 (which is also its default
 * --max-connections: it cannot have more in flight) and of the store
 * benchmark's window of 1000. The message bound alone would still allow
 * 2048 x 1 MiB, so the bytes are bounded by the store itself
 * (store/peers.h): the queue is FIFO and holds at most S_SNDHWM messages,
 * plus the one or two libzmq's I/O thread is writing, so anything a peer
 * has not taken is among the last S_PEER_WINDOW replies sent to it; list
 * and feed_read replies are cut to fit S_PEER_BYTES minus the others in
 * that window (a shorter page, never a refusal: the client follows
 * next_after / the next seq). A reply that gets no room still carries one
 * event (a page's first item, or a get / create / update), so the bound per
 * peer is S_PEER_BYTES + one event per reply in the window: 4 MiB and a
 * few hundred KB for a peer flooding lists; at worst (2048 unread replies
 * of the largest event the default limits allow, ~4.5 KB each) ~9 MB; plus
 * kernel socket buffers, which are not the store's RSS. Measured
 * (tests/store/test_store_bounds): 400 unread lists of ~1 MiB grew the RSS
 * by 383 MB with the old HWM of 100,000 and no byte bound; the figures for
 * the lists and for 4000 unread gets of the largest event are printed by
 * that test. The price: while a peer's last 2050 replies add up to more
 * than 4 MiB (a peer that took several big pages lately), its pages are
 * short until newer, smaller replies push those out, or until it sends back
 * the receipt of a reply it read (peers.h, PROTOCOL.md §4.3), which takes
 * that reply and every one before it out of the count. A client let in by its
 * CURVE key (store/zap.h) is one of Herald's own services and is never
 * cut: with keys the budget only ever applies to a store run --insecure
 * or on loopback without them. PUB has a message bound of its own
 * (S_PUB_HWM): its notes are one event each.
 *
 * The live stream carries three topics: a note per change (event.created,
 * event.updated) and, once per loop pass that changed anything, after that
 * pass's notes, a small "feed" message with the feed's head. The notifier
 * only needs to know that the feed moved, so it subscribes to "feed" alone:
 * under load that is one tiny message per pass instead of every event in
 * full, twice (created, then processed), encoded here and decoded there.
 * The store counts the subscriptions that cover each topic and encodes
 * nothing for a topic no one would receive.
 */
#include "server.h"

#include "log.h"
#include "conn_monitor.h"
#include "outbox.h"
#include "peers.h"
#include "reply_pool.h"
#include "zap.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define S_TICK_MS 1000                 /* loop wakes at least this often */
#define S_BATCH_MAX 4096               /* messages per wake before polling again */
#define S_SNDHWM 2048                  /* replies queued per peer (messages) */
#define S_RCVHWM 100000                /* requests queued per peer, read as fast as they come */
#define S_PUB_HWM 1000                 /* notes queued per subscriber, then dropped */
#define S_PEER_BYTES (4u << 20)        /* reply bytes a peer may have queued (peers.h) */
#define S_PEER_WINDOW (S_SNDHWM + 2)   /* replies that may still be queued: the HWM + I/O */
#define S_PEER_IDLE_MS (2 * 60 * 1000) /* forget a silent peer (heartbeats closed it) */
#define S_LINGER_MS 1000               /* lets the last replies leave on exit */
#define S_HEARTBEAT_IVL 10000          /* ZMTP PING every 10 s ... */
#define S_HEARTBEAT_TIMEOUT 30000      /* ... a silent peer dropped after 30 s */

struct _server_t {
    dispatch_t *dispatch;
    persist_t *persist;
    metrics_http_t *metrics; /* --metrics-listen, or NULL */
    conn_monitor_t *monitor; /* the ROUTER's connections, NULL when unmonitored */
    outbox_t *outbox;        /* with a journal: replies and notes held for the commit */
    reply_pool_t *pool;      /* the replies' buffers (reply_pool.h) */
    dispatch_counters_t *counters;
    zap_t *zap;         /* with CURVE: who may connect */
    peers_t *peers;     /* reply bytes each peer may have queued */
    bool counting;      /* the message being handled is from a peer peers counts */
    int64_t expired_ms; /* last peers_expire */
    zsock_t *router;
    zsock_t *pub;
    void *router_raw;
    void *pub_raw;
    /* Distinct subscriptions on PUB that cover each topic (a prefix of it),
       indexed by s_topic_t (s_read_subscriptions). */
    size_t covering[3];
    bool changed;  /* a change since the last "feed" message */
    uint64_t head; /* the seq of the last change */
    msgpack_sbuffer reply;
    msgpack_sbuffer note;
};

/* The live stream's topics, as indexes of covering[]. */
typedef enum { S_TOPIC_CREATED, S_TOPIC_UPDATED, S_TOPIC_FEED } s_topic_t;

static const char *
s_topic_name (s_topic_t topic)
{
    if (topic == S_TOPIC_FEED)
        return PROTO_FEED_TOPIC;
    return proto_change_routing_key (topic == S_TOPIC_CREATED ? PROTO_CHANGE_CREATED
                                                              : PROTO_CHANGE_UPDATED);
}

/* dispatch_receipt_fn: a page reply to a peer whose replies are counted
   carries the receipt of that reply (peers.h). */
static bool
s_receipt (void *arg, uint8_t receipt[16])
{
    server_t *self = arg;
    return self->counting && peers_receipt (self->peers, receipt);
}

/* Publishes one change on PUB; called by the dispatcher after each write. */
static void
s_publish (void *arg, const proto_change_t *change)
{
    server_t *self = arg;
    self->changed = true;
    self->head = change->seq;
    /* Nobody listening: nothing to encode (libzmq would drop it anyway). */
    if (self->covering[change->kind == PROTO_CHANGE_CREATED ? S_TOPIC_CREATED : S_TOPIC_UPDATED]
        == 0)
        return;
    msgpack_sbuffer_clear (&self->note);
    if (proto_notification_encode (change, &self->note) != 0)
        return;
    const char *key = proto_change_routing_key (change->kind);
    if (self->persist) {
        outbox_hold_note (self->outbox, key, self->note.data, self->note.size);
        return;
    }
    if (zmq_send (self->pub_raw, key, strlen (key), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return;
    if (zmq_send (self->pub_raw, self->note.data, self->note.size, ZMQ_DONTWAIT) >= 0)
        self->counters->published++;
}

server_t *
server_new (dispatch_t *dispatch, const char *bind, const char *pub_bind,
            const server_curve_t *curve)
{
    assert (dispatch);
    server_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dispatch = dispatch;
    self->counters = dispatch_counters (dispatch);
    msgpack_sbuffer_init (&self->reply);
    msgpack_sbuffer_init (&self->note);
    self->outbox = outbox_new ();
    self->pool = reply_pool_new ();
    self->peers = peers_new (S_PEER_WINDOW, S_PEER_BYTES);
    self->router = zsock_new (ZMQ_ROUTER);
    /* XPUB rather than PUB: the same stream for subscribers, and it tells
       the store whether anyone subscribes (s_read_subscriptions). */
    self->pub = zsock_new (ZMQ_XPUB);
    if (!self->outbox || !self->pool || !self->peers) {
        log_error ("out of memory");
        goto failed;
    }
    if (!self->router || !self->pub) {
        log_error ("cannot create sockets: %s", zmq_strerror (zmq_errno ()));
        goto failed;
    }
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_sndhwm (self->router, S_SNDHWM);
    zsock_set_rcvhwm (self->router, S_RCVHWM);
    zsock_set_maxmsgsize (self->router, 2 * PROTO_FRAME_MAX);
    zsock_set_heartbeat_ivl (self->router, S_HEARTBEAT_IVL);
    zsock_set_heartbeat_timeout (self->router, S_HEARTBEAT_TIMEOUT);
    zsock_set_linger (self->router, S_LINGER_MS);
    zsock_set_sndhwm (self->pub, S_PUB_HWM);
    /* Connections accepted and lost, for /metrics: a service that
       reconnects or restarts shows here (conn_monitor.h). */
    self->monitor = conn_monitor_new (zsys_init (), zsock_resolve (self->router),
                                      ZMQ_EVENT_ACCEPTED, ZMQ_EVENT_DISCONNECTED);
    if (curve && curve->keys) {
        /* The handler must be bound before the first handshake. */
        self->zap = zap_new (curve->clients_dir, curve->keys->public_key);
        if (!self->zap)
            goto failed;
        if (curve_make_server (zsock_resolve (self->router), curve->keys) != 0
            || curve_make_server (zsock_resolve (self->pub), curve->keys) != 0) {
            log_error ("cannot apply the CURVE keys: %s", zmq_strerror (zmq_errno ()));
            goto failed;
        }
        log_info ("CURVE on: %zu client key(s) allowed from %s", zap_allowed (self->zap),
                  curve->clients_dir);
    }
    if (zsock_bind (self->router, "%s", bind) == -1) {
        log_error ("cannot bind %s: %s", bind, zmq_strerror (zmq_errno ()));
        goto failed;
    }
    if (zsock_bind (self->pub, "%s", pub_bind) == -1) {
        log_error ("cannot bind %s: %s", pub_bind, zmq_strerror (zmq_errno ()));
        goto failed;
    }
    self->router_raw = zsock_resolve (self->router);
    self->pub_raw = zsock_resolve (self->pub);
    dispatch_set_change_handler (dispatch, s_publish, self);
    dispatch_set_receipt_handler (dispatch, s_receipt, self);
    return self;
failed:
    server_destroy (&self);
    return NULL;
}

void
server_destroy (server_t **self_p)
{
    assert (self_p);
    server_t *self = *self_p;
    if (!self)
        return;
    dispatch_set_change_handler (self->dispatch, NULL, NULL);
    dispatch_set_receipt_handler (self->dispatch, NULL, NULL);
    zsock_destroy (&self->router);
    zsock_destroy (&self->pub);
    zap_destroy (&self->zap);
    peers_destroy (&self->peers);
    conn_monitor_destroy (&self->monitor);
    outbox_destroy (&self->outbox);
    reply_pool_destroy (&self->pool); /* freed once libzmq released the last reply */
    msgpack_sbuffer_destroy (&self->reply);
    msgpack_sbuffer_destroy (&self->note);
    free (self);
    *self_p = NULL;
}

void
server_set_persist (server_t *self, persist_t *persist)
{
    assert (self);
    self->persist = persist;
}

void
server_set_metrics (server_t *self, metrics_http_t *metrics)
{
    assert (self);
    self->metrics = metrics;
}

/* Sends data to identity (consumed), mirroring the request's envelope. */
static void
s_send (server_t *self, zmq_msg_t *identity, bool delimiter, const void *data, size_t size)
{
    zmq_msg_t body;
    if (size == 0 || reply_pool_msg (self->pool, &body, data, size) != 0) {
        zmq_msg_close (identity); /* out of memory (encoding or here): nothing to send */
        return;
    }
    if (zmq_msg_send (identity, self->router_raw, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        /* EHOSTUNREACH: peer gone; EAGAIN: its queue is full. Never wait. */
        self->counters->unroutable++;
        log_debug ("reply unroutable: %s", zmq_strerror (zmq_errno ()));
        zmq_msg_close (identity);
        zmq_msg_close (&body);
        return;
    }
    /* Once the identity frame is accepted the rest of the message is too. */
    if (delimiter)
        zmq_send (self->router_raw, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (zmq_msg_send (&body, self->router_raw, ZMQ_DONTWAIT) < 0)
        zmq_msg_close (&body);
}

/* Sends the reply in self->reply, or holds it for the group commit. */
static void
s_reply (server_t *self, zmq_msg_t *identity, bool delimiter, bool durable)
{
    if (!self->persist)
        s_send (self, identity, delimiter, self->reply.data, self->reply.size);
    else
        outbox_hold_reply (self->outbox, identity, delimiter, durable, self->reply.data,
                           self->reply.size);
}

/* Sends the "feed" message when this pass changed anything and someone
   subscribes to it: after the pass's notes, and with a journal only once
   the changes are committed, as the notes are. */
static void
s_ring (server_t *self)
{
    if (!self->changed)
        return;
    self->changed = false;
    if (self->covering[S_TOPIC_FEED] == 0)
        return;
    msgpack_sbuffer_clear (&self->note);
    if (proto_feed_ring_encode (self->head, &self->note) != 0)
        return;
    if (zmq_send (self->pub_raw, PROTO_FEED_TOPIC, strlen (PROTO_FEED_TOPIC),
                  ZMQ_SNDMORE | ZMQ_DONTWAIT)
        >= 0)
        zmq_send (self->pub_raw, self->note.data, self->note.size, ZMQ_DONTWAIT);
}

/* outbox_send_fn */
static void
s_send_held (void *arg, zmq_msg_t *identity, bool delimiter, const void *data, size_t size)
{
    s_send (arg, identity, delimiter, data, size);
}

/* outbox_note_fn */
static void
s_publish_held (void *arg, const char *topic, size_t topic_size, const void *body, size_t size)
{
    server_t *self = arg;
    if (zmq_send (self->pub_raw, topic, topic_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0
        && zmq_send (self->pub_raw, body, size, ZMQ_DONTWAIT) >= 0)
        self->counters->published++;
}

/* After a commit: sends every held reply when committed, else only those
   that did not wait for the journal (outbox.h); when committed, the notes
   and then the "feed" message too. */
static void
s_flush_held (server_t *self, bool committed)
{
    outbox_flush (self->outbox, committed, s_send_held, s_publish_held, self);
    if (committed)
        s_ring (self);
}

/* Takes every subscription message XPUB queued: 1 (subscribe) or 0
   (unsubscribe), then the topic. Without XPUB_VERBOSE libzmq passes on
   only a topic's first subscription and its last unsubscription (a
   subscriber that disconnects unsubscribes from everything it had), so
   covering[t] is the number of distinct subscribed topics that are a
   prefix of topic t, and 0 means nobody would receive it. A topic longer
   than the buffer covers none of ours. */
static void
s_read_subscriptions (server_t *self)
{
    uint8_t msg[32];
    int len;
    while ((len = zmq_recv (self->pub_raw, msg, sizeof msg, ZMQ_DONTWAIT)) >= 0) {
        if (len < 1 || (size_t)len > sizeof msg || msg[0] > 1)
            continue;
        size_t topic_len = (size_t)len - 1;
        for (int t = S_TOPIC_CREATED; t <= S_TOPIC_FEED; t++) {
            const char *name = s_topic_name ((s_topic_t)t);
            if (topic_len > strlen (name) || memcmp (msg + 1, name, topic_len) != 0)
                continue;
            if (msg[0] == 1)
                self->covering[t]++;
            else if (self->covering[t] > 0)
                self->covering[t]--;
        }
        log_debug ("live stream: subscribers to event.created %zu, event.updated %zu, feed %zu",
                   self->covering[S_TOPIC_CREATED], self->covering[S_TOPIC_UPDATED],
                   self->covering[S_TOPIC_FEED]);
    }
}

/* One message received and not yet handled: its identity, the first two
   frames after it (the rest are discarded as they come) and what the
   lookahead learned of its request. */
typedef struct {
    zmq_msg_t identity, frames[2];
    size_t count;                /* frames after the identity, discarded ones included */
    proto_request_hints_t hints; /* of the payload, read once (set only when framed) */
    dispatch_ahead_t ahead;
} s_msg_t;

/* Whether m has the shape of a request: [delimiter] payload. */
static bool
s_framed (const s_msg_t *m)
{
    return m->count == 1 || (m->count == 2 && zmq_msg_size (&m->frames[0]) == 0);
}

/* Receives one message into m and starts its lookahead. Returns 1 when one
   was received (m then owns its frames until s_handle), 0 when none is
   queued, -1 on a socket error. */
static int
s_receive (server_t *self, s_msg_t *m)
{
    zmq_msg_init (&m->identity);
    if (zmq_msg_recv (&m->identity, self->router_raw, ZMQ_DONTWAIT) < 0) {
        int err = zmq_errno ();
        zmq_msg_close (&m->identity);
        return err == EAGAIN || err == EINTR ? 0 : -1;
    }
    /* Frames after the identity: keep the first two, discard the rest. */
    m->count = 0;
    bool more = zmq_msg_more (&m->identity);
    while (more) {
        zmq_msg_t extra, *frame = m->count < 2 ? &m->frames[m->count] : &extra;
        zmq_msg_init (frame);
        int rc = zmq_msg_recv (frame, self->router_raw, ZMQ_DONTWAIT);
        more = rc >= 0 && zmq_msg_more (frame);
        if (rc >= 0)
            m->count++;
        if (rc < 0 || frame == &extra)
            zmq_msg_close (frame);
        if (rc < 0)
            break;
    }
    m->ahead = (dispatch_ahead_t){ .named = false,
                                   .user = false }; /* index: unread unless named or user */
    if (s_framed (m)) {
        zmq_msg_t *payload = &m->frames[m->count - 1];
        proto_request_peek (zmq_msg_data (payload), zmq_msg_size (payload), &m->hints);
        dispatch_ahead_start (self->dispatch, &m->hints, &m->ahead);
    }
    return 1;
}

/* Handles a message s_receive took, and closes its frames. */
static void
s_handle (server_t *self, s_msg_t *m, int64_t now)
{
    size_t kept = m->count < 2 ? m->count : 2;
    if (s_framed (m)) {
        zmq_msg_t *payload = &m->frames[m->count - 1];
        uint64_t appended = self->persist ? persist_appended (self->persist) : 0;
        /* A client our ZAP handler let in by its CURVE key (it names the
           key as the message's User-Id) is one of our own services: its
           pages are never cut. Any other peer's replies are counted when
           made, held or not (held replies go out in order). */
        bool trusted = self->zap && zmq_msg_gets (payload, "User-Id");
        self->counting = !trusted;
        if (trusted)
            dispatch_set_reply_budget (self->dispatch, PROTO_FRAME_MAX);
        else {
            /* A receipt the request returns frees what it proves taken
               before the room is reckoned; a page reply gets its own
               (s_receipt). */
            bool has_shown = m->hints.has_receipt;
            dispatch_set_reply_budget (self->dispatch,
                                       peers_room (self->peers, zmq_msg_data (&m->identity),
                                                   zmq_msg_size (&m->identity), now,
                                                   has_shown ? m->hints.receipt : NULL));
            if (has_shown)
                peers_receipt_counts (self->peers, &self->counters->receipts,
                                      &self->counters->receipts_refused);
        }
        dispatch_frame (self->dispatch, zmq_msg_data (payload), zmq_msg_size (payload),
                        &self->reply);
        if (self->reply.size && !trusted)
            peers_sent (self->peers, self->reply.size);
        bool durable = self->persist && persist_appended (self->persist) != appended;
        s_reply (self, &m->identity, m->count == 2, durable);
    } else {
        peers_touch (self->peers, zmq_msg_data (&m->identity), zmq_msg_size (&m->identity), now);
        self->counters->dropped++;
        log_debug ("dropped a message of %zu frames after the identity", m->count);
        zmq_msg_close (&m->identity);
    }
    for (size_t i = 0; i < kept; i++)
        zmq_msg_close (&m->frames[i]);
}

/* Handles up to S_BATCH_MAX queued messages, one ahead: the next message
   is received before the current one is handled, so the three cache
   misses of the next one's lookup (dispatch_ahead_*) load while this one
   is received, decoded and answered. Returns 0, or -1 on a socket error
   with errno the receive's (the messages received before it are handled
   first, and their sends may set errno of their own). */
static int
s_drain (server_t *self, volatile sig_atomic_t *stop)
{
    s_msg_t ring[2];
    int cur = 0, err = 0;
    int64_t now = zclock_mono ();
    int rc = s_receive (self, &ring[cur]);
    if (rc < 0)
        err = zmq_errno ();
    if (rc == 1)
        dispatch_ahead_entry (self->dispatch, &ring[cur].ahead);
    for (int n = 1; rc == 1; n++) {
        s_msg_t *m = &ring[cur], *next = &ring[cur ^ 1];
        int next_rc = n < S_BATCH_MAX && !*stop ? s_receive (self, next) : 0;
        if (next_rc < 0)
            err = zmq_errno ();
        dispatch_ahead_block (self->dispatch, &m->ahead);
        s_handle (self, m, now);
        if (next_rc == 1)
            dispatch_ahead_entry (self->dispatch, &next->ahead);
        cur ^= 1;
        rc = next_rc;
    }
    if (rc < 0)
        errno = err;
    return rc < 0 ? -1 : 0;
}

int
server_run (server_t *self, volatile sig_atomic_t *stop)
{
    assert (self);
    assert (stop);
    zmq_pollitem_t items[4] = { { self->router_raw, 0, ZMQ_POLLIN, 0 },
                                { self->pub_raw, 0, ZMQ_POLLIN, 0 } };
    int n_items = 2, zap = -1, metrics = -1;
    if (self->zap) {
        zap = n_items++;
        items[zap] = (zmq_pollitem_t){ zap_socket (self->zap), 0, ZMQ_POLLIN, 0 };
    }
    if (self->metrics) {
        metrics = n_items++;
        items[metrics] = (zmq_pollitem_t){ NULL, metrics_http_fd (self->metrics), ZMQ_POLLIN, 0 };
    }
    while (!*stop) {
        int rc = zmq_poll (items, n_items, S_TICK_MS);
        if (rc < 0) {
            if (zmq_errno () == EINTR)
                continue;
            log_error ("poll failed: %s", zmq_strerror (zmq_errno ()));
            return -1;
        }
        if (self->zap)
            self->counters->refused += zap_handle (self->zap);
        if (self->monitor)
            conn_monitor_drain (self->monitor, &self->counters->connections,
                                &self->counters->disconnections);
        if (metrics >= 0 && (items[metrics].revents & ZMQ_POLLIN))
            metrics_http_serve (self->metrics);
        if (items[1].revents & ZMQ_POLLIN)
            s_read_subscriptions (self);
        if (s_drain (self, stop) != 0) {
            log_error ("receive failed: %s", zmq_strerror (zmq_errno ()));
            return -1;
        }
        int64_t now = zclock_mono ();
        if (now - self->expired_ms >= S_TICK_MS) {
            peers_expire (self->peers, now, S_PEER_IDLE_MS);
            self->expired_ms = now;
        }
        /* Group commit: one write (and sync) for the whole batch, then its
           replies. The tick also retries a failed commit and compacts. */
        if (self->persist)
            s_flush_held (self, persist_tick (self->persist) == 0);
        else
            s_ring (self);
    }
    if (self->persist)
        s_flush_held (self, persist_commit (self->persist) == 0);
    return 0;
}
