/*
 * event_table_hash — the event table's id hash and user hash (see
 * event_table_internal.h), and the lookups and prefetch hints of
 * event_table.h that go through them. The id hash stores indices, not pointers, so an update that
 * reallocates a block only rewrites its slot in the order array; beside each index it keeps the low
 * 32 bits of the id's hash, so probing compares slots and reads an event block only on a likely
 * match (random ids would otherwise cost a cache miss per probe), and growing finds each slot's new
 * home from those bits without reading any block, which once made a grow take twice as long. Both
 * hashes use linear probing, the user hash with a load factor of at most 3/4 and the id hash of at
 * most 5/8, and the user hash deletes by backward shift (no tombstones) when a user's last event
 * moves away.
 *
 * Each hash is 1024 parts (EVENT_TABLE_PARTS), each a table of its own
 * that probes and grows by itself: the top bits of a hash pick the part,
 * the low bits the home slot in it. A grow doubles one part, about 1/1024
 * of the hash's entries, so its pause stays small as the table grows:
 * when each hash was one table, a grow moved all of it at once, a pause
 * that doubled with every doubling of the events (10-27 ms at 0.65-1.6
 * million events, 210 and 725 ms at 5.2 and 6.3 million), and moving it a
 * step per create instead (as Redis's dict does) doubled the p99 of
 * pipelined creates. The parts cost no more per create or get; the
 * longest create at 8 million events is about 1 ms. A part's first size
 * is 4 slots, all of them in one array per hash, so an empty table
 * holds 32 KiB of id slots and 64 KiB of user slots in two allocations
 * (a part that grows leaves its first 4 behind, unused). A grown
 * array of 2 MiB and up has its pages faulted in by one madvise
 * (s_prefault) before the rehash writes them, instead of one page fault
 * per 4 KiB inside it; a part gets that big only at about 84 million
 * events (ids) or 50 million users.
 */
#include "event_table_internal.h"

#include "str_hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

_Static_assert(sizeof (user_slot_t) == 16, "a user's slot is 16 bytes (index_set_t)");
/* A part's mask is 32 bits: even EVENT_TABLE_MAX events all in one part
   fit under 5/8 of 2^32 slots, so no part grows past that (nor a user
   part, at 3/4, with no more users than events). An id part's home and
   tag bits (0-31) never meet its part bits (54-63). A user part's home
   bits reach its part bits (22-31) only past 2^22 slots, about 3 million
   users in one part, some 3 billion in all: lookups would still be right
   there, only less spread. */
_Static_assert((uint64_t)EVENT_TABLE_MAX * 8 <= 5ull << 32, "a part fits in 2^32 slots");

#define S_PART_SLOTS 4            /* a part's first size; 1024 parts: 4096 slots a hash */
#define S_PREFAULT_MIN (2u << 20) /* s_prefault: arrays of this size and up */

#define S_EMPTY EVENT_TABLE_ID_EMPTY
#define S_SLOT_INDEX(slot) ((uint32_t)(slot))

