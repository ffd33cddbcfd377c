/*
 * dispatch — see dispatch.h.
 *
 * The command table is indexed by op. Each entry names the request fields
 * the op cannot do without (proto already enforces them; checking again
 * here keeps a handler from ever reading an absent field if the codec
 * changes) and whether it writes. Handlers fill a proto_reply_t whose
 * arrays point into buffers preallocated here, so a request costs no
 * allocation beyond what the table itself needs for a new event.
 */
#include "dispatch_internal.h"

#include "clock.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

/* Replies carrying events (list, feed_read) also stop at a byte budget so
   the frame stays within PROTO_FRAME_MAX whatever the events' sizes: 1000
   events of 4 KiB would not fit. S_ITEM_OVERHEAD bounds an item's encoding
   beyond its four strings (keys, id, timestamps, created_us, seq, kind,
   headers: under 200 bytes as packed today, a change of a feed page
   included), with room to spare for a field more; the strings themselves,
   request id included, are counted by their lengths. */
#define S_ITEM_OVERHEAD 256
#define S_REPLY_HEADROOM 1024

/* Adds item i's encoded size to *used; false when it would break the
   budget: the frame limit, or less when the server says the peer has less
   room (dispatch_set_reply_budget). The first item always fits: strings
   are limited far below the frame, and a page must make progress. */
static bool
s_fits (dispatch_t *self, size_t *used, const proto_event_t *e, size_t i)
{
    *used +=
        S_ITEM_OVERHEAD + e->user_id.len + e->description.len + e->status.len + e->request_id.len;
    size_t budget = self->reply_budget < PROTO_FRAME_MAX ? self->reply_budget : PROTO_FRAME_MAX;
    bool fits = i == 0 || *used + S_REPLY_HEADROOM <= budget;
    if (!fits && *used + S_REPLY_HEADROOM <= PROTO_FRAME_MAX)
        self->counters.pages_cut++; /* the frame had room: the peer's budget ended the page */
    return fits;
}

static const proto_str_t s_pending = PROTO_STR ("pending");

/* ---- Handlers ------------------------------------------------------------ */

/* A new random (version 4) UUID. libuuid's uuid_generate_random reseeds
   random(3) and makes four system calls per id: 1.8 us each measured here,
   a quarter of a whole create. The pool draws the same kernel randomness
   (getrandom) 4 KiB at a time and sets the RFC 4122 version and variant
   bits; libuuid remains the fallback when getrandom fails. */
static void
s_new_id (dispatch_t *self, uint8_t id[16])
{
    if (self->id_pool_used + 16 > sizeof self->id_pool) {
        if (getrandom (self->id_pool, sizeof self->id_pool, 0) != (ssize_t)sizeof self->id_pool) {
            uuid_generate_random (id);
            return;
        }
        self->id_pool_used = 0;
    }
    memcpy (id, self->id_pool + self->id_pool_used, 16);
    self->id_pool_used += 16;
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* version 4 */
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80); /* variant 10 */
}

/* A new event's id: random, and in a sharded store put in one of our
   slots, picked with 32 more random bits so that the id's own random bits
   do not choose their own replacement (shard_map.h). */
static void
s_new_event_id (dispatch_t *self, uint8_t id[16])
{
    s_new_id (self, id);
    if (!self->shard_map)
        return;
    uint8_t extra[16];
    s_new_id (self, extra);
    uint32_t random;
    memcpy (&random, extra, sizeof random);
    shard_map_mint (self->shard_map, self->shard, random, id);
}

/* The id of the create at hand. Each create also mints the next one and
   starts its home slot in the id hash on its way into the cache
   (event_table_ahead_slot): at a million events that slot is a cache miss,
   about a sixth of the store loop's time per create, and the next create
   of a batch now finds it there. A new shard map drops the id minted
   ahead, which was put in a slot of the old one. */
static void
s_take_event_id (dispatch_t *self, uint8_t id[16])
{
    if (!self->next_id_ready)
        s_new_event_id (self, self->next_id);
    memcpy (id, self->next_id, 16);
    s_new_event_id (self, self->next_id);
    self->next_id_ready = true;
    event_table_ahead_slot (self->table, self->next_id);
}

