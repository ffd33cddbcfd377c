/*
 * status_index — see status_index.h.
 *
 * The statuses sit in an open-addressing hash of entry pointers (linear
 * probing, load factor at most 3/4, deletion by backward shift as in the
 * event table's user hash, so there are no tombstones). An entry holds its
 * status string inline and the sorted vector of its chunks. The vector
 * grows by doubling and shrinks by half once it is a quarter full, so a
 * status that drained (every `pending` event processed) gives its memory
 * back.
 */
#include "status_index.h"

#include "str_hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_CHUNK_WORDS 8
#define S_CHUNK_BITS (S_CHUNK_WORDS * 64)
#define S_INITIAL_SLOTS 16
#define S_INITIAL_CHUNKS 4

typedef struct {
    uint32_t base;  /* index / S_CHUNK_BITS */
    uint32_t count; /* bits set, >= 1 */
    uint64_t bits[S_CHUNK_WORDS];
} chunk_t;

struct _status_members_t {
    chunk_t *chunks; /* by base, ascending */
    uint32_t nchunks;
    uint32_t cap;
    size_t members;
    uint32_t hash;
    uint32_t len;
    char name[]; /* the status, len bytes, no NUL */
};
typedef struct _status_members_t entry_t;

struct _status_index_t {
    entry_t **slots; /* NULL: empty */
    size_t mask;
    size_t count; /* entries */
    size_t bytes; /* entries and chunk vectors */
    /* The entries of the last two statuses looked up, newest first (NULL:
       none). An event's status is one of a few, and matching them skips
       the status's hash, SipHash: 326 instructions (callgrind), once per
       create and twice per update, of the store's ~10k per operation. */
    entry_t *recent[2];
};

status_index_t *
status_index_new (void)
{
    status_index_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = calloc (S_INITIAL_SLOTS, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->mask = S_INITIAL_SLOTS - 1;
    return self;
}

static void
s_entry_free (entry_t *entry)
{
    free (entry->chunks);
    free (entry);
}

void
status_index_destroy (status_index_t **self_p)
{
    assert (self_p);
    status_index_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i <= self->mask; i++)
        if (self->slots[i])
            s_entry_free (self->slots[i]);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

/* ---- Status hash ----------------------------------------------------------- */

/* The slot holding status, or the empty slot where it would go. */
static entry_t **
s_slot (status_index_t *self, proto_str_t status, uint32_t hash)
{
    for (size_t i = hash & self->mask;; i = (i + 1) & self->mask) {
        entry_t *entry = self->slots[i];
        if (!entry
            || (entry->hash == hash && entry->len == status.len
                && (status.len == 0 || memcmp (entry->name, status.ptr, status.len) == 0)))
            return &self->slots[i];
    }
}

/* The slot holding entry, which is in the hash. */
static entry_t **
s_slot_of (status_index_t *self, const entry_t *entry)
{
    for (size_t i = entry->hash & self->mask;; i = (i + 1) & self->mask)
        if (self->slots[i] == entry)
            return &self->slots[i];
}

static void
s_remember (status_index_t *self, entry_t *entry)
{
    if (self->recent[0] != entry) {
        self->recent[1] = self->recent[0];
        self->recent[0] = entry;
    }
}

/* The entry of status, or NULL. When hash is not NULL, *hash is status's
   hash if it had to be taken (always when NULL is returned). */
static entry_t *
s_lookup (status_index_t *self, proto_str_t status, uint32_t *hash)
{
    for (int i = 0; i < 2; i++) {
        entry_t *entry = self->recent[i];
        if (entry && entry->len == status.len
            && (status.len == 0 || memcmp (entry->name, status.ptr, status.len) == 0)) {
            s_remember (self, entry);
            return entry;
        }
    }
    uint32_t h = str_hash (status.ptr, status.len);
    if (hash)
        *hash = h;
    entry_t *entry = *s_slot (self, status, h);
    if (entry)
        s_remember (self, entry);
    return entry;
}

/* Grows the hash so one more entry fits under the load factor. */
static int
s_reserve (status_index_t *self)
{
    size_t size = self->mask + 1;
    if ((self->count + 1) * 4 <= size * 3)
        return 0;
    entry_t **slots = calloc (size * 2, sizeof *slots);
    if (!slots)
        return -1;
    size_t mask = size * 2 - 1;
    for (size_t i = 0; i < size; i++) {
        entry_t *entry = self->slots[i];
        if (!entry)
            continue;
        size_t j = entry->hash & mask;
        while (slots[j])
            j = (j + 1) & mask;
        slots[j] = entry;
    }
    free (self->slots);
    self->slots = slots;
    self->mask = mask;
    return 0;
}

/* Frees the entry in slot, shifting later members of its probe run back. */
static void
s_delete (status_index_t *self, entry_t **slot)
{
    size_t mask = self->mask;
    size_t hole = (size_t)(slot - self->slots);
    self->bytes -= sizeof (entry_t) + (*slot)->len + (size_t)(*slot)->cap * sizeof (chunk_t);
    for (int i = 0; i < 2; i++)
        if (self->recent[i] == *slot)
            self->recent[i] = NULL;
    s_entry_free (*slot);
    for (size_t i = (hole + 1) & mask; self->slots[i]; i = (i + 1) & mask) {
        size_t home = self->slots[i]->hash & mask;
        /* Move i into the hole unless its home lies cyclically in (hole, i]. */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            self->slots[hole] = self->slots[i];
            hole = i;
        }
    }
    self->slots[hole] = NULL;
    self->count--;
}

