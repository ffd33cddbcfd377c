/*
 * index_set — see index_set.h.
 *
 * A set of two members or fewer always holds them inline (a removal that
 * leaves two frees the blocks), so the count alone tells the inline form
 * from the others, and a set with blocks tells one block from several by
 * the lowest bit of the pointer (blocks come from malloc: that bit is 0).
 * With two or more blocks they sit in `many`, which starts with their
 * count; its capacity is not
 * stored: it is always the least power of two >= blocks (s_array_cap),
 * doubled when an insert finds it full and halved when a removal leaves
 * the blocks fitting in half, so the bytes counted are what is allocated
 * (a halving realloc that fails keeps the bigger array, counted as
 * halved: only room the count does not see).
 */
#include "index_set.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _index_set_block_t {
    uint32_t n;   /* members, >= 1 while the block is in a set */
    uint32_t cap; /* room, a power of two <= INDEX_SET_BLOCK */
    uint32_t v[]; /* ascending */
};

struct _index_set_many_t {
    uint32_t blocks; /* >= 2 */
    uint32_t unused_;
    index_set_block_t *v[]; /* s_array_cap (blocks) of them */
};

#define S_BLOCK_FIRST 4   /* the capacity of a set's first block */
#define S_BLOCK_APPEND 16 /* of a block an append starts */

static size_t
s_block_bytes (uint32_t cap)
{
    return sizeof (index_set_block_t) + (size_t)cap * sizeof (uint32_t);
}

static size_t
s_array_cap (uint32_t blocks)
{
    size_t cap = 2;
    while (cap < blocks)
        cap *= 2;
    return cap;
}

static size_t
s_many_bytes (size_t cap)
{
    return sizeof (index_set_many_t) + cap * sizeof (index_set_block_t *);
}

static index_set_many_t *
s_many (const index_set_t *self)
{
    assert (self->count > 2 && (self->u.many & 1));
    return (index_set_many_t *)(self->u.many & ~(uintptr_t)1);
}

/* 0: the members are inline; 1: in u.one; more: in s_many. */
static uint32_t
s_nblocks (const index_set_t *self)
{
    if (self->count <= 2)
        return 0;
    return (self->u.many & 1) ? s_many (self)->blocks : 1;
}

/* The set's blocks as one array (one block: the set's own slot). */
static index_set_block_t **
s_blocks (index_set_t *self)
{
    return (self->u.many & 1) ? s_many (self)->v : &self->u.one;
}

static index_set_block_t *const *
s_blocks_const (const index_set_t *self)
{
    return (self->u.many & 1) ? s_many (self)->v : &self->u.one;
}

/* The block that holds index or would: the last whose first member is
   <= index, else the first. */
