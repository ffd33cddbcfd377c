/*
 * list_merge — one `GET /events` over a map of several shards (issue 17,
 * step 3; proto/PROTOCOL.md §9): what each shard answered, and the page
 * merged from those answers behind the opaque cursor of list_cursor.h.
 *
 * backend.c asks every shard at once for `limit` events after that
 * shard's entry in the client's cursor (from its start when it has none),
 * with the same filters, and hands each answer here; once every shard has
 * answered (or failed), the page is the first `limit` events of the
 * merge, and the new cursor is the old one with, for each shard that gave
 * events to the page, the last of them.
 *
 * The order is creation order across shards: each shard's events in its
 * own order, merged by taking, every time, the head created first
 * (created_at, then created_us: the store's clock in microseconds), the
 * lowest shard index of the map winning a tie. Only the heads are
 * compared, so every shard's own order is kept even if its clock stepped
 * back, the result is the same whatever the page size, and an
 * event is never given twice nor skipped. A shard whose answer is used up
 * while it said more follows (the store shortens a reply that would not
 * fit its frame) ends the page there: its next event is not known, so
 * nothing after it may be given yet. The page is then short, and its
 * cursor continues exactly there.
 *
 * Any shard failing fails the whole list (with the error of the lowest
 * failing shard): a page is never silently partial. Nothing here does
 * I/O; the answers' events are copied, so the connections' buffers they
 * came in may be reused at once.
 */
#ifndef HERALD_GATEWAY_LIST_MERGE_H
#define HERALD_GATEWAY_LIST_MERGE_H

#include "api_reply.h"
#include "list_cursor.h"
#include "proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _list_merge_t list_merge_t;

/* A merge continuing from cursor (takes ownership; an empty one to start),
   over its shards and epoch, limit (1 to PROTO_LIST_LIMIT_MAX) events a
   page. NULL when memory is short (cursor destroyed then too). */
list_merge_t *list_merge_new (list_cursor_t *cursor, uint32_t limit);
void list_merge_destroy (list_merge_t **self_p);

/* The cursor: the client's until list_merge_page, then the next page's
   (borrowed). */
const list_cursor_t *list_merge_cursor (const list_merge_t *self);

/* Notes that shard's request went out on link (a store connection's
   number, never 0). */
void list_merge_sent (list_merge_t *self, size_t shard, uint32_t link);

/* The shard whose request went out on link and is not answered yet, or
   -1. */
int list_merge_shard_of (const list_merge_t *self, uint32_t link);

/* Requests sent and not yet answered nor failed. */
size_t list_merge_outstanding (const list_merge_t *self);

/* Shard's answer: n events in its order (copied; items borrowed) and
   whether more follow them on the shard. 0, or -1 when memory is short
   (the shard is then failed with a 500). */
int list_merge_take (list_merge_t *self, size_t shard, const proto_event_t *items, size_t n,
                     bool more);

/* Shard failed (not sent, refused, timed out, undecodable): error is the
   response for the whole list; takes ownership of its body (error is
   zeroed). The lowest failing shard's error is the one kept. */
void list_merge_fail (list_merge_t *self, size_t shard, api_reply_t *error);

/* True when some shard failed. */
bool list_merge_failed (const list_merge_t *self);

/* Merges the answers (all in, none failed): page (room for limit) gets
   the page's events (their strings borrowed from self until it is
   destroyed),
   the cursor moves past them, and *more is false only when every shard
   has nothing after them. Returns the page's length. Call once. */
size_t list_merge_page (list_merge_t *self, proto_event_t *page, bool *more);

/* The response once nothing is outstanding: the kept error, or the merged
   page {"items":[...],"next_after":"<cursor>"|null} as a 200. Returns 0, or
   -1 when out of memory (reply then the empty 500). */
int list_merge_reply (list_merge_t *self, api_reply_t *reply);

#endif
