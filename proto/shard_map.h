/*
 * shard_map — which store shard owns which event id (docs/ARCHITECTURE.md
 * §9, issue 17), the way Redis Cluster splits its key space: 16384 slots,
 * each owned by exactly one shard, and an epoch that names the map's
 * version.
 *
 * The slot of an event id is not a hash but a part of the id itself: the
 * low 14 bits of its first two bytes (the first four hex digits of the
 * UUID text, masked with 0x3fff). A shard mints every id it creates in one
 * of its own slots (shard_map_mint), so any client holding a map routes a
 * get or an update from the id alone. The version and variant bits of an
 * RFC 4122 version 4 UUID live in bytes 6 and 8, so a minted id stays a
 * valid v4 UUID with 108 random bits.
 *
 * A map is configuration, read from a small text file (proto/PROTOCOL.md
 * §9 has the format). The parser checks it whole and says what is wrong
 * with the line number: a map that parses gives every slot exactly one
 * owner. A map without a file (shard_map_new_single) is one shard owning
 * every slot at epoch 0: the unsharded store of before.
 */
#ifndef HERALD_SHARD_MAP_H
#define HERALD_SHARD_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHARD_MAP_SLOTS 16384
#define SHARD_MAP_SHARDS_MAX 1024        /* shards in one map */
#define SHARD_MAP_ENDPOINT_MAX 255       /* bytes of a shard's endpoint */
#define SHARD_MAP_FILE_MAX (1024 * 1024) /* bytes of a map file */

typedef struct _shard_map_t shard_map_t;

/* The slot an event id names: ((id[0] & 0x3f) << 8) | id[1]. */
uint16_t shard_map_slot_of (const uint8_t id[16]);

/* Whether text (len bytes, not NUL-terminated) is an endpoint a client can
   connect to: tcp://HOST:PORT with a non-empty HOST and PORT a number in
   [1, 65535], or ipc://PATH with a non-empty PATH; printable ASCII without
   spaces, at most SHARD_MAP_ENDPOINT_MAX bytes. No wildcard (`*`). */
bool shard_map_endpoint_valid (const char *text, size_t len);

/* One shard at endpoint (copied; must be shard_map_endpoint_valid) owning
   every slot, epoch 0. NULL when out of memory or the endpoint is not
   valid. */
shard_map_t *shard_map_new_single (const char *endpoint);

/* Parses a map from text (len bytes; need not be NUL-terminated). Returns
   the map, or NULL with what is wrong written to err (NUL-terminated,
   truncated to size), e.g. "line 3: slot 8191 is already owned by shard 0
   (line 2)". Errors: an unknown directive, epoch missing, repeated, not a
   number or 0, a shard line without an endpoint or ranges, a bad endpoint,
   an endpoint named twice, a slot or range that is not decimal, above
   16383 or backwards, ranges overlapping, more than SHARD_MAP_SHARDS_MAX
   shards, no shard, a slot owned by nobody, a NUL byte, more than
   SHARD_MAP_FILE_MAX bytes, out of memory. */
shard_map_t *shard_map_parse (const char *text, size_t len, char *err, size_t size);

/* Reads and parses the file at path; errors as shard_map_parse, prefixed
   with the path, or why the file could not be read. Blocks on the read. */
shard_map_t *shard_map_load (const char *path, char *err, size_t size);

void shard_map_destroy (shard_map_t **self_p);

/* The map's epoch (0 for shard_map_new_single). */
uint64_t shard_map_epoch (const shard_map_t *self);

/* Number of shards, at least 1; shard ids are 0 .. shards - 1, in the
   order of the file's shard lines. */
size_t shard_map_shards (const shard_map_t *self);

/* Endpoint of shard (NUL-terminated, borrowed: lives as long as self). */
const char *shard_map_endpoint (const shard_map_t *self, size_t shard);

/* The shard that owns slot (< SHARD_MAP_SLOTS). */
size_t shard_map_owner (const shard_map_t *self, uint16_t slot);

/* The shard that owns the slot of id. */
size_t shard_map_owner_of (const shard_map_t *self, const uint8_t id[16]);

/* Number of slots shard owns (at least 1). */
uint32_t shard_map_slot_count (const shard_map_t *self, size_t shard);

/* Makes id name one of shard's slots: rewrites its 14 slot bits (and no
   other) to the slot numbered random % slot_count among shard's slots in
   increasing order, so with random bits from the kernel every slot of the
   shard is as likely. id's other bytes are left as they are: a caller that
   filled id with random bytes and RFC 4122 v4 bits keeps a v4 UUID. */
void shard_map_mint (const shard_map_t *self, size_t shard, uint32_t random, uint8_t id[16]);

#endif
