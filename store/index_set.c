/*
 * index_set — see index_set.h.
 *
 * With two or more blocks they sit in `many`, whose capacity is not
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

/* The set's blocks as one array (one block: the set's own slot). */
static index_set_block_t **
s_blocks (index_set_t *self)
{
    return self->blocks == 1 ? &self->u.one : self->u.many;
}

static index_set_block_t *const *
s_blocks_const (const index_set_t *self)
{
    return self->blocks == 1 ? &self->u.one : self->u.many;
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
    uint32_t n = self->blocks;
    index_set_block_t **many;
    if (n == 1) {
        many = malloc (2 * sizeof *many);
        if (!many)
            return -1;
        *bytes += 2 * sizeof *many;
        many[0] = self->u.one;
    } else if (n == s_array_cap (n)) {
        many = realloc (self->u.many, 2 * (size_t)n * sizeof *many);
        if (!many)
            return -1;
        *bytes += (size_t)n * sizeof *many;
    } else
        many = self->u.many;
    memmove (&many[at + 1], &many[at], (n - at) * sizeof *many);
    many[at] = block;
    self->u.many = many;
    self->blocks = n + 1;
    return 0;
}

/* Takes the block at position at out of the set's blocks (two or more). */
static void
s_array_remove (index_set_t *self, uint32_t at, size_t *bytes)
{
    uint32_t n = self->blocks;
    index_set_block_t **many = self->u.many;
    size_t cap = s_array_cap (n);
    assert (n >= 2 && at < n);
    memmove (&many[at], &many[at + 1], (n - at - 1) * sizeof *many);
    self->blocks = --n;
    if (n == 1) {
        self->u.one = many[0];
        free (many);
        *bytes -= cap * sizeof *many;
        return;
    }
    size_t smaller = s_array_cap (n);
    if (smaller < cap) {
        /* Counted as shrunk either way: a shrinking realloc that fails
           leaves the bigger array, which is only more room. */
        index_set_block_t **shrunk = realloc (many, smaller * sizeof *many);
        if (shrunk)
            self->u.many = shrunk;
        *bytes -= (cap - smaller) * sizeof *many;
    }
}

int
index_set_add (index_set_t *self, uint32_t index, size_t *bytes)
{
    assert (self && bytes);
    assert (index != INDEX_SET_NONE);
    if (self->blocks == 0) {
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
        self->blocks = 1;
        self->count++;
        return 0;
    }
    index_set_block_t **blocks = s_blocks (self);
    uint32_t at = s_find_block (blocks, self->blocks, index);
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
    bool append = at == self->blocks - 1 && index > block->v[block->n - 1];
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

void
index_set_remove (index_set_t *self, uint32_t index, size_t *bytes)
{
    assert (self && bytes);
    assert (self->count > 0);
    if (self->blocks == 0) {
        uint32_t *v = self->u.inline_;
        if (v[0] == index)
            v[0] = v[1];
        else
            assert (self->count == 2 && v[1] == index);
        self->count--;
        return;
    }
    index_set_block_t **blocks = s_blocks (self);
    uint32_t at = s_find_block (blocks, self->blocks, index);
    index_set_block_t *block = blocks[at];
    uint32_t pos = s_lower_bound (block, index);
    assert (pos < block->n && block->v[pos] == index);
    memmove (&block->v[pos], &block->v[pos + 1], (block->n - pos - 1) * sizeof block->v[0]);
    block->n--;
    self->count--;
    if (block->n == 0) {
        /* Only with two or more blocks: one block goes back inline first. */
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
    if (self->blocks == 1 && self->count <= 2) {
        block = self->u.one;
        uint32_t v[2] = { block->v[0], block->n > 1 ? block->v[1] : 0 };
        s_block_free (block, bytes);
        self->blocks = 0;
        memcpy (self->u.inline_, v, sizeof v);
    }
}

uint32_t
index_set_first (const index_set_t *self)
{
    assert (self);
    if (self->count == 0)
        return INDEX_SET_NONE;
    return self->blocks == 0 ? self->u.inline_[0] : s_blocks_const (self)[0]->v[0];
}

size_t
index_set_collect (const index_set_t *self, uint32_t from, uint32_t *out, size_t max, bool *more)
{
    assert (self && more);
    *more = false;
    size_t n = 0;
    /* The members as runs: the inline pair, or each block from the one
       that holds `from`. */
    index_set_block_t *const *blocks = self->blocks ? s_blocks_const (self) : NULL;
    uint32_t first = blocks ? s_find_block (blocks, self->blocks, from) : 0;
    for (uint32_t b = first; blocks ? b < self->blocks : b == 0; b++) {
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
    if (self->blocks == 0) {
        it->block = 0;
        it->pos = 0;
        while (it->pos < self->count && self->u.inline_[it->pos] < from)
            it->pos++;
        return;
    }
    index_set_block_t *const *blocks = s_blocks_const (self);
    it->block = s_find_block (blocks, self->blocks, from);
    it->pos = s_lower_bound (blocks[it->block], from);
}

uint32_t
index_set_next (index_set_iter_t *it)
{
    assert (it);
    const index_set_t *set = it->set;
    if (set->blocks == 0)
        return it->pos < set->count ? set->u.inline_[it->pos++] : INDEX_SET_NONE;
    index_set_block_t *const *blocks = s_blocks_const (set);
    while (it->block < set->blocks) {
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
    size_t freed = 0;
    if (self->blocks > 0) {
        index_set_block_t **blocks = s_blocks (self);
        for (uint32_t b = 0; b < self->blocks; b++) {
            freed += s_block_bytes (blocks[b]->cap);
            free (blocks[b]);
        }
        if (self->blocks > 1) {
            freed += s_array_cap (self->blocks) * sizeof *blocks;
            free (self->u.many);
        }
    }
    if (bytes)
        *bytes -= freed;
    memset (self, 0, sizeof *self);
}
