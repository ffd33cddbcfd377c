/*
 * relay — see relay.h.
 *
 * State machine in one struct. The invariants that make it lossless:
 *   - `window` holds every publish not yet confirmed, in feed order; the
 *     store is acked only with the seq window_advance returns, i.e. the
 *     highest seq with everything before it confirmed on this channel.
 *   - any doubt about the channel (return of an event.created, socket
 *     error, heartbeat timeout, channel or connection close) drops the
 *     connection and resets the window and the read position, so the next
 *     read starts from the store's acked cursor again.
 *   - a nack is no doubt: RabbitMQ says exactly which publish it refused
 *     (herald.notifications full: x-max-length with reject-publish). The
 *     relay stops reading, waits until every publish in flight is acked or
 *     nacked, rewinds the window (window.h: what was acked behind the hole
 *     is not published again) and, after a backoff that grows while the
 *     queue stays full, reads again from the store's cursor on the same
 *     connection. The feed keeps the refused records meanwhile, so a queue
 *     that stays full fills the feed and the API answers 503.
 *   - a feed_read reply is used only if its rid is the one outstanding;
 *     replies to reads abandoned by a reset are ignored.
 *   - positions (position.h: read position, confirmed, acked_sent; and
 *     the window) count seqs of ONE store. A feed reply from another
 *     store, or from one whose head is behind them, voids them all: the
 *     connection is dropped as for any doubt (so no confirm of a publish
 *     made for the old store can count) and they restart from that
 *     store's acked cursor.
 */
#include "relay.h"

#include "broker.h"
#include "clock.h"
#include "doorbell.h"
#include "health.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "position.h"
#include "progress.h"
#include "proto.h"
#include "publisher.h"
#include "refusals.h"
#include "store_link.h"
#include "window.h"

#include <assert.h>
#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>

#define RELAY_READ_TIMEOUT_MS 3000   /* a feed_read unanswered this long is re-sent */
#define RELAY_SERVICE_MS 1000        /* AMQP frames are read at least this often */
#define RELAY_RING_GAP_MS 1          /* an announced read waits this long after the previous read */
#define RELAY_UNRESOLVED_WAIT_MS 100 /* re-check for confirms after a nack at least this often */

typedef struct {
    const relay_config_t *config;
    notifier_metrics_t *m;   /* config->metrics */
    uint64_t published_upto; /* highest seq this process published: more is new */
    broker_t *broker;
    publisher_t *publisher; /* confirmed publishes on broker */
    store_link_t *store;
    zsock_t *doorbell; /* SUB on the store's live stream, NULL = poll only */
    bool rung;         /* a change was announced since the last read was sent */
    window_t *window;
    msgpack_sbuffer body;
    int64_t reconnect_at; /* mono ms of the next broker attempt */
    bool conflict;        /* the queue exists with another type: stop (broker.h) */
    position_t pos;       /* in the store's feed (position.h) */
    uint64_t read_rid;    /* outstanding feed_read, 0 none */
    int64_t read_sent_at;
    int64_t next_read_at;
    uint64_t published; /* counters for the logs */
    int64_t last_service;
    int64_t last_feed_at;  /* mono ms of the last feed_read answered ok */
    progress_t *progress;  /* for --check: is any of this getting anywhere */
    bool rewinding;        /* a nack seen: no reads until the window rewinds */
    int64_t refused_until; /* ... nor before this mono ms (the nack's backoff) */
    refusals_t refusals;   /* the nacks' episode (refusals.h) */
} relay_t;

/* Names what keeps the relay from progress, if anything is known to: the
   broker blocking our publishes (an alarm; publisher.h) or refusing them
   (a full queue; refusals.h). */
static void
s_name_blocker (relay_t *self)
{
    bool alarm = publisher_blocked (self->publisher);
    self->m->broker_blocked = alarm;
    progress_blocked (self->progress, alarm ? "RabbitMQ blocks publishes: a memory or disk alarm"
                                      : refusals_active (&self->refusals)
                                          ? "RabbitMQ refuses publishes: " BROKER_QUEUE " is full"
                                          : NULL);
}