uint64_t
event_table_id_hash (const uint8_t id[16])
{
    /* Ids are random (uuid_generate_random) but clients can name any id in
       a get: mix anyway so crafted ids do not cluster. */
    uint64_t a, b;
    memcpy (&a, id, 8);
    memcpy (&b, id + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

/* Faults in the whole pages of a fresh allocation of bytes at p in one
   call, ahead of a rehash that writes all over it (event_table_ids_reserve,
   event_table_users_reserve): a page fault per page inside the rehash costs the
   stall about half again. Only for big arrays, which are mostly fresh
   mappings; pages already there are left as they are. A kernel without
   MADV_POPULATE_WRITE (before Linux 5.14) refuses it and the pages fault
   in as they are written, as before. */
static void
s_prefault (void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    static uintptr_t page;
    if (bytes < S_PREFAULT_MIN)
        return;
    if (!page) {
        long size = sysconf (_SC_PAGESIZE);
        page = size > 0 ? (uintptr_t)size : 4096;
    }
    uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(page - 1);
    if (end > start)
        (void)madvise ((void *)start, end - start, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)bytes;
#endif
}

static uint64_t *
s_slots_new (size_t n)
{
    uint64_t *slots = malloc (n * sizeof *slots);
    if (slots) {
        s_prefault (slots, n * sizeof *slots);
        memset (slots, 0xff, n * sizeof *slots);
    }
    return slots;
}

/* The part of the id hash, and of the user hash, a hash belongs to: its
   top bits, while a slot's home in its part comes from its low bits. */
static id_part_t *
s_id_part (event_table_t *self, uint64_t hash)
{
    return &self->ids[hash >> (64 - EVENT_TABLE_PART_BITS)];
}

static user_part_t *
s_user_part (event_table_t *self, uint32_t hash)
{
    return &self->users[hash >> (32 - EVENT_TABLE_PART_BITS)];
}

/* ---- The parts ------------------------------------------------------------ */

int
event_table_hashes_init (event_table_t *self)
{
    /* Every part starts in one shared array per hash (two allocations, not
       2048): a part at its first size is in it, a grown one has its own. */
    self->ids_slots = self->users_slots = (size_t)EVENT_TABLE_PARTS * S_PART_SLOTS;
    self->ids_first = s_slots_new (self->ids_slots);
    self->users_first = calloc (self->users_slots, sizeof *self->users_first);
    if (!self->ids_first || !self->users_first)
        return -1;
    for (size_t i = 0; i < EVENT_TABLE_PARTS; i++) {
        self->ids[i] = (id_part_t){ self->ids_first + i * S_PART_SLOTS, S_PART_SLOTS - 1, 0 };
        self->users[i] = (user_part_t){ self->users_first + i * S_PART_SLOTS, S_PART_SLOTS - 1, 0 };
    }
    return 0;
}

void
event_table_hashes_free (event_table_t *self)
{
    for (size_t i = 0; i < EVENT_TABLE_PARTS; i++) {
        user_part_t *part = &self->users[i];
        for (size_t j = 0; part->slots && j <= part->mask; j++)
            index_set_clear (&part->slots[j].events, NULL);
        if (part->mask != S_PART_SLOTS - 1)
            free (part->slots);
        if (self->ids[i].mask != S_PART_SLOTS - 1)
            free (self->ids[i].slots);
    }
    free (self->ids_first);
    free (self->users_first);
}

/* ---- Id hash ------------------------------------------------------------- */

/* The slot holding id, or the empty slot where it would go. The tag (the
   hash's low 32 bits, in the slot's high half) is compared first so a
   probe touches an event block only when the tags match: probing stays
   inside the slot array. */
uint64_t *
event_table_id_slot (event_table_t *self, const uint8_t id[16], uint64_t hash)
{
    uint64_t tag = hash << 32;
    id_part_t *part = s_id_part (self, hash);
    for (size_t i = hash & part->mask;; i = (i + 1) & part->mask) {
        uint64_t slot = part->slots[i];
        if (slot == S_EMPTY)
            return &part->slots[i];
        if ((slot & 0xffffffff00000000ull) == tag
            && memcmp (self->order[S_SLOT_INDEX (slot)]->id, id, 16) == 0)
            return &part->slots[i];
    }
}

void
event_table_id_put (event_table_t *self, uint64_t *slot, uint64_t hash, uint32_t index)
{
    *slot = hash << 32 | index;
    s_id_part (self, hash)->count++;
}

uint32_t
event_table_find (event_table_t *self, const uint8_t id[16])
{
    assert (self);
    uint64_t slot = *event_table_id_slot (self, id, event_table_id_hash (id));
    return slot == S_EMPTY ? EVENT_TABLE_NONE : S_SLOT_INDEX (slot);
}

void
event_table_prefetch (event_table_t *self, const uint8_t (*ids)[16], size_t n)
{
    assert (self && (ids || n == 0) && n <= EVENT_TABLE_PREFETCH_MAX);
    /* The one-id steps below, each over the whole run before the next, so
       each step reads only what the one before started to load. */
    uint64_t hashes[EVENT_TABLE_PREFETCH_MAX];
    uint32_t at[EVENT_TABLE_PREFETCH_MAX];
    for (size_t i = 0; i < n; i++)
        hashes[i] = event_table_ahead_slot (self, ids[i]);
    for (size_t i = 0; i < n; i++)
        at[i] = event_table_ahead_entry (self, hashes[i]);
    for (size_t i = 0; i < n; i++)
        event_table_ahead_block (self, at[i]);
}

uint64_t
event_table_ahead_slot (event_table_t *self, const uint8_t id[16])
{
    assert (self);
    uint64_t hash = event_table_id_hash (id);
    const id_part_t *part = s_id_part (self, hash);
    __builtin_prefetch (&part->slots[hash & part->mask]);
    return hash;
}

uint32_t
event_table_ahead_entry (event_table_t *self, uint64_t hash)
{
    assert (self);
    /* The probe event_table_id_slot makes, by tags alone: it stays in the slot
       array, mostly in the home slot's cache line. */
    uint64_t tag = hash << 32;
    const id_part_t *part = s_id_part (self, hash);
    for (size_t k = hash & part->mask;; k = (k + 1) & part->mask) {
        uint64_t slot = part->slots[k];
        if (slot == S_EMPTY)
            return EVENT_TABLE_NONE;
        if ((slot & 0xffffffff00000000ull) == tag && S_SLOT_INDEX (slot) < self->count) {
            __builtin_prefetch (&self->order[S_SLOT_INDEX (slot)]);
            return S_SLOT_INDEX (slot);
        }
    }
}

void
event_table_ahead_block (event_table_t *self, uint32_t index)
{
    assert (self);
    if (index >= self->count)
        return;
    const char *block = (const char *)self->order[index];
    __builtin_prefetch (block);
    __builtin_prefetch (block + 64);
}

uint32_t
event_table_ahead_user_slot (event_table_t *self, const char *ptr, size_t len)
{
    assert (self);
    uint32_t hash = str_hash (ptr, len);
    const user_part_t *part = s_user_part (self, hash);
    __builtin_prefetch (&part->slots[hash & part->mask]);
    return hash;
}

uint32_t
event_table_ahead_user_entry (event_table_t *self, uint32_t hash)
{
    assert (self);
    /* event_table_user_slot's probe by the owners' hashes alone. A user
       with more than two events keeps them in a block of its set, which
       index_set_last reads here: that miss is not overlapped. */
    const user_part_t *part = s_user_part (self, hash);
    for (size_t i = hash & part->mask;; i = (i + 1) & part->mask) {
        const user_slot_t *slot = &part->slots[i];
        if (slot->events.count == 0)
            return EVENT_TABLE_NONE;
        if (slot->events.owner == hash) {
            uint32_t last = index_set_last (&slot->events);
            if (last >= self->count)
                return EVENT_TABLE_NONE;
            __builtin_prefetch (&self->order[last]);
            return last;
        }
    }
}

/* Grows the id hash's part for hash so one more id fits in it under the
   load factor. A slot's home is its stored hash bits under the new mask
   (a part has at most 2^32 slots): no block is read. */
int
event_table_ids_reserve (event_table_t *self, uint64_t hash)
{
    id_part_t *part = s_id_part (self, hash);
    size_t size = (size_t)part->mask + 1;
    if (((size_t)part->count + 1) * 8 <= size * 5) /* 5/8: see the top of this file */
        return 0;
    size_t mask = size * 2 - 1;
    uint64_t *slots = s_slots_new (size * 2);
    if (!slots)
        return -1;
    for (size_t i = 0; i < size; i++) {
        uint64_t slot = part->slots[i];
        if (slot == S_EMPTY)
            continue;
        size_t at = (size_t)(slot >> 32) & mask;
        while (slots[at] != S_EMPTY)
            at = (at + 1) & mask;
        slots[at] = slot;
    }
    if (size != S_PART_SLOTS) /* not in ids_first */
        free (part->slots);
    part->slots = slots;
    part->mask = (uint32_t)mask;
    self->ids_slots += size;
    return 0;
}

/* ---- User index ------------------------------------------------------------ */

user_slot_t *
event_table_user_slot (event_table_t *self, const char *ptr, size_t len, uint32_t hash)
{
    user_part_t *part = s_user_part (self, hash);
    for (size_t i = hash & part->mask;; i = (i + 1) & part->mask) {
        user_slot_t *slot = &part->slots[i];
        if (slot->events.count == 0)
            return slot; /* the empty slot where this user would go */
        if (slot->events.owner != hash)
            continue;
        const event_t *event = self->order[index_set_last (&slot->events)];
        if (event->user_len == len && memcmp (event->data, ptr, len) == 0)
            return slot;
    }
}

/* Grows the user hash's part for hash so one more user fits in it under
   the load factor. */
int
event_table_users_reserve (event_table_t *self, uint32_t hash)
{
    user_part_t *part = s_user_part (self, hash);
    size_t size = (size_t)part->mask + 1;
    if (((size_t)part->count + 1) * 4 <= size * 3)
        return 0;
    user_slot_t *slots = calloc (size * 2, sizeof *slots);
    if (!slots)
        return -1;
    s_prefault (slots, size * 2 * sizeof *slots);
    size_t mask = size * 2 - 1;
    for (size_t i = 0; i < size; i++) {
        if (part->slots[i].events.count == 0)
            continue;
        size_t j = part->slots[i].events.owner & mask;
        while (slots[j].events.count != 0)
            j = (j + 1) & mask;
        slots[j] = part->slots[i];
    }
    if (size != S_PART_SLOTS) /* not in users_first */
        free (part->slots);
    part->slots = slots;
    part->mask = (uint32_t)mask;
    self->users_slots += size;
    return 0;
}

/* Removes a slot of the part for hash whose set is empty, shifting later
   members of its probe run back. */
void
event_table_user_slot_delete (event_table_t *self, uint32_t hash, user_slot_t *slot)
{
    user_part_t *part = s_user_part (self, hash);
    size_t mask = part->mask;
    size_t hole = (size_t)(slot - part->slots);
    assert (slot->events.count == 0 && hole <= mask);
    for (size_t i = (hole + 1) & mask; part->slots[i].events.count != 0; i = (i + 1) & mask) {
        size_t home = part->slots[i].events.owner & mask;
        /* Move i into the hole unless its home lies cyclically in (hole, i]. */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            part->slots[hole] = part->slots[i];
            hole = i;
        }
    }
    memset (&part->slots[hole], 0, sizeof part->slots[hole]);
    part->count--;
    self->users_count--;
}

/* Adds index to user_id's events (the last of them, whose block the slot's
   probes read, when it is the newest): the user hash has room
   (event_table_users_reserve succeeded). A user not yet known takes
   the empty slot and holds index inline, which cannot fail; a known one's
   set may allocate. Reads no block of index's: until the caller commits,
   its block may not hold user_id yet (or not exist), and nothing may probe
   the user hash meanwhile. Returns 0, or -1 when out of memory, nothing
   then changed. */
int
event_table_user_add (event_table_t *self, proto_str_t user_id, uint32_t hash, uint32_t index)
{
    user_slot_t *slot = event_table_user_slot (self, user_id.ptr, user_id.len, hash);
    bool fresh = slot->events.count == 0;
    if (index_set_add (&slot->events, index, &self->user_set_bytes) != 0)
        return -1;
    if (fresh) {
        slot->events.owner = hash;
        s_user_part (self, hash)->count++;
        self->users_count++;
    }
    return 0;
}