static proto_status_t
s_not_found (proto_reply_t *reply, const char *field, const char *message)
{
    reply->field = (proto_str_t){ field, strlen (field) };
    reply->message = (proto_str_t){ message, strlen (message) };
    return PROTO_E_NOT_FOUND;
}

/* Ping, stats and the feed replies carry the store's identity: a client
   that keeps state about the store (the notifier's read position) compares
   it to tell a restarted, emptied store from the one it knew. */
static void
s_identify (dispatch_t *self, proto_reply_t *reply)
{
    reply->has_store_id = true;
    memcpy (reply->store_id, self->store_id, 16);
}

static proto_status_t
s_ping (dispatch_t *self, const proto_request_t *req, proto_reply_t *reply)
{
    s_identify (self, reply);
    return PROTO_OK;
}

static proto_status_t
s_create (dispatch_t *self, const proto_request_t *req, proto_reply_t *reply)
{
    uint8_t id[16];
    s_take_event_id (self, id);
    uint64_t seq = feed_next_seq (self->feed);
    proto_str_t request_id = (req->has & PROTO_HAS_REQUEST_ID) ? req->request_id : PROTO_STR_NONE;
    /* One clock read in microseconds: created_at its milliseconds (as the
       HTTP API shows them), created_us the rest, so that lists merged
       across shards order events made in the same millisecond (rounded
       down, also before 1970). */
    int64_t now_us = clock_wall_us ();
    int64_t now_ms = now_us / 1000 - (now_us % 1000 < 0);
    if (event_table_create (self->table, id, req->user_id, req->description, s_pending, request_id,
                            now_ms, (uint16_t)(now_us - now_ms * 1000), seq, &self->changed)
        != 0)
        return PROTO_E_INTERNAL;
    self->changed_kind = PROTO_CHANGE_CREATED;
    event_table_view (self->table, self->changed, &reply->event);
    return PROTO_OK;
}

static proto_status_t
s_get (dispatch_t *self, const proto_request_t *req, proto_reply_t *reply)
{
    uint32_t index = event_table_find (self->table, req->event_id);
    if (index == EVENT_TABLE_NONE)
        return s_not_found (reply, "event_id", "Event not found");
    event_table_view (self->table, index, &reply->event);
    return PROTO_OK;
}

static proto_status_t
s_update (dispatch_t *self, const proto_request_t *req, proto_reply_t *reply)
{
    uint32_t index = event_table_find (self->table, req->event_id);
    if (index == EVENT_TABLE_NONE)
        return s_not_found (reply, "event_id", "Event not found");
    proto_event_t before;
    event_table_view (self->table, index, &before);
    int64_t now = clock_wall_ms ();
    if (now < before.updated_at)
        now = before.updated_at; /* the wall clock stepped back: keep time monotonic per event */
    proto_str_t user_id = (req->has & PROTO_HAS_USER_ID) ? req->user_id : PROTO_STR_NONE;
    proto_str_t description =
        (req->has & PROTO_HAS_DESCRIPTION) ? req->description : PROTO_STR_NONE;
    proto_str_t status = (req->has & PROTO_HAS_STATUS) ? req->status : PROTO_STR_NONE;
    proto_str_t request_id = (req->has & PROTO_HAS_REQUEST_ID) ? req->request_id : PROTO_STR_NONE;
    if (event_table_update (self->table, index, user_id, description, status, request_id, now,
                            feed_next_seq (self->feed))
        != 0)
        return PROTO_E_INTERNAL;
    self->changed = index;
    self->changed_kind = PROTO_CHANGE_UPDATED;
    event_table_view (self->table, index, &reply->event);
    return PROTO_OK;
}

/* A page reply carries the peer's receipt, when the server makes one. */
static void
s_receipt (dispatch_t *self, proto_reply_t *reply)
{
    reply->has_receipt =
        self->on_receipt && self->on_receipt (self->on_receipt_arg, reply->receipt);
}

