/*
 * dispatch — turns one request frame into one reply frame: decode,
 * look the op up in the command table, validate, run the handler, encode
 * (Redis processCommand). It owns the store's state (event table and change
 * feed) and its counters, and knows nothing of sockets, so the store's
 * whole logic is unit-testable without ZeroMQ.
 *
 * Every frame gets exactly one reply, including garbage: a frame that does
 * not decode gets an error reply echoing its rid when one could be read.
 * A batch (PROTOCOL.md §3.1) is a frame of frames: each goes through the
 * same way as if it came alone, counted as a request of its own, and the
 * replies go back wrapped in one.
 * Writes (create, update) first reserve a slot in the feed; a full feed
 * refuses the write with feed_full and changes nothing; a store at its
 * memory cap (dispatch_set_capacity) refuses creates with store_full. After a write the
 * change handler (if set) sees the new record, which the server publishes
 * on its PUB socket.
 *
 * A sharded store (dispatch_set_shard) mints every new id in one of its own
 * slots and answers a get or update naming an id of another shard's slot
 * with status moved (the owner's endpoint, the map's epoch), before looking
 * at its table: it never serves an event it does not own. list and the
 * feed ops are the shard's own.
 */
#ifndef HERALD_DISPATCH_H
#define HERALD_DISPATCH_H

#include "event_table.h"
#include "feed.h"
#include "prom.h"
#include "proto.h"
#include "shard_map.h"

#include <msgpack.h>
#include <stdint.h>

typedef struct _dispatch_t dispatch_t;

/* Counters reported by the stats op. The server bumps the transport ones. */
typedef struct {
    uint64_t requests;    /* frames handled (a batch and each of its frames) */
    uint64_t errors;      /* replies with a status other than ok */
    uint64_t malformed;   /* frames that did not decode */
    uint64_t unroutable;  /* replies the ROUTER could not send (peer gone, HWM) */
    uint64_t dropped;     /* messages that could not even be framed */
    uint64_t refused;     /* handshakes refused: CURVE key not allowed (store/zap.h) */
    uint64_t published;   /* change notifications sent on PUB */
    uint64_t unjournaled; /* changes the journal hook failed to record (out of memory) */
    uint64_t connections, disconnections; /* the ROUTER's, as the server's monitor saw them */
    uint64_t feed_rereads; /* change records feed_read handed out again (a reader restarted) */
    uint64_t pages_cut;    /* list / feed_read pages the peer's reply budget ended early */
    uint64_t receipts,
        receipts_refused; /* receipts that freed replies / did not verify (peers.h) */
    /* Frames handled by operation (PROTO_OP_NONE: did not decode to one)
       and the status of their reply. */
    uint64_t ops[PROTO_OP_COUNT_][PROTO_E_COUNT_];
} dispatch_counters_t;

/* Called after each write with the new change record; the event view is
   borrowed for the duration of the call. */
typedef void (dispatch_change_fn) (void *arg, const proto_change_t *change);

/* Called after each change of state that must be journaled: a write (kind
   CREATED or UPDATED, seq = the change's, event = the state after it,
   borrowed) or an acknowledgement that moved the cursor (ack true, seq =
   the new cursor, event NULL). Returns 0, or -1 when it could not record
   the change (the dispatcher counts it; the hook's owner refuses writes). */
typedef int (dispatch_journal_fn) (void *arg, bool ack, proto_change_kind_t kind, uint64_t seq,
                                   const proto_event_t *event);

/* Appends the hook owner's counters to a stats reply: writes at most room
   entries to out (names must be string literals or outlive the reply) and
   returns how many. */
typedef size_t (dispatch_stats_fn) (void *arg, proto_stat_t *out, size_t room);

/* Writes the receipt of the reply being made (store/peers.h: what the
   requesting peer may send back to show it took it) and returns true, or
   returns false for none. Asked only for an ok list or feed_read reply. */
typedef bool (dispatch_receipt_fn) (void *arg, uint8_t receipt[16]);

/* A dispatcher with an empty table and a feed bounded at feed_max. limits
   is copied. Returns NULL when out of memory or feed_max is out of range. */
dispatch_t *dispatch_new (size_t feed_max, const proto_limits_t *limits);

void dispatch_destroy (dispatch_t **self_p);

/* The store's identity (PROTOCOL.md §4.1): 16 bytes sent as store_id with
   every ok reply of ping, stats, feed_read and feed_ack, and the fence a
   feed_ack may carry. dispatch_new draws a random one (an empty in-memory
   store is a new store); a store that recovers its data from disk sets the
   id it recorded with that data, before serving any request. */
void dispatch_set_store_id (dispatch_t *self, const uint8_t id[16]);

/* The current identity, 16 bytes (borrowed). */
const uint8_t *dispatch_store_id (dispatch_t *self);

/* Makes the store shard number shard (< shard_map_shards (map)) of map;
   takes ownership of map (NULL: unsharded, the default, every id ours).
   Call before serving requests. */
void dispatch_set_shard (dispatch_t *self, shard_map_t *map, size_t shard);

/* The map set by dispatch_set_shard (borrowed), or NULL. */
const shard_map_t *dispatch_shard_map (dispatch_t *self);

/* Sets (or clears, fn NULL) the change handler. */
void dispatch_set_change_handler (dispatch_t *self, dispatch_change_fn *fn, void *arg);