static void
s_reset_channel (relay_t *self, const char *why)
{
    if (broker_connected (self->broker)) {
        log_warn ("dropping RabbitMQ connection: %s; re-reading from the store's cursor", why);
        self->m->broker_losses++;
    }
    broker_drop (self->broker);
    window_reset (self->window);
    self->rewinding = false;
    self->pos.next_from = 0;
    self->read_rid = 0;
    self->reconnect_at = clock_mono_ms () + broker_retry_delay_ms (self->broker);
    s_name_blocker (self); /* a new connection is not blocked until told */
}

static void
s_connect (relay_t *self)
{
    int rc = broker_connect (self->broker);
    /* A queue of the other type cannot change by waiting: exiting non-zero
       with the one message that says what to do beats a log that repeats
       it every 5 s while the feed fills and the API starts answering 503. */
    self->conflict = rc == BROKER_CONFLICT;
    if (rc != 0) {
        self->reconnect_at = clock_mono_ms () + broker_retry_delay_ms (self->broker);
        return;
    }
    if (publisher_start (self->publisher) != 0) {
        s_reset_channel (self, "confirm.select failed");
        return;
    }
    window_reset (self->window);
    self->rewinding = false;
    self->pos.next_from = 0;
    self->read_rid = 0;
    self->next_read_at = 0;
    self->last_service = clock_mono_ms ();
    self->m->broker_connects++;
}

/* Sends the cursor forward if confirms moved it, fenced with the id of the
   store the confirmed seqs were read from. */
static void
s_ack_store (relay_t *self)
{
    if (!position_ack_due (&self->pos))
        return;
    uint64_t rid =
        store_link_ack (self->store, self->pos.confirmed, position_store_id (&self->pos));
    if (rid)
        position_ack_sent (&self->pos, rid);
}

/* Publishes one change. Returns 0, or -1 after resetting the channel. */
static int
s_publish (relay_t *self, const proto_change_t *change)
{
    message_t msg;
    if (message_make (&msg, change, &self->body) != 0) {
        log_error ("cannot encode change %llu", (unsigned long long)change->seq);
        return -1;
    }
    uint64_t tag = window_push_at (self->window, change->seq, clock_mono_us ());
    if (tag == 0)
        return -1; /* caller never asks for more than the room */
    const char *why;
    int64_t sent = publisher_publish (self->publisher, &msg.message, &why);
    if (sent < 0) {
        s_reset_channel (self, why);
        return -1;
    }
    /* Both count the publishes on this channel from 1. */
    assert ((uint64_t)sent == tag);
    self->published++;
    log_context_set (msg.event_id, msg.request_id[0] ? msg.request_id : NULL);
    log_debug ("published %s event %s seq %llu request %s", proto_change_kind_name (change->kind),
               msg.event_id, (unsigned long long)change->seq,
               msg.request_id[0] ? msg.request_id : "-");
    log_context_set (NULL, NULL);
    if (change->kind == PROTO_CHANGE_CREATED)
        self->m->published_created++;
    else
        self->m->published_updated++;
    if (change->seq <= self->published_upto)
        self->m->republished++;
    else
        self->published_upto = change->seq;
    return 0;
}

static void
s_on_feed (relay_t *self, const proto_reply_t *reply)
{
    self->read_rid = 0;
    int64_t now = clock_mono_ms ();
    if (reply->status == PROTO_OK)
        self->last_feed_at = now;
    if (reply->status != PROTO_OK) {
        log_warn ("feed_read refused: %s %.*s", proto_status_name (reply->status),
                  (int)reply->message.len, reply->message.ptr ? reply->message.ptr : "");
        self->next_read_at = now + self->config->poll_ms;
        return;
    }
    progress_feed (self->progress, reply->feed_len, now);
    self->m->feed_length = reply->feed_len;
    self->m->feed_lag_ms =
        reply->n_changes ? clock_wall_ms () - reply->changes[0].event.updated_at : 0;
    if (position_store_changed (&self->pos, reply)) {
        self->m->store_replaced++;
        s_reset_channel (self, "its publishes were for another store");
        return;
    }
    position_note_cursor (&self->pos, reply);
    bool cut = false; /* a publish failed: the rest of the read waits */
    for (size_t i = 0; i < reply->n_changes && !cut; i++) {
        uint64_t seq = reply->changes[i].seq, at;
        int skip = window_skip (self->window, seq, &at);
        if (skip == 2 && position_confirm (&self->pos, at))
            progress_advanced (self->progress, now); /* acked before a nack's rewind */
        if (!skip
            && (!broker_connected (self->broker) || s_publish (self, &reply->changes[i]) != 0))
            cut = true;
        else
            self->pos.next_from = seq + 1;
    }
    /* The read's publishes leave together, in one write (publisher.h),
       those before a publish that failed without dropping the connection
       too: their confirms are awaited. */
    const char *why;
    if (broker_connected (self->broker) && publisher_flush (self->publisher, &why) != 0) {
        s_reset_channel (self, why);
        return;
    }
    if (cut) {
        /* A change that could not be encoded (out of memory): read it
           again after a poll interval, not at once in a loop. */
        if (broker_connected (self->broker))
            self->next_read_at = now + self->config->poll_ms;
        return;
    }
    if (reply->n_changes == 0) {
        if (self->pos.next_from == 0)
            self->pos.next_from = reply->acked + 1;
        /* An announcement that overtook this reply may be of a change the
           read did not see yet: read again at once. */
        self->next_read_at = self->rung ? now : now + self->config->poll_ms;
    } else
        self->next_read_at = now;
}

