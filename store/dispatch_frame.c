/*
 * dispatch_frame — one request frame through the dispatcher (see
 * dispatch.h, dispatch_frame): decode, look the op up in the command table,
 * check what it needs (fields, the id's slot ours, writes not refused,
 * room in the store and in the feed), run its handler, append the change
 * to the feed and the journal, encode the reply; and count every frame by
 * op and result with its duration, for /metrics (store/metrics.h).
 */
#include "dispatch_internal.h"

#include "clock.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void
dispatch_encode_error (dispatch_t *self, proto_op_t op, uint64_t rid, proto_status_t status,
                       const char *message, const char *field, msgpack_sbuffer *out)
{
    self->counters.errors++;
    self->last_op = op;
    self->last_status = status;
    msgpack_sbuffer_clear (out);
    if (proto_reply_encode_error (op, rid, status, message, field, out) != 0)
        msgpack_sbuffer_clear (out);
}

static proto_status_t
s_decode_status (proto_decode_t rc)
{
    switch (rc) {
    case PROTO_DECODE_VERSION:
        return PROTO_E_VERSION;
    case PROTO_DECODE_UNKNOWN_OP:
        return PROTO_E_UNKNOWN_OP;
    case PROTO_DECODE_INVALID:
        return PROTO_E_INVALID;
    default:
        return PROTO_E_MALFORMED;
    }
}

/* When req names an id in a slot another shard owns, encodes the moved
   reply into out and returns true; the table is not looked at, so a stale
   map on either side never serves another shard's event as ours. */
static bool
s_moved (dispatch_t *self, const proto_request_t *req, msgpack_sbuffer *out)
{
    if (!self->shard_map)
        return false;
    uint16_t slot = shard_map_slot_of (req->event_id);
    size_t owner = shard_map_owner (self->shard_map, slot);
    if (owner == self->shard)
        return false;
    const char *endpoint = shard_map_endpoint (self->shard_map, owner);
    uint64_t epoch = shard_map_epoch (self->shard_map);
    snprintf (self->message, sizeof self->message,
              "event_id is in slot %u, owned by shard %zu at %s (map epoch %llu)", (unsigned)slot,
              owner, endpoint, (unsigned long long)epoch);
    proto_reply_t reply;
    memset (&reply, 0, sizeof reply);
    reply.op = req->op;
    reply.rid = req->rid;
    reply.status = PROTO_E_MOVED;
    reply.message = (proto_str_t){ self->message, strlen (self->message) };
    reply.field = PROTO_STR ("event_id");
    reply.moved.endpoint = (proto_str_t){ endpoint, strlen (endpoint) };
    reply.moved.epoch = epoch;
    reply.moved.slot = slot;
    self->counters.errors++;
    self->last_op = req->op;
    self->last_status = PROTO_E_MOVED;
    msgpack_sbuffer_clear (out);
    if (proto_reply_encode (&reply, out) != 0)
        msgpack_sbuffer_clear (out);
    return true;
}

static void s_counted (dispatch_t *self, const void *buf, size_t len, msgpack_sbuffer *out,
                       bool in_batch);

/* A batch (PROTOCOL.md §3.1): each of its frames through s_counted as if
   it came alone (counted as a request of its own), each reply wrapped in
   turn. An envelope that does not decode gets one error reply and none of
   its frames is looked at. */
