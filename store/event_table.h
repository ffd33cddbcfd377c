/*
 * event_table — the store's events, in memory, keyed by 16-byte UUID.
 *
 * Each event is one heap block holding its fixed fields and its three
 * strings inline, so an event costs one allocation. Events are numbered by
 * creation order (their "index"); an index never changes and is what the
 * rest of the store (the change feed) keeps. Four structures sit over the
 * blocks:
 *   - an array of blocks in creation order: `list` resumes at the cursor's
 *     index instead of scanning from the start;
 *   - an open-addressing hash (linear probing) of indices by id: O(1) get
 *     and update;
 *   - a per-user_id index: a hash from user_id to the set of that user's
 *     indices in creation order (index_set.h), so a user_id filter reads
 *     only that user's events and resumes at a cursor by a binary search,
 *     and an update moving an event to another user costs the same
 *     whatever the users hold;
 *   - a status index (status_index.h): per status, the indices of its
 *     events in creation order, so a status filter alone lists without a
 *     scan. A user_id and a status together walk the user's set beside the
 *     status's (event_table_list.c), reading no event.
 *
 * There is no delete (docs/ARCHITECTURE.md §3), so the table only grows.
 * Strings handed in are copied; views handed out are borrowed until the next
 * update.
 */
#ifndef HERALD_EVENT_TABLE_H
#define HERALD_EVENT_TABLE_H

#include "proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_TABLE_NONE UINT32_MAX      /* "no index" */
#define EVENT_TABLE_MAX (UINT32_MAX / 2) /* the feed packs a kind bit beside the index */

typedef struct _event_table_t event_table_t;

/* A list query: absent filters have ptr == NULL. limit >= 1. */
typedef struct {
    proto_str_t user_id;
    proto_str_t status;
    bool has_after;
    uint8_t after[16];
    uint32_t limit;
} event_query_t;

/* Returns a new empty table, or NULL when out of memory. */
event_table_t *event_table_new (void);

/* Frees the table and every event; sets *self_p to NULL. No-op on NULL. */
void event_table_destroy (event_table_t **self_p);

/* Number of events. */
size_t event_table_size (event_table_t *self);

/* Creates an event with the given id (copying the strings; request_id, the
   request that made it, may be PROTO_STR_NONE), created_at = updated_at =
   now_ms, created_us = now_us (the microseconds within now_ms, 0 to
   PROTO_CREATED_US_MAX) and the given seq. On success stores its index in
   *index and returns 0; returns -1 when out of memory, when the id already
   exists or the table is full — the table is then unchanged. */
int event_table_create (event_table_t *self, const uint8_t id[16], proto_str_t user_id,
                        proto_str_t description, proto_str_t status, proto_str_t request_id,
                        int64_t now_ms, uint16_t now_us, uint64_t seq, uint32_t *index);

/* Index of the event with this id, or EVENT_TABLE_NONE. */
uint32_t event_table_find (event_table_t *self, const uint8_t id[16]);

/* Most ids event_table_prefetch takes at once. */
#define EVENT_TABLE_PREFETCH_MAX 64

/* Starts loading, without waiting, what finding each of ids[0..n-1] (n at
   most EVENT_TABLE_PREFETCH_MAX) and reading its event will touch: its
   hash slot, the order entry the slot points at and the event's block. A
   lookup of a random id among a million takes three cache misses, one
   after another; started together for a batch of requests, they overlap.
   A hint only: it changes nothing, and an id not held costs its slot. */
void event_table_prefetch (event_table_t *self, const uint8_t (*ids)[16], size_t n);

/* The same three loads for one id, a step at a time, so a caller that
   handles messages one by one can overlap them with its other work: each
   step reads only what the one before started to load. Hints only, as
   above. event_table_ahead_slot starts the id's hash slot and returns the
   id's hash; event_table_ahead_entry probes the slots by their tags and
   starts the order entry the first match names, returning its index
   (EVENT_TABLE_NONE: the id is not held; a tag shared by another id may
   name that one's event, which only wastes a load);
   event_table_ahead_block starts the event's block. The table must not
   have grown between the steps of one id (an index is checked, a stale
   one only costs a wasted load). */
uint64_t event_table_ahead_slot (event_table_t *self, const uint8_t id[16]);
uint32_t event_table_ahead_entry (event_table_t *self, uint64_t hash);
void event_table_ahead_block (event_table_t *self, uint32_t index);

/* The same steps for the user a create names, whose slot the create probes
   by comparing the user_id with the user's newest event's block:
   event_table_ahead_user_slot starts the user's hash slot and returns the
   user's hash; event_table_ahead_user_entry finds the first slot of that
   hash and starts the order entry of its newest event, returning that
   index (EVENT_TABLE_NONE: no such slot, a new user); event_table_ahead_block
   then starts that event's block. Hints only, as above. */
uint32_t event_table_ahead_user_slot (event_table_t *self, const char *ptr, size_t len);
uint32_t event_table_ahead_user_entry (event_table_t *self, uint32_t hash);

/* Replaces the fields whose ptr is non-NULL, the request id always (the
   update's own, PROTO_STR_NONE for none), sets updated_at = now_ms and
   seq. Changing user_id moves the event to the new user's index set.
   Returns 0, or -1 when out of memory, the event then unchanged. index
   must be valid. */
int event_table_update (event_table_t *self, uint32_t index, proto_str_t user_id,
                        proto_str_t description, proto_str_t status, proto_str_t request_id,
                        int64_t now_ms, uint64_t seq);

/* Fills out with the event's current state. Strings are borrowed from the
   table until the next update of this event. index must be valid. */
void event_table_view (event_table_t *self, uint32_t index, proto_event_t *out);

/* Runs a list query: writes the indices of up to query->limit matching
   events, in creation order after the cursor, to out (room for limit) and
   their count to *n. *more is true when at least one more event matches
   after the last one written. Returns 0, or -1 when the after cursor names
   no event. */
int event_table_list (event_table_t *self, const event_query_t *query, uint32_t *out, size_t *n,
                      bool *more);

/* Bytes the table's own structures use beyond the events' strings (blocks'
   fixed part, arrays, hashes), for stats and the benchmark's report. */
size_t event_table_overhead_bytes (event_table_t *self);

/* The longest user_id, description and status any event has had here
   (never shrinks): with limits lowered since events were stored (a
   restart), stored strings can be longer than the limits say, and a batch
   reply must be sized for what is stored (dispatch_frame.c). */
proto_limits_t event_table_longest (event_table_t *self);

/* Bytes the whole table uses: its overhead plus every event's strings
   (what the store's --max-memory caps). Kept up to date by create and
   update, so reading it costs nothing. */
size_t event_table_bytes (event_table_t *self);

#endif