static void
s_drain_store (relay_t *self)
{
    proto_reply_t reply;
    int rc;
    while ((rc = store_link_recv (self->store, &reply)) != 0) {
        if (rc < 0)
            continue;
        if (reply.op == PROTO_OP_FEED_READ && reply.rid == self->read_rid)
            s_on_feed (self, &reply);
        else if (reply.op == PROTO_OP_FEED_ACK && reply.status != PROTO_OK)
            log_warn ("feed_ack refused: %s %.*s", proto_status_name (reply.status),
                      (int)reply.message.len, reply.message.ptr ? reply.message.ptr : "");
    }
}

/* RabbitMQ nacked a publish: the queue is full (or the broker could not
   take it). Stop reading, forget the outstanding read, and read again from
   the store's cursor once the window has rewound and the backoff passed. */
static void
s_refused (relay_t *self)
{
    int64_t now = clock_mono_ms ();
    if (!self->rewinding) {
        self->rewinding = true;
        self->read_rid = 0; /* its reply would publish behind the hole */
        self->refused_until = now + refusals_wait (&self->refusals);
        self->next_read_at = self->refused_until;
    }
    if (refusals_note (&self->refusals, now))
        s_name_blocker (self);
}

/* Once nothing is in flight after a nack: rewind the window and read from
   the store's cursor (s_poll_once acks the confirmed prefix before it). */
static void
s_rewind (relay_t *self)
{
    uint64_t read_upto = self->pos.next_from ? self->pos.next_from - 1 : 0;
    if (window_rewind (self->window, read_upto) != 0)
        log_warn ("out of memory remembering what RabbitMQ took: those may be published twice");
    self->rewinding = false;
    self->pos.next_from = 0;
    self->read_rid = 0;
}

/* window_settled_fn: a confirm settled a publish made at `at` (mono us). */
static void
s_settled (void *arg, bool acked, int64_t at)
{
    relay_t *self = arg;
    if (!acked) {
        self->m->nacked++;
        return;
    }
    self->m->confirmed++;
    prom_observe_us (&self->m->confirm_latency, clock_mono_us () - at);
}

/* Handles one confirm event. Returns 0, or -1 after a reset. */
static int
s_on_confirm (relay_t *self, const publisher_event_t *event)
{
    switch (event->kind) {
    case PUBLISHER_ACK: {
        if (window_ack_each (self->window, event->tag, event->multiple, s_settled, self) != 0) {
            s_reset_channel (self, "basic.ack for an unknown publish");
            return -1;
        }
        uint64_t seq;
        if (window_advance (self->window, &seq) && position_confirm (&self->pos, seq)) {
            progress_advanced (self->progress, clock_mono_ms ());
            if (refusals_active (&self->refusals) && !self->rewinding) {
                /* A publish made after the rewind: the queue takes them again. */
                refusals_end (&self->refusals, clock_mono_ms ());
                s_name_blocker (self);
            }
        }
        return 0;
    }
    case PUBLISHER_NACK:
        if (window_nack_each (self->window, event->tag, event->multiple, s_settled, self) != 0) {
            s_reset_channel (self, "basic.nack for an unknown publish");
            return -1;
        }
        s_refused (self);
        return 0;
    case PUBLISHER_RETURNED:
        /* Reconnecting redeclares the topology and publishes it again. */
        self->m->returned++;
        s_reset_channel (self, "unroutable event.created");
        return -1;
    }
    return 0;
}

