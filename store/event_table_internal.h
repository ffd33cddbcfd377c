/*
 * event_table_internal — the event table's layout, shared by its sources:
 * event_table.c (blocks, create, update, view), event_table_hash.c (the
 * id and user hashes) and event_table_list.c (listing), and
 * test_event_table.c, which checks the hashes' sizes. Nothing else
 * includes it.
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

/* A user_id's events, 16 bytes. A probe reads the user_id from the event
   block of the set's last member (index_set_last), whose index is in the
   slot for a user of one or two events, and otherwise in the set's last
   block, the one a create's append goes to (unless it is full), so the
   probe's load is mostly the append's. The str_hash of the user_id is kept
   in the set's owner word. */
typedef struct {
    index_set_t events; /* none: an empty slot */
} user_slot_t;

/* Each hash is EVENT_TABLE_PARTS tables of its own (a part), chosen by the
   top bits of the hash; a part probes and grows by itself, so a grow
   rehashes one part, about 1/EVENT_TABLE_PARTS of the entries. */
#define EVENT_TABLE_PART_BITS 10
#define EVENT_TABLE_PARTS (1u << EVENT_TABLE_PART_BITS)

/* A part of the id hash: hash tag << 32 | index per slot; empty: all ones. */
typedef struct {
    uint64_t *slots;
    uint32_t mask; /* a part has at most 2^32 slots (the tag's bits) */
    uint32_t count;
} id_part_t;

/* A part of the user hash. */
typedef struct {
    user_slot_t *slots;
    uint32_t mask;
    uint32_t count;
} user_part_t;

struct _event_table_t {
    event_t **order; /* blocks by index */
    size_t count;
    size_t order_cap;
    id_part_t ids[EVENT_TABLE_PARTS];
    user_part_t users[EVENT_TABLE_PARTS];
    uint64_t *ids_first;      /* every id part's first slots, side by side */
    user_slot_t *users_first; /* every user part's */
    size_t ids_slots;         /* of all the id parts, for event_table_overhead_bytes */
    size_t users_slots;       /* of all the user parts */
    size_t users_count;
    size_t user_set_bytes; /* what the users' index sets allocated */
    status_index_t *statuses;
    size_t string_bytes;    /* the events' strings, for event_table_bytes */
    proto_limits_t longest; /* the longest of each string ever held (event_table_longest) */
};

/* The slot of the user_id (ptr, len) whose str_hash is hash, or the empty
   slot where it would go (no events). */
user_slot_t *event_table_user_slot (event_table_t *self, const char *ptr, size_t len,
                                    uint32_t hash);

/* ---- The hashes (event_table_hash.c) ---- */

#define EVENT_TABLE_ID_EMPTY UINT64_MAX /* an id slot that holds no id */

/* Gives self's hashes their parts, each at its first size; -1 when out of
   memory (event_table_hashes_free then frees what was made). */
int event_table_hashes_init (event_table_t *self);
/* Frees the parts and the users' index sets. */
void event_table_hashes_free (event_table_t *self);

/* The id's hash, mixed (the part from its top bits, the tag and the home
   slot from its low bits). */
uint64_t event_table_id_hash (const uint8_t id[16]);
/* The slot holding id (hash its event_table_id_hash), or the empty slot
   where it would go. */
uint64_t *event_table_id_slot (event_table_t *self, const uint8_t id[16], uint64_t hash);
/* Fills the empty slot event_table_id_slot gave for hash with index. */
void event_table_id_put (event_table_t *self, uint64_t *slot, uint64_t hash, uint32_t index);
/* Grows the part for hash of the id hash, or of the user hash, so one
   more entry fits in it under its load factor: 0, or -1 when out of
   memory (nothing then changed). */
int event_table_ids_reserve (event_table_t *self, uint64_t hash);
int event_table_users_reserve (event_table_t *self, uint32_t hash);
/* Adds index to user_id's (hash its str_hash) events; see
   event_table_hash.c. 0, or -1 when out of memory, nothing then changed. */
int event_table_user_add (event_table_t *self, proto_str_t user_id, uint32_t hash, uint32_t index);
/* Removes a user's slot (hash its str_hash) whose set is empty. */
void event_table_user_slot_delete (event_table_t *self, uint32_t hash, user_slot_t *slot);

#endif
