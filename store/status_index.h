/*
 * status_index — the store's events grouped by status, so that a list
 * filtered by status alone (`GET /events?status=pending`) costs the same
 * at a million events as at a thousand instead of scanning creation order.
 *
 * Statuses move: every event is created `pending` and most become
 * `processed` soon after, so the index must take an event out of one
 * status and put it into another cheaply, and must list a status in
 * creation order from any cursor. Each status holds a sorted vector of
 * chunks; a chunk is a 512-bit bitmap of event indices (index / 512 names
 * the chunk) with a member count, and only non-empty chunks are kept.
 * Hence:
 *   - add and remove: a hash lookup of the status, a binary search of its
 *     chunks, a bit set or cleared. A chunk appears or disappears at most
 *     once per 512 changes in one region; the vector then moves its tail
 *     (up to 72 bytes per 512 events of that status: ~140 KB at a million
 *     events in one status, the worst case, when changes land in its
 *     middle rather than at its ends, where they usually land);
 *   - listing from a cursor: one binary search, then set bits in order; as
 *     every kept chunk has a member, a page of n reads at most n + 1
 *     chunks;
 *   - memory: at least 72 bytes per 512 events in a status (0.14 B per
 *     event when a status is dense), at most 72 bytes per event when a
 *     status is sparse (each member alone in its chunk), plus the status's
 *     own entry; a status left empty is freed, so arbitrary client-chosen
 *     statuses cost nothing once no event holds them.
 * The strings are compared by value and copied into the entry; what the
 * caller passes in stays the caller's.
 */
#ifndef HERALD_STATUS_INDEX_H
#define HERALD_STATUS_INDEX_H

#include "proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_INDEX_NONE UINT32_MAX /* "no index" */

typedef struct _status_index_t status_index_t;

/* Returns a new empty index, or NULL when out of memory. */
status_index_t *status_index_new (void);

/* Frees the index; sets *self_p to NULL. No-op on NULL. */
void status_index_destroy (status_index_t **self_p);

/* Records that event `index` (< STATUS_INDEX_NONE) has `status`. Returns 0,
   or -1 when out of memory, the index then unchanged. The event must not
   already be recorded under this status. */
int status_index_add (status_index_t *self, proto_str_t status, uint32_t index);

/* Forgets that event `index` has `status`; it must have been added under
   it. Never fails (shrinking allocates nothing). */
void status_index_remove (status_index_t *self, proto_str_t status, uint32_t index);

/* Writes to out, in ascending order, up to max indices >= from recorded
   under status, and returns how many it wrote; *more is true when at least
   one more such index follows the last one written. */
size_t status_index_collect (status_index_t *self, proto_str_t status, uint32_t from, uint32_t *out,
                             size_t max, bool *more);

/* A status's members, for walking them beside another sorted index
   (event_table_list: a user's events with one status). Valid until the
   index next changes. */
typedef struct _status_members_t status_members_t;

#define STATUS_INDEX_RANGE 512 /* indices per range of status_members_range */

/* The members of status, or NULL when it has none. */
const status_members_t *status_index_members (status_index_t *self, proto_str_t status);

/* The range of STATUS_INDEX_RANGE indices holding the first member >= from:
   its first index into *first and its members >= from as a bitmap (bit i of
   bits[i / 64]: index *first + i) into bits. Returns false when no member
   is >= from. O(log ranges). */
bool status_members_range (const status_members_t *members, uint32_t from, uint32_t *first,
                           uint64_t bits[STATUS_INDEX_RANGE / 64]);

/* Number of events recorded under status. */
size_t status_index_count (status_index_t *self, proto_str_t status);

/* Number of distinct statuses with at least one event. */
size_t status_index_statuses (status_index_t *self);

/* Bytes the index allocated (its hash, entries and chunks). */
size_t status_index_bytes (status_index_t *self);

#endif