/* Sets (or clears, fn NULL) the journal hook. */
void dispatch_set_journal_handler (dispatch_t *self, dispatch_journal_fn *fn, void *arg);

/* Sets (or clears, fn NULL) extra counters for the stats op. */
void dispatch_set_stats_handler (dispatch_t *self, dispatch_stats_fn *fn, void *arg);

/* Sets (or clears, fn NULL: no receipts, the default) the receipts of
   list and feed_read replies. */
void dispatch_set_receipt_handler (dispatch_t *self, dispatch_receipt_fn *fn, void *arg);

/* While message is non-NULL (copied), writes and feed acknowledgements are
   refused before they change anything, with status internal and this
   message (the gateway answers 503 with it). NULL lets them through. */
void dispatch_refuse_writes (dispatch_t *self, const char *message);

/* Caps the store's memory: while the table holds max_events events or
   event_table_bytes reaches max_bytes, a create is refused with
   store_full (the gateway answers 503) and changes nothing; updates,
   reads and acknowledgements go on. 0 = no cap. Checked per request only,
   so a table loaded above a lowered cap (journal replay) stays whole and
   just takes no new events. */
void dispatch_set_capacity (dispatch_t *self, uint64_t max_events, uint64_t max_bytes);

/* NULL while a create would be let in, else why not (borrowed: valid
   until the next call on self). The table holds max_events events or
   event_table_bytes reached max_bytes, so the create that crosses the byte
   cap is the last one let in. */
const char *dispatch_full (dispatch_t *self);

/* Bytes the next replies to list and feed_read may take (frame limit
   included; at least one item always goes, so a page makes progress): the
   server sets it before each frame from what the requesting peer may still
   have queued (store/server.c). PROTO_FRAME_MAX (the default) or more
   means the frame limit alone. */
void dispatch_set_reply_budget (dispatch_t *self, size_t bytes);

/* Records up to seq are durable: feed_read hands out no record above it,
   so the notifier never publishes a change the journal could still lose.
   Without a journal nobody calls this and every record is readable. */
void dispatch_set_durable (dispatch_t *self, uint64_t seq);

/* Most frames dispatch_prefetch takes at once. */
#define DISPATCH_PREFETCH_MAX EVENT_TABLE_PREFETCH_MAX

/* Before a run of request frames (untrusted bytes; n at most
   DISPATCH_PREFETCH_MAX) is handled one by one: starts loading the events
   the gets and updates among them name (event_table_prefetch), so their
   cache misses overlap. Changes nothing, answers nothing. A batch's frames
   go through it (dispatch_frame); messages that come one by one take the
   steps below instead: receiving runs of them to prefetch across messages
   was measured (2026-12-04, alternated, runs of 8 to 64 messages) at +5
   to +8% for single gets but -5 to -14% for single creates, whose replies
   then leave in bursts. */
void dispatch_prefetch (dispatch_t *self, const void *const *frames, const size_t *lens, size_t n);

/* What the lookahead knows of one request frame not yet handled. */
typedef struct {
    bool named;     /* a get or an update naming an id */
    bool user;      /* a create naming a user */
    uint64_t hash;  /* the id's, when named; the user's, for a create */
    uint32_t index; /* its event's (the user's newest), once dispatch_ahead_entry found it */
} dispatch_ahead_t;

/* The server receives the next message before it handles the current one
   and spreads the next one's lookup over that work (event_table_ahead_*):
   dispatch_ahead_start takes the frame's hints (proto_request_peek) and
   starts its id's hash slot (a create's: its user's slot); dispatch_ahead_entry,
   after other work, starts the order entry (the user's newest event's);
   dispatch_ahead_block, after more, the event's block. A message that is
   not a request frame skips dispatch_ahead_start: the caller zeroes its
   dispatch_ahead_t, and the two later steps then do nothing. One message
   ahead, so every reply still leaves as soon as its request is handled
   (measured 2026-12-04, three alternated pairs, 1M events: single gets
   489k-553k/s before, 564k-592k after; creates and updates within the
   rounds' noise). Hints only: they change and answer nothing, and the
   table must not change in between except by requests handled in order
   (a stale index only costs a wasted load). */
void dispatch_ahead_start (dispatch_t *self, const proto_request_hints_t *hints,
                           dispatch_ahead_t *ahead);
void dispatch_ahead_entry (dispatch_t *self, dispatch_ahead_t *ahead);
void dispatch_ahead_block (dispatch_t *self, const dispatch_ahead_t *ahead);

/* Handles one request frame (untrusted bytes) and writes the reply frame
   into out, which is cleared first. Never fails: out of memory while
   encoding leaves out empty, and the caller then sends nothing. */
void dispatch_frame (dispatch_t *self, const void *buf, size_t len, msgpack_sbuffer *out);

/* The counters, for the server to bump its own. Borrowed. */
dispatch_counters_t *dispatch_counters (dispatch_t *self);

/* The time dispatch_frame took for frames of op (decode to encoded
   reply; the group commit's wait is not in it). Borrowed. */
prom_histogram_t *dispatch_op_latency (dispatch_t *self, proto_op_t op);

/* What the stats op reports, name by name: points at an array of
 *n entries, valid until the next call on self. */
const proto_stat_t *dispatch_stats (dispatch_t *self, size_t *n);

/* The state, for tests and the stats op. Borrowed. */
event_table_t *dispatch_table (dispatch_t *self);
feed_t *dispatch_feed (dispatch_t *self);

#endif