static proto_status_t
s_list (dispatch_t *self, const proto_request_t *req, proto_reply_t *reply)
{
    event_query_t query = {
        .user_id = req->user_id,
        .status = req->status,
        .has_after = (req->has & PROTO_HAS_AFTER) != 0,
        .limit = (req->has & PROTO_HAS_LIMIT) ? req->limit : PROTO_LIST_LIMIT_DEFAULT,
    };
    if (query.limit < 1 || query.limit > PROTO_LIST_LIMIT_MAX)
        query.limit = PROTO_LIST_LIMIT_DEFAULT;
    if (!(req->has & PROTO_HAS_USER_ID))
        query.user_id = PROTO_STR_NONE;
    if (!(req->has & PROTO_HAS_STATUS))
        query.status = PROTO_STR_NONE;
    memcpy (query.after, req->after, 16);
    size_t n;
    bool more;
    if (event_table_list (self->table, &query, self->indices, &n, &more) != 0)
        return s_not_found (reply, "after", "Cursor 'after' names no event");
    /* A page may hold fewer items than `limit` (byte budget, s_fits);
       next_after then says where to go on. */
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        event_table_view (self->table, self->indices[i], &self->items[i]);
        if (!s_fits (self, &used, &self->items[i], i)) {
            n = i;
            more = true;
            break;
        }
    }
    reply->items = self->items;
    reply->n_items = n;
    reply->has_next_after = more && n > 0;
    if (reply->has_next_after)
        memcpy (reply->next_after, self->items[n - 1].id, 16);
    s_receipt (self, reply);
    return PROTO_OK;
}

static void
s_feed_state (dispatch_t *self, proto_reply_t *reply)
{
    reply->acked = feed_acked (self->feed);
    reply->head = feed_head (self->feed);
    reply->feed_len = feed_len (self->feed);
    reply->feed_max = feed_max (self->feed);
}

static proto_status_t
s_feed_read (dispatch_t *self, const proto_request_t *req, proto_reply_t *reply)
{
    size_t max = (req->has & PROTO_HAS_MAX) ? req->max : PROTO_FEED_READ_MAX;
    if (max < 1 || max > PROTO_FEED_READ_MAX)
        max = PROTO_FEED_READ_MAX;
    uint64_t from = (req->has & PROTO_HAS_FROM) ? req->from : 0;
    size_t n = feed_read (self->feed, from, max, self->records);
    while (n > 0 && self->records[n - 1].seq > self->durable)
        n--; /* not on disk yet: read again after the commit */
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        self->changes[i].seq = self->records[i].seq;
        self->changes[i].kind = self->records[i].kind;
        event_table_view (self->table, self->records[i].ref, &self->changes[i].event);
        if (!s_fits (self, &used, &self->changes[i].event, i)) {
            n = i; /* the reader asks again from the next seq */
            break;
        }
    }
    reply->changes = self->changes;
    reply->n_changes = n;
    /* Records given out before: a reader that lost its place (restarted,
       reconnected, refused) reads its unconfirmed tail again. */
    for (size_t i = 0; i < n && self->changes[i].seq <= self->handed_upto; i++)
        self->counters.feed_rereads++;
    if (n > 0 && self->changes[n - 1].seq > self->handed_upto)
        self->handed_upto = self->changes[n - 1].seq;
    s_feed_state (self, reply);
    s_identify (self, reply);
    s_receipt (self, reply);
    return PROTO_OK;
}

static proto_status_t
s_feed_ack (dispatch_t *self, const proto_request_t *req, proto_reply_t *reply)
{
    /* A cursor position means something only in the store it was read
       from: an ack meant for a store that has since been replaced would
       acknowledge changes nobody relayed. */
    if ((req->has & PROTO_HAS_STORE_ID) && memcmp (req->store_id, self->store_id, 16) != 0) {
        char id[PROTO_UUID_LEN + 1];
        proto_uuid_format (self->store_id, id);
        snprintf (self->message, sizeof self->message,
                  "store_id is not this store's (%s): nothing acknowledged", id);
        reply->message = (proto_str_t){ self->message, strlen (self->message) };
        reply->field = PROTO_STR ("store_id");
        return PROTO_E_INVALID;
    }
    uint64_t before = feed_acked (self->feed);
    if (feed_ack (self->feed, req->seq) != 0) {
        snprintf (self->message, sizeof self->message, "seq %llu is beyond the feed head %llu",
                  (unsigned long long)req->seq, (unsigned long long)feed_head (self->feed));
        reply->message = (proto_str_t){ self->message, strlen (self->message) };
        reply->field = PROTO_STR ("seq");
        return PROTO_E_INVALID;
    }
    reply->acked = feed_acked (self->feed);
    if (reply->acked > before && self->on_journal
        && self->on_journal (self->on_journal_arg, true, 0, reply->acked, NULL) != 0)
        self->counters.unjournaled++;
    s_identify (self, reply);
    return PROTO_OK;
}

