/*
 * index_set — a set of event indices kept in ascending order: the event
 * table's per-user_id index (event_table.h), so that an update moving an
 * event to another user, and a list by user resuming at a cursor, cost the
 * same at a million events of that user as at ten.
 *
 * Users come in every size: most hold a few events, scattered over the
 * whole creation order, and a few hold very many. So a set is small when
 * it is small and bounded in cost when it is big:
 *   - up to two members sit inline in the set itself (no allocation),
 *     and a set of two or fewer members always does;
 *   - more sit in blocks of at most INDEX_SET_BLOCK sorted indices, the
 *     blocks in order, found by a binary search on their first members.
 *     A block grows by doubling; a full one splits in two, unless the new
 *     index goes after every member (the usual case: creation order), when
 *     a new block starts;
 *   - add and remove: a binary search of the blocks, then a move of at
 *     most INDEX_SET_BLOCK indices inside one block. A block appears or
 *     disappears at most once per INDEX_SET_BLOCK / 2 changes, moving the
 *     array of block pointers (8 bytes per block: 64 KB at a million
 *     members, a few microseconds);
 *   - listing from a cursor: one binary search, then members in order;
 *   - memory: 4 bytes per member in full blocks (creation order fills
 *     them), at most about 32 bytes per member in the worst case (blocks
 *     emptied by moves shrink when a quarter full), plus 8 per block
 *     pointer and 8 for the pointers' array.
 * A zeroed index_set_t is an empty set. The set never reads events: what
 * it holds are numbers. It is 16 bytes, 4 of which are its owner's, so
 * the event table's user slot (the set and the user's hash) is 16.
 */
#ifndef HERALD_INDEX_SET_H
#define HERALD_INDEX_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INDEX_SET_NONE UINT32_MAX /* "no index" */
#define INDEX_SET_BLOCK 128       /* most indices in one block */

typedef struct _index_set_block_t index_set_block_t;

typedef struct _index_set_many_t index_set_many_t;

/* 16 bytes, 4 of them the owner's. Up to two members sit in inline_; more
   in one block (`one`) or, with two blocks or more, in `many`, an array
   that starts with its count of blocks (the pointer's lowest bit set tells
   which). */
typedef struct {
    uint32_t count; /* members */
    uint32_t owner; /* never read or written by the set: its owner's (the
                       event table keeps the user's hash here) */
    union {
        uint32_t inline_[2];
        index_set_block_t *one;
        uintptr_t many; /* (index_set_many_t *) | 1 */
    } u;
} index_set_t;

/* Adds index (< INDEX_SET_NONE), which must not be a member. Adds the bytes
   it allocated to *bytes. Returns 0, or -1 when out of memory, the set then
   unchanged. Never allocates while the set holds fewer than two members. */
int index_set_add (index_set_t *self, uint32_t index, size_t *bytes);

/* Removes index, which must be a member. Subtracts the bytes it freed from
 *bytes. Never fails (shrinking a block that cannot be shrunk keeps it). */
void index_set_remove (index_set_t *self, uint32_t index, size_t *bytes);

/* The smallest member, or INDEX_SET_NONE when the set is empty. */
uint32_t index_set_first (const index_set_t *self);

/* The largest member, or INDEX_SET_NONE when the set is empty: in the set
   itself, in its only block, or in the last block (one more load), which
   is the one an append writes. */
uint32_t index_set_last (const index_set_t *self);

/* Writes to out, in ascending order, up to max members >= from, and
   returns how many it wrote; *more is true when at least one more member
   follows the last one written. */
size_t index_set_collect (const index_set_t *self, uint32_t from, uint32_t *out, size_t max,
                          bool *more);

/* A position in a set, for walking its members in order beside another
   index (event_table_list: a user's events beside a status's). Valid
   while the set does not change. */
typedef struct {
    const index_set_t *set;
    uint32_t block; /* 0 for the inline pair */
    uint32_t pos;   /* within the block (or the pair) */
} index_set_iter_t;

/* Positions it at the first member >= from. O(log members). */
void index_set_seek (const index_set_t *self, uint32_t from, index_set_iter_t *it);

/* The member at it, stepping past it; INDEX_SET_NONE once past the last. */
uint32_t index_set_next (index_set_iter_t *it);

/* Frees what the set allocated (subtracting it from *bytes unless NULL) and
   leaves it empty (owner as it was). */
void index_set_clear (index_set_t *self, size_t *bytes);

#endif