static void
s_batch (dispatch_t *self, const void *buf, size_t len, msgpack_sbuffer *out)
{
    uint64_t rid;
    size_t n;
    proto_error_t err = { .has_rid = false };
    /* Replies are bounded by the limits, or by the longest strings stored
       if those are longer (limits lowered since): a batch reply must fit
       in a frame whatever events its gets name. */
    proto_limits_t sized = self->limits, longest = event_table_longest (self->table);
    if (longest.user_id_max > sized.user_id_max)
        sized.user_id_max = longest.user_id_max;
    if (longest.description_max > sized.description_max)
        sized.description_max = longest.description_max;
    if (longest.status_max > sized.status_max)
        sized.status_max = longest.status_max;
    proto_decode_t rc = proto_batch_decode (buf, len, false, proto_batch_max (&sized), &rid,
                                            self->batch_frames, &n, &err);
    if (rc != PROTO_DECODE_OK) {
        if (rc == PROTO_DECODE_MALFORMED)
            self->counters.malformed++;
        dispatch_encode_error (self, PROTO_OP_BATCH, err.has_rid ? err.rid : 0,
                               s_decode_status (rc), err.message, err.field[0] ? err.field : NULL,
                               out);
        return;
    }
    msgpack_sbuffer_clear (out);
    int failed = proto_batch_begin (rid, true, n, out);
    for (size_t i = 0; i < n; i++) {
        if (i % DISPATCH_PREFETCH_MAX == 0) {
            /* The next run of frames: their events start loading together. */
            const void *frames[DISPATCH_PREFETCH_MAX];
            size_t lens[DISPATCH_PREFETCH_MAX], run = 0;
            for (; run < DISPATCH_PREFETCH_MAX && i + run < n; run++) {
                frames[run] = self->batch_frames[i + run].ptr;
                lens[run] = self->batch_frames[i + run].len;
            }
            dispatch_prefetch (self, frames, lens, run);
        }
        s_counted (self, self->batch_frames[i].ptr, self->batch_frames[i].len, &self->batch_reply,
                   true);
        /* An empty reply is an encoding that failed (out of memory). */
        failed |= proto_batch_append (self->batch_reply.data, self->batch_reply.size, out);
    }
    msgpack_sbuffer_clear (&self->batch_reply);
    self->last_op = PROTO_OP_BATCH;
    self->last_status = PROTO_OK;
    if (failed) {
        msgpack_sbuffer_clear (out); /* as for one frame: no reply, the client times out */
        self->last_status = PROTO_E_INTERNAL;
    }
}

/* s_counted's work; every way out sets last_op and last_status. */
static void
s_frame (dispatch_t *self, const void *buf, size_t len, msgpack_sbuffer *out, bool in_batch)
{
    proto_request_t req;
    proto_error_t err = { .has_rid = false };
    proto_decode_t rc = proto_request_decode (buf, len, &self->limits, &req, &err);
    if (rc != PROTO_DECODE_OK) {
        if (rc == PROTO_DECODE_MALFORMED)
            self->counters.malformed++;
        dispatch_encode_error (self, PROTO_OP_NONE, err.has_rid ? err.rid : 0, s_decode_status (rc),
                               err.message, err.field[0] ? err.field : NULL, out);
        return;
    }
    if (req.op == PROTO_OP_BATCH && !in_batch) {
        s_batch (self, buf, len, out);
        return;
    }
    if (in_batch && !proto_batch_allows (req.op)) {
        snprintf (self->message, sizeof self->message,
                  "op '%s' cannot be in a batch (only ping, create, get, update)",
                  proto_op_name (req.op));
        dispatch_encode_error (self, req.op, req.rid, PROTO_E_INVALID, self->message, "op", out);
        return;
    }
    const dispatch_command_t *cmd = req.op < PROTO_OP_COUNT_ ? &dispatch_commands[req.op] : NULL;
    if (!cmd || !cmd->handler) {
        dispatch_encode_error (self, req.op, req.rid, PROTO_E_UNKNOWN_OP, "unknown operation", NULL,
                               out);
        return;
    }
    if ((req.has & cmd->required) != cmd->required) {
        dispatch_encode_error (self, req.op, req.rid, PROTO_E_INVALID,
                               "a required field is missing", NULL, out);
        return;
    }
    if ((cmd->flags & DISPATCH_CMD_KEYED) && s_moved (self, &req, out))
        return;
    if ((cmd->flags & DISPATCH_CMD_JOURNALED) && self->refusal[0]) {
        dispatch_encode_error (self, req.op, req.rid, PROTO_E_INTERNAL, self->refusal, NULL, out);
        return;
    }
    const char *full = (cmd->flags & DISPATCH_CMD_GROWS) ? dispatch_full (self) : NULL;
    if (full) {
        dispatch_encode_error (self, req.op, req.rid, PROTO_E_STORE_FULL, full, NULL, out);
        return;
    }
    if (cmd->flags & DISPATCH_CMD_WRITE) {
        feed_room_t room =
            feed_reserve (self->feed, (cmd->flags & DISPATCH_CMD_GROWS) ? PROTO_CHANGE_CREATED
                                                                        : PROTO_CHANGE_UPDATED);
        if (room != FEED_OK) {
            snprintf (self->message, sizeof self->message,
                      room == FEED_FULL
                          ? "change feed full (%llu unacknowledged changes): write refused"
                          : "out of memory growing the change feed (%llu changes)",
                      (unsigned long long)feed_len (self->feed));
            dispatch_encode_error (self, req.op, req.rid,
                                   room == FEED_FULL ? PROTO_E_FEED_FULL : PROTO_E_INTERNAL,
                                   self->message, NULL, out);
            return;
        }
    }
    proto_reply_t reply;
    memset (&reply, 0, sizeof reply);
    reply.op = req.op;
    reply.rid = req.rid;
    reply.status = cmd->handler (self, &req, &reply);
    if (reply.status == PROTO_OK && (cmd->flags & DISPATCH_CMD_WRITE)) {
        proto_change_t change = { .kind = self->changed_kind, .event = reply.event };
        change.seq = feed_append (self->feed, self->changed_kind, self->changed);
        assert (change.seq == reply.event.seq);
        if (self->on_journal
            && self->on_journal (self->on_journal_arg, false, change.kind, change.seq,
                                 &change.event)
                   != 0)
            self->counters.unjournaled++;
        if (self->on_change)
            self->on_change (self->on_change_arg, &change);
    }
    if (reply.status != PROTO_OK) {
        if (!reply.message.ptr)
            reply.message = PROTO_STR ("out of memory");
        self->counters.errors++;
    }
    self->last_op = req.op;
    self->last_status = reply.status;
    msgpack_sbuffer_clear (out);
    if (proto_reply_encode (&reply, out) != 0)
        msgpack_sbuffer_clear (out);
}