const proto_stat_t *
dispatch_stats (dispatch_t *self, size_t *n_out)
{
    assert (self);
    proto_stat_t *stats = self->stats;
    const dispatch_counters_t *c = &self->counters;
    size_t n = 0;
#define S_STAT(name, value) stats[n++] = (proto_stat_t){ PROTO_STR (name), (uint64_t)(value) }
    S_STAT ("events", event_table_size (self->table));
    S_STAT ("head", feed_head (self->feed));
    S_STAT ("acked", feed_acked (self->feed));
    S_STAT ("feed_len", feed_len (self->feed));
    S_STAT ("feed_max", feed_max (self->feed));
    S_STAT ("requests", c->requests);
    S_STAT ("errors", c->errors);
    S_STAT ("malformed", c->malformed);
    S_STAT ("unroutable", c->unroutable);
    S_STAT ("dropped", c->dropped);
    S_STAT ("refused", c->refused);
    S_STAT ("published", c->published);
    S_STAT ("unjournaled", c->unjournaled);
    S_STAT ("connections", c->connections);
    S_STAT ("disconnections", c->disconnections);
    S_STAT ("feed_rereads", c->feed_rereads);
    S_STAT ("pages_cut", c->pages_cut);
    S_STAT ("receipts", c->receipts);
    S_STAT ("receipts_refused", c->receipts_refused);
    S_STAT ("table_overhead_bytes", event_table_overhead_bytes (self->table));
    S_STAT ("rss_bytes", prom_resident_bytes ());
    S_STAT ("table_bytes", event_table_bytes (self->table));
    S_STAT ("max_events", self->max_events);
    S_STAT ("max_memory", self->max_bytes);
    S_STAT ("shard_id", self->shard);
    S_STAT ("shard_epoch", self->shard_map ? shard_map_epoch (self->shard_map) : 0);
    S_STAT ("shard_slots", self->shard_map ? shard_map_slot_count (self->shard_map, self->shard)
                                           : SHARD_MAP_SLOTS);
#undef S_STAT
    size_t room = sizeof self->stats / sizeof self->stats[0];
    assert (n <= room);
    if (self->on_stats)
        n += self->on_stats (self->on_stats_arg, stats + n, room - n);
    *n_out = n;
    return stats;
}

static proto_status_t
s_stats (dispatch_t *self, const proto_request_t *req, proto_reply_t *reply)
{
    (void)req;
    dispatch_stats (self, &reply->n_stats);
    reply->stats = self->stats; /* what dispatch_stats returned, writable */
    s_identify (self, reply);
    return PROTO_OK;
}

const dispatch_command_t dispatch_commands[PROTO_OP_COUNT_] = {
    [PROTO_OP_PING] = { s_ping, 0, 0 },
    [PROTO_OP_CREATE] = { s_create, PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                          DISPATCH_CMD_WRITE | DISPATCH_CMD_JOURNALED | DISPATCH_CMD_GROWS },
    [PROTO_OP_GET] = { s_get, PROTO_HAS_EVENT_ID, DISPATCH_CMD_KEYED },
    [PROTO_OP_UPDATE] = { s_update, PROTO_HAS_EVENT_ID,
                          DISPATCH_CMD_WRITE | DISPATCH_CMD_JOURNALED | DISPATCH_CMD_KEYED },
    [PROTO_OP_LIST] = { s_list, 0, 0 },
    [PROTO_OP_FEED_READ] = { s_feed_read, 0, 0 },
    [PROTO_OP_FEED_ACK] = { s_feed_ack, PROTO_HAS_SEQ, DISPATCH_CMD_JOURNALED },
    [PROTO_OP_STATS] = { s_stats, 0, 0 },
};

/* ---- The dispatcher ------------------------------------------------------ */