/* ---- Chunks ---------------------------------------------------------------- */

/* Position of the first chunk whose base is >= base (nchunks if none). */
static uint32_t
s_lower_bound (const entry_t *entry, uint32_t base)
{
    uint32_t lo = 0, hi = entry->nchunks;
    /* Most changes land at the end (new events, the newest processed):
       check there before searching. */
    if (hi > 0 && entry->chunks[hi - 1].base < base)
        return hi;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (entry->chunks[mid].base < base)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Resizes entry's vector to cap chunks (>= nchunks). */
static int
s_resize (status_index_t *self, entry_t *entry, uint32_t cap)
{
    chunk_t *chunks = realloc (entry->chunks, (size_t)cap * sizeof *chunks);
    if (!chunks)
        return -1;
    self->bytes += (size_t)cap * sizeof *chunks;
    self->bytes -= (size_t)entry->cap * sizeof *chunks;
    entry->chunks = chunks;
    entry->cap = cap;
    return 0;
}

int
status_index_add (status_index_t *self, proto_str_t status, uint32_t index)
{
    assert (self);
    assert (index != STATUS_INDEX_NONE);
    uint32_t hash = 0;
    entry_t **slot = NULL;
    entry_t *entry = s_lookup (self, status, &hash);
    bool fresh = !entry;
    if (fresh) {
        /* Growing the hash first is harmless if what follows fails: it
           only rehashes. */
        if (s_reserve (self) != 0)
            return -1;
        slot = s_slot (self, status, hash);
        entry = calloc (1, sizeof *entry + status.len);
        if (!entry)
            return -1;
        entry->hash = hash;
        entry->len = (uint32_t)status.len;
        if (status.len)
            memcpy (entry->name, status.ptr, status.len);
        self->bytes += sizeof *entry + status.len;
    }
    uint32_t base = index / S_CHUNK_BITS;
    uint32_t at = s_lower_bound (entry, base);
    if (at == entry->nchunks || entry->chunks[at].base != base) {
        if (entry->nchunks == entry->cap
            && s_resize (self, entry, entry->cap ? entry->cap * 2 : S_INITIAL_CHUNKS) != 0) {
            if (fresh) {
                self->bytes -= sizeof *entry + status.len;
                s_entry_free (entry);
            }
            return -1;
        }
        memmove (&entry->chunks[at + 1], &entry->chunks[at],
                 (size_t)(entry->nchunks - at) * sizeof (chunk_t));
        memset (&entry->chunks[at], 0, sizeof (chunk_t));
        entry->chunks[at].base = base;
        entry->nchunks++;
    }
    chunk_t *chunk = &entry->chunks[at];
    uint64_t bit = 1ull << (index % 64);
    uint64_t *word = &chunk->bits[(index % S_CHUNK_BITS) / 64];
    assert (!(*word & bit));
    *word |= bit;
    chunk->count++;
    entry->members++;
    if (fresh) {
        *slot = entry;
        self->count++;
        s_remember (self, entry);
    }
    return 0;
}

void
status_index_remove (status_index_t *self, proto_str_t status, uint32_t index)
{
    assert (self);
    entry_t *entry = s_lookup (self, status, NULL);
    assert (entry);
    uint32_t base = index / S_CHUNK_BITS;
    uint32_t at = s_lower_bound (entry, base);
    assert (at < entry->nchunks && entry->chunks[at].base == base);
    chunk_t *chunk = &entry->chunks[at];
    uint64_t bit = 1ull << (index % 64);
    uint64_t *word = &chunk->bits[(index % S_CHUNK_BITS) / 64];
    assert (*word & bit);
    *word &= ~bit;
    entry->members--;
    if (--chunk->count > 0)
        return;
    if (entry->members == 0) {
        s_delete (self, s_slot_of (self, entry));
        return;
    }
    memmove (&entry->chunks[at], &entry->chunks[at + 1],
             (size_t)(entry->nchunks - at - 1) * sizeof (chunk_t));
    entry->nchunks--;
    /* A failed shrink keeps the larger vector, which is still valid. */
    if (entry->cap > S_INITIAL_CHUNKS && entry->nchunks <= entry->cap / 4)
        (void)s_resize (self, entry, entry->cap / 2);
}

size_t
status_index_collect (status_index_t *self, proto_str_t status, uint32_t from, uint32_t *out,
                      size_t max, bool *more)
{
    assert (self);
    *more = false;
    size_t n = 0;
    const entry_t *entry = s_lookup (self, status, NULL);
    if (!entry || from == STATUS_INDEX_NONE)
        return 0;
    for (uint32_t at = s_lower_bound (entry, from / S_CHUNK_BITS); at < entry->nchunks; at++) {
        const chunk_t *chunk = &entry->chunks[at];
        uint32_t first = chunk->base * S_CHUNK_BITS;
        for (uint32_t w = 0; w < S_CHUNK_WORDS; w++) {
            uint64_t bits = chunk->bits[w];
            uint32_t word_first = first + w * 64;
            if (word_first + 63 < from)
                continue;
            if (word_first < from)
                bits &= ~0ull << (from - word_first);
            while (bits) {
                if (n == max) {
                    *more = true;
                    return n;
                }
                out[n++] = word_first + (uint32_t)__builtin_ctzll (bits);
                bits &= bits - 1;
            }
        }
    }
    return n;
}

const status_members_t *
status_index_members (status_index_t *self, proto_str_t status)
{
    assert (self);
    return s_lookup (self, status, NULL);
}

bool
status_members_range (const status_members_t *members, uint32_t from, uint32_t *first,
                      uint64_t bits[STATUS_INDEX_RANGE / 64])
{
    assert (members && first && bits);
    _Static_assert(STATUS_INDEX_RANGE == S_CHUNK_BITS, "a range is a chunk");
    if (from == STATUS_INDEX_NONE)
        return false;
    for (uint32_t at = s_lower_bound (members, from / S_CHUNK_BITS); at < members->nchunks; at++) {
        const chunk_t *chunk = &members->chunks[at];
        *first = chunk->base * S_CHUNK_BITS;
        uint64_t any = 0;
        for (uint32_t w = 0; w < S_CHUNK_WORDS; w++) {
            uint32_t word_first = *first + w * 64;
            uint64_t word = chunk->bits[w];
            if (word_first + 63 < from)
                word = 0;
            else if (word_first < from)
                word &= ~0ull << (from - word_first);
            bits[w] = word;
            any |= word;
        }
        if (any)
            return true; /* else every member here is < from: the next chunk */
    }
    return false;
}

size_t
status_index_count (status_index_t *self, proto_str_t status)
{
    assert (self);
    const entry_t *entry = s_lookup (self, status, NULL);
    return entry ? entry->members : 0;
}

size_t
status_index_statuses (status_index_t *self)
{
    assert (self);
    return self->count;
}

size_t
status_index_bytes (status_index_t *self)
{
    assert (self);
    return sizeof *self + (self->mask + 1) * sizeof *self->slots + self->bytes;
}