/* One frame, counted by op and result with its duration. */
static void
s_counted (dispatch_t *self, const void *buf, size_t len, msgpack_sbuffer *out, bool in_batch)
{
    int64_t start = clock_mono_us ();
    self->counters.requests++;
    self->last_op = PROTO_OP_NONE;
    self->last_status = PROTO_E_INTERNAL;
    s_frame (self, buf, len, out, in_batch);
    proto_op_t op = self->last_op < PROTO_OP_COUNT_ ? self->last_op : PROTO_OP_NONE;
    proto_status_t status =
        self->last_status < PROTO_E_COUNT_ ? self->last_status : PROTO_E_INTERNAL;
    self->counters.ops[op][status]++;
    prom_observe_us (&self->op_latency[op], clock_mono_us () - start);
}

void
dispatch_prefetch (dispatch_t *self, const void *const *frames, const size_t *lens, size_t n)
{
    assert (self && n <= DISPATCH_PREFETCH_MAX);
    uint8_t ids[DISPATCH_PREFETCH_MAX][16];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (proto_request_peek_event_id (frames[i], lens[i], ids[k]))
            k++;
    event_table_prefetch (self->table, (const uint8_t (*)[16])ids, k);
}

void
dispatch_ahead_start (dispatch_t *self, const proto_request_hints_t *hints, dispatch_ahead_t *ahead)
{
    assert (self && hints && ahead);
    ahead->named = hints->has_event_id;
    ahead->user = !ahead->named && hints->user_id.ptr;
    ahead->index = EVENT_TABLE_NONE;
    if (ahead->named)
        ahead->hash = event_table_ahead_slot (self->table, hints->event_id);
    else if (ahead->user)
        ahead->hash =
            event_table_ahead_user_slot (self->table, hints->user_id.ptr, hints->user_id.len);
}

void
dispatch_ahead_entry (dispatch_t *self, dispatch_ahead_t *ahead)
{
    assert (self && ahead);
    if (ahead->named)
        ahead->index = event_table_ahead_entry (self->table, ahead->hash);
    else if (ahead->user)
        ahead->index = event_table_ahead_user_entry (self->table, (uint32_t)ahead->hash);
}

void
dispatch_ahead_block (dispatch_t *self, const dispatch_ahead_t *ahead)
{
    assert (self && ahead);
    if ((ahead->named || ahead->user) && ahead->index != EVENT_TABLE_NONE)
        event_table_ahead_block (self->table, ahead->index);
}

void
dispatch_frame (dispatch_t *self, const void *buf, size_t len, msgpack_sbuffer *out)
{
    assert (self);
    s_counted (self, buf, len, out, false);
}

prom_histogram_t *
dispatch_op_latency (dispatch_t *self, proto_op_t op)
{
    assert (self);
    assert (op < PROTO_OP_COUNT_);
    return &self->op_latency[op];
}