dispatch_t *
dispatch_new (size_t feed_max, const proto_limits_t *limits)
{
    dispatch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->table = event_table_new ();
    self->feed = feed_new (feed_max);
    self->limits = *limits;
    self->id_pool_used = sizeof self->id_pool; /* drawn on first use */
    self->durable = UINT64_MAX;
    self->reply_budget = PROTO_FRAME_MAX;
    msgpack_sbuffer_init (&self->batch_reply);
    /* A fresh identity for a fresh (empty) store; a store that recovers
       its data replaces it with the one stored beside that data. */
    s_new_id (self, self->store_id);
    if (!self->table || !self->feed)
        dispatch_destroy (&self);
    return self;
}

void
dispatch_destroy (dispatch_t **self_p)
{
    assert (self_p);
    dispatch_t *self = *self_p;
    if (!self)
        return;
    event_table_destroy (&self->table);
    feed_destroy (&self->feed);
    shard_map_destroy (&self->shard_map);
    msgpack_sbuffer_destroy (&self->batch_reply);
    free (self);
    *self_p = NULL;
}

void
dispatch_set_store_id (dispatch_t *self, const uint8_t id[16])
{
    assert (self && id);
    memcpy (self->store_id, id, 16);
}

const uint8_t *
dispatch_store_id (dispatch_t *self)
{
    assert (self);
    return self->store_id;
}

void
dispatch_set_shard (dispatch_t *self, shard_map_t *map, size_t shard)
{
    assert (self);
    assert (!map || shard < shard_map_shards (map));
    shard_map_destroy (&self->shard_map);
    self->shard_map = map;
    self->shard = map ? shard : 0;
    self->next_id_ready = false;
}

const shard_map_t *
dispatch_shard_map (dispatch_t *self)
{
    assert (self);
    return self->shard_map;
}

void
dispatch_set_change_handler (dispatch_t *self, dispatch_change_fn *fn, void *arg)
{
    assert (self);
    self->on_change = fn;
    self->on_change_arg = arg;
}

void
dispatch_set_journal_handler (dispatch_t *self, dispatch_journal_fn *fn, void *arg)
{
    assert (self);
    self->on_journal = fn;
    self->on_journal_arg = arg;
}

void
dispatch_set_stats_handler (dispatch_t *self, dispatch_stats_fn *fn, void *arg)
{
    assert (self);
    self->on_stats = fn;
    self->on_stats_arg = arg;
}

void
dispatch_refuse_writes (dispatch_t *self, const char *message)
{
    assert (self);
    snprintf (self->refusal, sizeof self->refusal, "%s", message ? message : "");
}

void
dispatch_set_capacity (dispatch_t *self, uint64_t max_events, uint64_t max_bytes)
{
    assert (self);
    self->max_events = max_events;
    self->max_bytes = max_bytes;
}

void
dispatch_set_reply_budget (dispatch_t *self, size_t bytes)
{
    assert (self);
    self->reply_budget = bytes;
}

void
dispatch_set_receipt_handler (dispatch_t *self, dispatch_receipt_fn *fn, void *arg)
{
    assert (self);
    self->on_receipt = fn;
    self->on_receipt_arg = arg;
}

void
dispatch_set_durable (dispatch_t *self, uint64_t seq)
{
    assert (self);
    self->durable = seq;
}

dispatch_counters_t *
dispatch_counters (dispatch_t *self)
{
    assert (self);
    return &self->counters;
}

event_table_t *
dispatch_table (dispatch_t *self)
{
    assert (self);
    return self->table;
}

feed_t *
dispatch_feed (dispatch_t *self)
{
    assert (self);
    return self->feed;
}

const char *
dispatch_full (dispatch_t *self)
{
    assert (self);
    size_t events = event_table_size (self->table);
    if (self->max_events && events >= self->max_events) {
        snprintf (self->message, sizeof self->message,
                  "store is full (%zu events, max-events %llu): create refused", events,
                  (unsigned long long)self->max_events);
        return self->message;
    }
    size_t bytes = event_table_bytes (self->table);
    if (self->max_bytes && bytes >= self->max_bytes) {
        snprintf (self->message, sizeof self->message,
                  "store is full (%zu bytes of events, max-memory %llu): create refused", bytes,
                  (unsigned long long)self->max_bytes);
        return self->message;
    }
    return NULL;
}

/* Decode failures map onto the reply statuses one to one. */
