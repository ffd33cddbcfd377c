/*
 * event_table_internal — the event table's layout, shared by its sources:
 * event_table.c (blocks, the id hash, create, update, view),
 * event_table_sets.c (the user and pair hashes) and event_table_list.c
 * (listing). Nothing else includes it.
 */
#ifndef HERALD_EVENT_TABLE_INTERNAL_H
#define HERALD_EVENT_TABLE_INTERNAL_H

#include "event_table.h"
#include "index_set.h"
#include "status_index.h"

typedef struct {
    uint8_t id[16];
    int64_t created_at;
    int64_t updated_at;
    uint64_t seq;
    uint32_t user_len;
    uint32_t description_len;
    uint32_t status_len;
    uint8_t request_id_len; /* PROTO_REQUEST_ID_MAX fits; 0: none */
    uint16_t created_us;    /* in the padding before data: costs no byte */
    char data[];            /* user_id, description, status, request_id */
} event_t;

/* A key's events: a user_id's, or a (user_id, status) pair's. The key is
   read from the first event's block. */
typedef struct {
    index_set_t events; /* none: an empty slot */
    uint32_t hash;
} set_slot_t;

/* Keys to their events, linear probing, load factor at most 3/4, deletion
   by backward shift (no tombstones) when a key's last event moves away. */
typedef struct {
    set_slot_t *slots;
    size_t mask;
    size_t count; /* keys */
} set_hash_t;

/* A key: a user_id, and a status for a pair (PROTO_STR_NONE for a user). */
typedef struct {
    proto_str_t user;
    proto_str_t status;
    uint32_t hash; /* event_table_key's */
} set_key_t;

struct _event_table_t {
    event_t **order; /* blocks by index */
    size_t count;
    size_t order_cap;
    uint64_t *ids; /* id hash: hash tag << 32 | index per slot; empty: all ones */
    size_t ids_mask;
    set_hash_t users; /* each user_id's events */
    set_hash_t pairs; /* each (user_id, status) pair's events */
    size_t set_bytes; /* what both hashes' index sets allocated */
    status_index_t *statuses;
    size_t string_bytes;    /* the events' strings, for event_table_bytes */
    proto_limits_t longest; /* the longest of each string ever held (event_table_longest) */
};

/* The key of user (and status, unless PROTO_STR_NONE), its hash made. */
set_key_t event_table_key (proto_str_t user, proto_str_t status);

/* The slot of key in hash, or the empty slot where it would go (no
   events). */
set_slot_t *event_table_set_slot (event_table_t *self, set_hash_t *hash, const set_key_t *key);

/* Makes hash's slots (n, a power of two). Returns 0 or -1. */
int event_table_sets_init (set_hash_t *hash, size_t n);

/* Frees hash's slots and their sets. */
void event_table_sets_free (set_hash_t *hash);

/* Grows hash so one more key fits under the load factor. Returns 0, or -1
   when out of memory, the hash then unchanged. */
int event_table_sets_reserve (set_hash_t *hash);

/* Adds index to key's events in hash, which has room
   (event_table_sets_reserve succeeded). A key not yet held takes the empty
   slot and holds index inline, which cannot fail; a held one's set may
   allocate. Moves no other slot, and reads no block of index's (it may not
   hold the key yet). Returns the slot, or NULL when out of memory, nothing
   then changed. */
set_slot_t *event_table_sets_add (event_table_t *self, set_hash_t *hash, const set_key_t *key,
                                  uint32_t index);

/* Takes index out of slot's events (slot in hash), freeing the slot when
   that was its last: other slots of hash may move. Never fails. */
void event_table_sets_remove (event_table_t *self, set_hash_t *hash, set_slot_t *slot,
                              uint32_t index);

#endif