/* Reads every confirm already available, without blocking. Servicing the
   connection this way is also what sends our heartbeats. */
static void
s_service_broker (relay_t *self)
{
    self->last_service = clock_mono_ms ();
    publisher_event_t event;
    const char *why;
    int rc;
    while (broker_connected (self->broker)
           && (rc = publisher_poll (self->publisher, &event, &why)) != 0) {
        if (rc < 0) {
            s_reset_channel (self, why);
            break;
        }
        if (s_on_confirm (self, &event) != 0)
            break;
    }
    s_name_blocker (self); /* a connection.blocked or .unblocked may have come */
}

/* Empties the doorbell; a change was announced, so an idle relay reads the
   feed now rather than at its next poll. */
static void
s_ring (relay_t *self, int64_t now)
{
    doorbell_drain (self->doorbell);
    self->rung = true;
    /* Not sooner than RELAY_RING_GAP_MS after the last read: under load the
       announcements come back to back, and a read per change would cost
       more than it saves. */
    int64_t at = self->read_sent_at + RELAY_RING_GAP_MS;
    if (at < now)
        at = now;
    /* Nor sooner than a nack's backoff: under a full queue every write
       rings, and each ring would read (and publish, and be refused) again. */
    if (at < self->refused_until)
        at = self->refused_until;
    if (self->next_read_at > at)
        self->next_read_at = at;
}

static void
s_maybe_read (relay_t *self, int64_t now)
{
    /* Blocked (an alarm), RabbitMQ reads nothing: the feed, not our memory,
       keeps the changes until it unblocks. */
    if (!broker_connected (self->broker) || publisher_blocked (self->publisher))
        return;
    if (self->rewinding) {
        if (window_unresolved (self->window) > 0) {
            /* Confirms wake the poll; this only bounds the wait. */
            if (self->next_read_at <= now)
                self->next_read_at = now + RELAY_UNRESOLVED_WAIT_MS;
            return;
        }
        s_rewind (self);
    }
    if (self->read_rid && now - self->read_sent_at < RELAY_READ_TIMEOUT_MS)
        return;
    if (self->read_rid)
        self->m->store_read_timeouts++;
    size_t room = window_room (self->window);
    if (now < self->next_read_at || room == 0)
        return;
    uint32_t max =
        (uint32_t)(room < (size_t)self->config->batch ? room : (size_t)self->config->batch);
    self->read_rid = store_link_read (self->store, self->pos.next_from, max);
    self->read_sent_at = now;
    self->rung = false;
    if (!self->read_rid)
        self->next_read_at = now + self->config->poll_ms;
}

