/*
 * shards — one gateway loop's view of the store shards (issue 17, step 2):
 * the shard map it routes by (proto/shard_map.h) and one store_client per
 * shard of that map, so that a request is sent to the shard that owns it.
 *
 * Without a map file a gateway has the single map (shard_map_new_single):
 * one shard, its --store-endpoint, owning every slot at epoch 0, and every
 * request goes to it exactly as before sharding.
 *
 * Routing, all from the request alone:
 *   - an event id (get, update) goes to the owner of the id's slot;
 *   - a create goes to the owner of the user's slot, a hash of user_id
 *     (shards_user_slot): creates spread over shards as evenly as users'
 *     ids hash (one very busy user loads one shard, the trade-off Redis
 *     Cluster's hash tags make too), and a user's events mostly sit
 *     together. It does not make a user's list a single-shard query: a
 *     PUT may change an event's user_id and the event stays where it was
 *     created, so every list over several shards asks them all
 *     (backend.c, list_merge.h). A user's slot is a slot of the map, not
 *     a shard number, so when slots move between shards a user moves with
 *     them.
 *
 * A stale map is refreshed from its file (shards_reload) when a shard
 * answers `moved`: connections to endpoints that are in both maps are
 * kept, new ones are made, and those no longer in the map are closed
 * (their requests in flight then reach their deadline). Every connection
 * has a link number that is never reused, so a request remembers the
 * connection it went out on across a reload (the pending table keeps it).
 *
 * A shards_t belongs to one loop thread: each loop of a gateway holds its
 * own map and refreshes it on its own.
 */
#ifndef HERALD_GATEWAY_SHARDS_H
#define HERALD_GATEWAY_SHARDS_H

#include "shard_map.h"
#include "store_client.h"

#include <stddef.h>
#include <stdint.h>

typedef struct _shards_t shards_t;

/* The map from map_path (NULL: the single map of endpoint) and a client per
   shard made from client (its endpoint ignored; its borrowed keys must
   outlive self, as clients are also made on reload). NULL, after logging
   why, when the map cannot be read or a client cannot be made. */
shards_t *shards_new (const char *map_path, const char *endpoint,
                      const store_client_config_t *client);
void shards_destroy (shards_t **self_p);

/* Shards in the current map (at least 1). */
size_t shards_size (shards_t *self);

/* The current map's epoch (0: the single map). */
uint64_t shards_epoch (shards_t *self);

/* Shard's endpoint (borrowed until the next reload). */
const char *shards_endpoint (shards_t *self, size_t shard);

/* Shard's client (borrowed until the next reload or reset). */
store_client_t *shards_client (shards_t *self, size_t shard);

/* Shard's link: a number naming its current connection, never 0, never
   reused by self. */
uint32_t shards_link (shards_t *self, size_t shard);

/* The shard whose connection is link, or -1 when none is any more. */
int shards_find_link (shards_t *self, uint32_t link);

/* The shard at endpoint (len bytes, need not be NUL-terminated), or -1
   when the current map has none there. */
int shards_find_endpoint (shards_t *self, const char *endpoint, size_t len);

/* The shard owning event id's slot. */
size_t shards_owner_of (shards_t *self, const uint8_t id[16]);

/* The shard owning user's slot (shards_user_slot). */
size_t shards_owner_of_user (shards_t *self, const char *user, size_t len);

/* The slot of a user id: 64-bit FNV-1a of its bytes, mixed by
   MurmurHash3's fmix64, modulo SHARD_MAP_SLOTS. Pure; the same in every
   gateway, every run (proto/PROTOCOL.md §9 states it for other clients). */
uint16_t shards_user_slot (const char *user, size_t len);

/* Reads the map file again. Returns 1 when its epoch is newer than the
   current map's and it was adopted (clients kept, made and closed as the
   opening comment says), 0 when its epoch is not newer (nothing changed),
   -1 when there is no file (the single map), or it cannot be read or
   parsed, or a client cannot be made (logged; nothing changed). Blocks
   on the file read. */
int shards_reload (shards_t *self);

/* Gives shard a fresh connection (and link): replies to requests sent on
   the old one can never be mistaken for replies to new ones. 0 or -1
   (the old connection is then kept). */
int shards_reset (shards_t *self, size_t shard);

/* A number that changes whenever a connection is made or closed (reload,
   reset): the caller's poll items are stale when it has changed. */
unsigned shards_generation (shards_t *self);

#endif
