/*
 * list_cursor — the opaque `next_after` of a list merged across shards
 * (issue 17, step 3; proto/PROTOCOL.md §9): for each shard of the map, the
 * last event the client has been given from it (the store's own `after`
 * cursor on that shard), and the map's epoch. A gateway over one shard
 * never makes one: its cursor stays the plain event id the store returns.
 *
 * The text is base64url (RFC 4648 §5, no padding) of a small versioned
 * binary, big-endian:
 *
 *   version (1 byte, LIST_CURSOR_VERSION)  epoch (8)  shards in the map (2)
 *   then, for each shard that has given something, in increasing shard
 *   order: shard index (2)  id of its last event given (16)
 *
 * A shard with nothing given yet is absent (it is listed from its start);
 * there is no "exhausted" mark: a shard that had nothing more is asked
 * again after its last event, so an event created there since is not
 * skipped. The text is at most LIST_CURSOR_TEXT_MAX bytes (1024 shards,
 * every one started: 24,591), 15 plus 24 per started shard.
 *
 * The text comes back from clients, so decoding is strict and total: only
 * the canonical encoding of a well-formed cursor is accepted (the alphabet,
 * no padding, no trailing bits, a known version, 2 to 1024 shards, at
 * least one entry, indices in range and increasing, the length exact);
 * anything else is refused, never read past. Whether the epoch is the
 * gateway's own is the caller's check. Nothing here does I/O.
 */
#ifndef HERALD_GATEWAY_LIST_CURSOR_H
#define HERALD_GATEWAY_LIST_CURSOR_H

#include "shard_map.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _list_cursor_t list_cursor_t;

#define LIST_CURSOR_VERSION 1
#define LIST_CURSOR_HEAD 11  /* version, epoch, shards */
#define LIST_CURSOR_ENTRY 18 /* shard index, event id */
#define LIST_CURSOR_BYTES_MAX (LIST_CURSOR_HEAD + LIST_CURSOR_ENTRY * SHARD_MAP_SHARDS_MAX)
#define LIST_CURSOR_TEXT_MAX ((LIST_CURSOR_BYTES_MAX * 4 + 2) / 3)

/* An empty cursor (no shard started) for a map of shards (2 to
   SHARD_MAP_SHARDS_MAX) at epoch. NULL when shards is out of range or
   memory is short. */
list_cursor_t *list_cursor_new (uint64_t epoch, size_t shards);
void list_cursor_destroy (list_cursor_t **self_p);

uint64_t list_cursor_epoch (const list_cursor_t *self);
size_t list_cursor_shards (const list_cursor_t *self);

/* The id of the last event given from shard (borrowed), NULL when none
   has been. */
const uint8_t *list_cursor_last (const list_cursor_t *self, size_t shard);

/* Records id as the last event given from shard. */
void list_cursor_set (list_cursor_t *self, size_t shard, const uint8_t id[16]);

/* The text (NUL-terminated, the caller's to free), NULL when no shard is
   started (such a cursor is never handed out) or memory is short. */
char *list_cursor_encode (const list_cursor_t *self);

/* The text form of any len bytes (base64url, no padding) into out (room
   for BASE64_ENCODE_LENGTH (len) + 3 and a NUL); returns its length. For
   the tests and the fuzz target, which craft cursors byte by byte. */
size_t list_cursor_text (const uint8_t *bytes, size_t len, char *out);

typedef enum {
    LIST_CURSOR_OK = 0,
    LIST_CURSOR_MALFORMED, /* not a cursor this encoder could have written */
    LIST_CURSOR_NOMEM,
} list_cursor_result_t;

/* Decodes len bytes of text (need not be NUL-terminated; any bytes) into
   *out (the caller's to destroy). On anything but LIST_CURSOR_OK *out is
   NULL and nothing is left allocated. */
list_cursor_result_t list_cursor_decode (const char *text, size_t len, list_cursor_t **out);

#endif