static int64_t
s_min (int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* One pass: wait for the store or the broker (bounded), then react. */
static void
s_poll_once (relay_t *self, bool reading)
{
    int64_t now = clock_mono_ms ();
    if (!broker_connected (self->broker) && now >= self->reconnect_at && reading)
        s_connect (self);
    /* The cursor goes out before a read from it, so a read after a reset
       does not publish again what was already confirmed. */
    s_ack_store (self);
    if (reading)
        s_maybe_read (self, now);

    /* The store, then the doorbell, the broker and the metrics scrapes
       when there are any. */
    zmq_pollitem_t items[4] = { { store_link_handle (self->store), 0, ZMQ_POLLIN, 0 } };
    int n_items = 1, bell = -1, amqp = -1, scrape = -1;
    if (self->doorbell) {
        bell = n_items++;
        items[bell] = (zmq_pollitem_t){ zsock_resolve (self->doorbell), 0, ZMQ_POLLIN, 0 };
    }
    if (broker_connected (self->broker)) {
        amqp = n_items++;
        items[amqp] = (zmq_pollitem_t){ NULL, broker_fd (self->broker), ZMQ_POLLIN, 0 };
    }
    if (self->config->metrics_http) {
        scrape = n_items++;
        items[scrape] =
            (zmq_pollitem_t){ NULL, metrics_http_fd (self->config->metrics_http), ZMQ_POLLIN, 0 };
    }
    int64_t deadline = now + RELAY_SERVICE_MS;
    if (!broker_connected (self->broker))
        deadline = s_min (deadline, self->reconnect_at);
    else if (reading && !self->read_rid && window_room (self->window) > 0
             && !publisher_blocked (self->publisher))
        deadline = s_min (deadline, self->next_read_at);
    int64_t timeout = deadline > now ? deadline - now : 0;
    if (broker_has_buffered (self->broker))
        timeout = 0;
    zmq_poll (items, n_items, (long)timeout);

    if (items[0].revents & ZMQ_POLLIN)
        s_drain_store (self);
    now = clock_mono_ms ();
    if (bell >= 0 && (items[bell].revents & ZMQ_POLLIN))
        s_ring (self, now);
    store_link_connections (self->store, &self->m->store_connects, &self->m->store_disconnects);
    if (scrape >= 0 && (items[scrape].revents & ZMQ_POLLIN)) {
        self->m->confirmed_seq = self->pos.confirmed;
        self->m->acked_seq = self->pos.acked_sent;
        self->m->inflight = window_unresolved (self->window);
        metrics_http_serve (self->config->metrics_http);
    }
    if (broker_connected (self->broker)
        && ((amqp >= 0 && (items[amqp].revents & ZMQ_POLLIN)) || timeout == 0
            || now - self->last_service >= RELAY_SERVICE_MS))
        s_service_broker (self);
    s_ack_store (self);
    /* Relaying: the broker is connected and the store answers feed reads
       (an idle relay reads every poll_ms, so this stays fresh). Healthy
       only if that also gets somewhere (progress.h). */
    bool relaying =
        broker_connected (self->broker) && now - self->last_feed_at < HEALTH_MAX_AGE_MS / 2;
    progress_report (self->progress, self->config->health_file, relaying, now);
}

int
relay_run (const relay_config_t *config, volatile sig_atomic_t *stop)
{
    assert (config && stop && config->metrics);
    relay_t self = { .config = config, .m = config->metrics };
    int rc = -1;
    msgpack_sbuffer_init (&self.body);
    self.broker = broker_new (config->broker_url, config->heartbeat_s);
    if (self.broker)
        broker_set_queue_args (self.broker, &config->queue);
    refusals_init (&self.refusals, config->queue.max);
    self.publisher = self.broker ? publisher_new (self.broker, "herald-notifier") : NULL;
    self.store = store_link_new (config->store_endpoint, config->curve);
    self.window = window_new ((size_t)config->window);
    self.progress = progress_new (config->stall_ms, clock_mono_ms ());
    if (!self.broker || !self.publisher || !self.store || !self.window || !self.progress)
        goto cleanup;
    if (config->store_pub_endpoint && *config->store_pub_endpoint)
        self.doorbell = doorbell_new (config->store_pub_endpoint, config->curve);
    log_info ("relaying %s → %s (batch %d, window %d); woken by %s, else polling every %d ms",
              config->store_endpoint, BROKER_EXCHANGE, config->batch, config->window,
              self.doorbell ? config->store_pub_endpoint : "nothing", config->poll_ms);

    while (!*stop && !self.conflict)
        s_poll_once (&self, true);
    if (self.conflict)
        goto cleanup;

    /* Shutdown: no new reads (a read's reply still on its way is not
       published either); confirms get a bounded time, none if blocked. */
    self.read_rid = 0;
    log_info ("stopping: %zu publishes awaiting confirms", window_size (self.window));
    int64_t drain_until = clock_mono_ms () + config->drain_ms;
    while (broker_connected (self.broker) && window_unresolved (self.window) > 0
           && !publisher_blocked (self.publisher) && clock_mono_ms () < drain_until)
        s_poll_once (&self, false);
    s_ack_store (&self);
    if (window_size (self.window) > 0)
        log_warn ("%zu publishes unconfirmed at exit: they will be published again",
                  window_size (self.window));
    if (publisher_blocked (self.publisher))
        broker_drop (self.broker); /* blocked, it would not read a close */
    else
        broker_disconnect (self.broker);
    log_info ("stopped: %llu published, store cursor at %llu", (unsigned long long)self.published,
              (unsigned long long)self.pos.acked_sent);
    rc = 0;

cleanup:
    progress_destroy (&self.progress);
    window_destroy (&self.window);
    zsock_destroy (&self.doorbell);
    store_link_destroy (&self.store); /* lingers so the last ack leaves */
    publisher_destroy (&self.publisher);
    broker_destroy (&self.broker);
    msgpack_sbuffer_destroy (&self.body);
    return rc;
}