static uint32_t
s_find_block (index_set_block_t *const *blocks, uint32_t n, uint32_t index)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (blocks[mid]->v[0] <= index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

/* Position of the first member >= index in block. */
static uint32_t
s_lower_bound (const index_set_block_t *block, uint32_t index)
{
    uint32_t lo = 0, hi = block->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (block->v[mid] < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Puts index into block, which has room, in order. */
static void
s_block_insert (index_set_block_t *block, uint32_t index)
{
    uint32_t at = s_lower_bound (block, index);
    assert (block->n < block->cap);
    assert (at == block->n || block->v[at] != index);
    memmove (&block->v[at + 1], &block->v[at], (block->n - at) * sizeof block->v[0]);
    block->v[at] = index;
    block->n++;
}

static index_set_block_t *
s_block_new (uint32_t cap, size_t *bytes)
{
    index_set_block_t *block = malloc (s_block_bytes (cap));
    if (!block)
        return NULL;
    block->n = 0;
    block->cap = cap;
    *bytes += s_block_bytes (cap);
    return block;
}

static void
s_block_free (index_set_block_t *block, size_t *bytes)
{
    *bytes -= s_block_bytes (block->cap);
    free (block);
}

/* Inserts block at position at of the set's blocks (the set has at least
   one). Returns 0, or -1 when out of memory, the set then unchanged. */
static int
s_array_insert (index_set_t *self, uint32_t at, index_set_block_t *block, size_t *bytes)
{
    uint32_t n = s_nblocks (self);
    index_set_many_t *many;
    if (n == 1) {
        many = malloc (s_many_bytes (2));
        if (!many)
            return -1;
        *bytes += s_many_bytes (2);
        many->v[0] = self->u.one;
    } else {
        many = s_many (self);
        if (n == s_array_cap (n)) {
            index_set_many_t *grown = realloc (many, s_many_bytes (2 * (size_t)n));
            if (!grown)
                return -1;
            many = grown;
            *bytes += s_many_bytes (2 * (size_t)n) - s_many_bytes (n);
        }
    }
    memmove (&many->v[at + 1], &many->v[at], (n - at) * sizeof many->v[0]);
    many->v[at] = block;
    many->blocks = n + 1;
    self->u.many = (uintptr_t)many | 1;
    return 0;
}

/* Takes the block at position at out of the set's blocks (two or more). */
static void
s_array_remove (index_set_t *self, uint32_t at, size_t *bytes)
{
    index_set_many_t *many = s_many (self);
    uint32_t n = many->blocks;
    size_t cap = s_array_cap (n);
    assert (n >= 2 && at < n);
    memmove (&many->v[at], &many->v[at + 1], (n - at - 1) * sizeof many->v[0]);
    many->blocks = --n;
    if (n == 1) {
        self->u.one = many->v[0];
        free (many);
        *bytes -= s_many_bytes (cap);
        return;
    }
    size_t smaller = s_array_cap (n);
    if (smaller < cap) {
        /* Counted as shrunk either way: a shrinking realloc that fails
           leaves the bigger array, which is only more room. */
        index_set_many_t *shrunk = realloc (many, s_many_bytes (smaller));
        if (shrunk)
            self->u.many = (uintptr_t)shrunk | 1;
        *bytes -= s_many_bytes (cap) - s_many_bytes (smaller);
    }
}

int
index_set_add (index_set_t *self, uint32_t index, size_t *bytes)
{
    assert (self && bytes);
    assert (index != INDEX_SET_NONE);
    if (self->count <= 2) {
        uint32_t *v = self->u.inline_;
        if (self->count < 2) {
            if (self->count == 0 || index > v[0])
                v[self->count] = index;
            else {
                assert (index != v[0]);
                v[1] = v[0];
                v[0] = index;
            }
            self->count++;
            return 0;
        }
        index_set_block_t *block = s_block_new (S_BLOCK_FIRST, bytes);
        if (!block)
            return -1;
        memcpy (block->v, v, 2 * sizeof v[0]);
        block->n = 2;
        s_block_insert (block, index);
        self->u.one = block;
        self->count++;
        return 0;
    }
    uint32_t n = s_nblocks (self);
    index_set_block_t **blocks = s_blocks (self);
    uint32_t at = s_find_block (blocks, n, index);
    index_set_block_t *block = blocks[at];
    if (block->n == block->cap && block->cap < INDEX_SET_BLOCK) {
        index_set_block_t *grown = realloc (block, s_block_bytes (block->cap * 2));
        if (!grown)
            return -1;
        *bytes += s_block_bytes (grown->cap * 2) - s_block_bytes (grown->cap);
        grown->cap *= 2;
        blocks[at] = block = grown;
    }
    if (block->n < block->cap) {
        s_block_insert (block, index);
        self->count++;
        return 0;
    }
    /* A full block. After every member (creation order): a new block.
       Else it splits, and the index goes into the half it belongs to. */
    bool append = at == n - 1 && index > block->v[block->n - 1];
    index_set_block_t *next = s_block_new (append ? S_BLOCK_APPEND : INDEX_SET_BLOCK, bytes);
    if (!next)
        return -1;
    if (s_array_insert (self, at + 1, next, bytes) != 0) {
        s_block_free (next, bytes);
        return -1;
    }
    if (append)
        next->v[next->n++] = index;
    else {
        uint32_t half = block->n / 2;
        next->n = block->n - half;
        memcpy (next->v, &block->v[half], next->n * sizeof next->v[0]);
        block->n = half;
        s_block_insert (index < next->v[0] ? block : next, index);
    }
    self->count++;
    return 0;
}

/* Frees the blocks (and their array) of a set that has any, subtracting
   what they took from *bytes unless NULL; the set's fields are left to the
   caller. */
static void
s_free_blocks (index_set_t *self, size_t *bytes)
{
    uint32_t n = s_nblocks (self);
    if (n == 0)
        return;
    size_t freed = 0;
    index_set_block_t **blocks = s_blocks (self);
    for (uint32_t b = 0; b < n; b++) {
        freed += s_block_bytes (blocks[b]->cap);
        free (blocks[b]);
    }
    if (n > 1) {
        freed += s_many_bytes (s_array_cap (n));
        free (s_many (self));
    }
    if (bytes)
        *bytes -= freed;
}

void
index_set_remove (index_set_t *self, uint32_t index, size_t *bytes)
{
    assert (self && bytes);
    assert (self->count > 0);
    if (self->count <= 2) {
        uint32_t *v = self->u.inline_;
        if (v[0] == index)
            v[0] = v[1];
        else
            assert (self->count == 2 && v[1] == index);
        self->count--;
        return;
    }
    if (self->count == 3) {
        /* Two left: back inline, the blocks freed. */
        uint32_t v[3], keep[2], k = 0;
        bool more;
        size_t n = index_set_collect (self, 0, v, 3, &more);
        assert (n == 3 && !more);
        for (size_t i = 0; i < n && k < 2; i++)
            if (v[i] != index)
                keep[k++] = v[i];
        assert (k == 2 && (v[0] == index || v[1] == index || v[2] == index));
        s_free_blocks (self, bytes);
        memcpy (self->u.inline_, keep, sizeof keep);
        self->count = 2;
        return;
    }
    /* Four or more: at least three stay, in blocks. */
    uint32_t n = s_nblocks (self);
    index_set_block_t **blocks = s_blocks (self);
    uint32_t at = s_find_block (blocks, n, index);
    index_set_block_t *block = blocks[at];
    uint32_t pos = s_lower_bound (block, index);
    assert (pos < block->n && block->v[pos] == index);
    memmove (&block->v[pos], &block->v[pos + 1], (block->n - pos - 1) * sizeof block->v[0]);
    block->n--;
    self->count--;
    if (block->n == 0) {
        /* Only with two or more blocks: an only block holds the three or
           more members left. */
        s_block_free (block, bytes);
        s_array_remove (self, at, bytes);
    } else if (block->n * 4 < block->cap && block->cap > S_BLOCK_FIRST) {
        index_set_block_t *shrunk = realloc (block, s_block_bytes (block->cap / 2));
        if (shrunk) {
            *bytes -= s_block_bytes (shrunk->cap) - s_block_bytes (shrunk->cap / 2);
            shrunk->cap /= 2;
            blocks[at] = shrunk;
        }
    }
}

uint32_t
index_set_first (const index_set_t *self)
{
    assert (self);
    if (self->count == 0)
        return INDEX_SET_NONE;
    return self->count <= 2 ? self->u.inline_[0] : s_blocks_const (self)[0]->v[0];
}

uint32_t
index_set_last (const index_set_t *self)
{
    assert (self);
    if (self->count <= 2)
        return self->count ? self->u.inline_[self->count - 1] : INDEX_SET_NONE;
    const index_set_block_t *last = s_blocks_const (self)[s_nblocks (self) - 1];
    return last->v[last->n - 1];
}

size_t
index_set_collect (const index_set_t *self, uint32_t from, uint32_t *out, size_t max, bool *more)
{
    assert (self && more);
    *more = false;
    size_t n = 0;
    /* The members as runs: the inline pair, or each block from the one
       that holds `from`. */
    uint32_t nblocks = s_nblocks (self);
    index_set_block_t *const *blocks = nblocks ? s_blocks_const (self) : NULL;
    uint32_t first = blocks ? s_find_block (blocks, nblocks, from) : 0;
    for (uint32_t b = first; blocks ? b < nblocks : b == 0; b++) {
        const uint32_t *v = blocks ? blocks[b]->v : self->u.inline_;
        uint32_t len = blocks ? blocks[b]->n : self->count;
        for (uint32_t i = blocks && b == first ? s_lower_bound (blocks[b], from) : 0; i < len;
             i++) {
            if (v[i] < from)
                continue; /* the inline pair only */
            if (n == max) {
                *more = true;
                return n;
            }
            out[n++] = v[i];
        }
    }
    return n;
}

void
index_set_seek (const index_set_t *self, uint32_t from, index_set_iter_t *it)
{
    assert (self && it);
    it->set = self;
    uint32_t nblocks = s_nblocks (self);
    if (nblocks == 0) {
        it->block = 0;
        it->pos = 0;
        while (it->pos < self->count && self->u.inline_[it->pos] < from)
            it->pos++;
        return;
    }
    index_set_block_t *const *blocks = s_blocks_const (self);
    it->block = s_find_block (blocks, nblocks, from);
    it->pos = s_lower_bound (blocks[it->block], from);
}

uint32_t
index_set_next (index_set_iter_t *it)
{
    assert (it);
    const index_set_t *set = it->set;
    uint32_t nblocks = s_nblocks (set);
    if (nblocks == 0)
        return it->pos < set->count ? set->u.inline_[it->pos++] : INDEX_SET_NONE;
    index_set_block_t *const *blocks = s_blocks_const (set);
    while (it->block < nblocks) {
        if (it->pos < blocks[it->block]->n)
            return blocks[it->block]->v[it->pos++];
        it->block++;
        it->pos = 0;
    }
    return INDEX_SET_NONE;
}

void
index_set_clear (index_set_t *self, size_t *bytes)
{
    assert (self);
    s_free_blocks (self, bytes);
    self->count = 0;
    self->u.many = 0;
}
