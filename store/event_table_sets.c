/*
 * event_table_sets — the event table's two hashes of index sets
 * (event_table_internal.h): each user_id's events, so a user's list reads
 * only its events, and each (user_id, status) pair's, so a user's list
 * filtered by status reads only the matching ones: both resume at a
 * cursor by a binary search, and moving an event to another user or
 * status moves one index in each.
 *
 * A slot keeps no copy of its key: the key is read from the block of its
 * set's first event (str_hash's per-process key makes the 32-bit hashes
 * beside the slots unpredictable, so reads on a false match stay rare).
 */
#include "event_table_internal.h"

#include "str_hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

set_key_t
event_table_key (proto_str_t user, proto_str_t status)
{
    uint32_t hash = str_hash (user.ptr, user.len);
    if (status.ptr)
        hash ^= str_hash (status.ptr, status.len) * 0x9e3779b1u;
    return (set_key_t){ user, status, hash };
}

/* True when event holds key. */
static bool
s_holds (const event_t *event, const set_key_t *key)
{
    if (event->user_len != key->user.len || memcmp (event->data, key->user.ptr, key->user.len) != 0)
        return false;
    return !key->status.ptr
           || (event->status_len == key->status.len
               && memcmp (event->data + event->user_len + event->description_len, key->status.ptr,
                          key->status.len)
                      == 0);
}

set_slot_t *
event_table_set_slot (event_table_t *self, set_hash_t *hash, const set_key_t *key)
{
    for (size_t i = key->hash & hash->mask;; i = (i + 1) & hash->mask) {
        set_slot_t *slot = &hash->slots[i];
        if (slot->events.count == 0)
            return slot; /* the empty slot where this key would go */
        if (slot->hash == key->hash && s_holds (self->order[index_set_first (&slot->events)], key))
            return slot;
    }
}

int
event_table_sets_init (set_hash_t *hash, size_t n)
{
    hash->slots = calloc (n, sizeof *hash->slots);
    hash->mask = n - 1;
    hash->count = 0;
    return hash->slots ? 0 : -1;
}

void
event_table_sets_free (set_hash_t *hash)
{
    for (size_t i = 0; hash->slots && i <= hash->mask; i++)
        index_set_clear (&hash->slots[i].events, NULL);
    free (hash->slots);
    hash->slots = NULL;
}

int
event_table_sets_reserve (set_hash_t *hash)
{
    size_t size = hash->mask + 1;
    if ((hash->count + 1) * 4 <= size * 3)
        return 0;
    set_slot_t *slots = calloc (size * 2, sizeof *slots);
    if (!slots)
        return -1;
    size_t mask = size * 2 - 1;
    for (size_t i = 0; i < size; i++) {
        if (hash->slots[i].events.count == 0)
            continue;
        size_t j = hash->slots[i].hash & mask;
        while (slots[j].events.count != 0)
            j = (j + 1) & mask;
        slots[j] = hash->slots[i];
    }
    free (hash->slots);
    hash->slots = slots;
    hash->mask = mask;
    return 0;
}

/* Removes a slot whose set is empty, shifting later members of its probe
   run back. */
static void
s_slot_delete (set_hash_t *hash, set_slot_t *slot)
{
    size_t mask = hash->mask;
    size_t hole = (size_t)(slot - hash->slots);
    assert (slot->events.count == 0);
    for (size_t i = (hole + 1) & mask; hash->slots[i].events.count != 0; i = (i + 1) & mask) {
        size_t home = hash->slots[i].hash & mask;
        /* Move i into the hole unless its home lies cyclically in (hole, i]. */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            hash->slots[hole] = hash->slots[i];
            hole = i;
        }
    }
    memset (&hash->slots[hole], 0, sizeof hash->slots[hole]);
    hash->count--;
}

set_slot_t *
event_table_sets_add (event_table_t *self, set_hash_t *hash, const set_key_t *key, uint32_t index)
{
    set_slot_t *slot = event_table_set_slot (self, hash, key);
    bool fresh = slot->events.count == 0;
    if (index_set_add (&slot->events, index, &self->set_bytes) != 0)
        return NULL;
    if (fresh) {
        slot->hash = key->hash;
        hash->count++;
    }
    return slot;
}

void
event_table_sets_remove (event_table_t *self, set_hash_t *hash, set_slot_t *slot, uint32_t index)
{
    index_set_remove (&slot->events, index, &self->set_bytes);
    if (slot->events.count == 0)
        s_slot_delete (hash, slot);
}
