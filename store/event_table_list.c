/*
 * event_table_list — event_table_list (event_table.h): a page in creation
 * order after a cursor, by user (the user's index set), by status alone
 * (the status index), by both (the two walked side by side) or
 * unfiltered (the order array).
 */
#include "event_table_internal.h"

#include "str_hash.h"

#include <assert.h>

/* A page of the user's events that have a status: the user's members and
   the status's, both ascending, walked together a range of the status at a
   time. The status's next range with a member >= the user's current one is
   found by a binary search, the user's first member in that range by
   another, and the user's members inside it are tested against the range's
   bitmap; no event block is read. So a status with few members (pending)
   costs a few searches however many events the user has, and a dense one
   fills the page from the members it tests; the most a page can cost is one
   test per user member and one search per range of the status, where a
   scan of the user's events read each event's block. */
static void
s_list_user_status (const index_set_t *user, const status_members_t *status, uint32_t from,
                    uint32_t limit, uint32_t *out, size_t *n, bool *more)
{
    index_set_iter_t it;
    index_set_seek (user, from, &it);
    uint32_t member = index_set_next (&it);
    uint64_t bits[STATUS_INDEX_RANGE / 64];
    uint32_t first;
    while (member != INDEX_SET_NONE && status_members_range (status, member, &first, bits)) {
        if (member < first) { /* the user has nothing in the status before first */
            index_set_seek (user, first, &it);
            member = index_set_next (&it);
            continue;
        }
        for (; member != INDEX_SET_NONE && member - first < STATUS_INDEX_RANGE;
             member = index_set_next (&it)) {
            uint32_t bit = member - first;
            if (!(bits[bit / 64] >> (bit % 64) & 1))
                continue;
            if (*n == limit) {
                *more = true;
                return;
            }
            out[(*n)++] = member;
        }
    }
}

int
event_table_list (event_table_t *self, const event_query_t *query, uint32_t *out, size_t *n,
                  bool *more)
{
    assert (self);
    assert (query->limit >= 1);
    *n = 0;
    *more = false;
    uint32_t after = EVENT_TABLE_NONE;
    if (query->has_after) {
        after = event_table_find (self, query->after);
        if (after == EVENT_TABLE_NONE)
            return -1;
    }
    uint32_t from = after == EVENT_TABLE_NONE ? 0 : after + 1;
    if (query->user_id.ptr) {
        /* A user's events are an index set: the cursor resumes by a binary
           search. */
        user_slot_t *slot =
            event_table_user_slot (self, query->user_id.ptr, query->user_id.len,
                                   str_hash (query->user_id.ptr, query->user_id.len));
        if (!query->status.ptr)
            *n = index_set_collect (&slot->events, from, out, query->limit, more);
        else {
            const status_members_t *status = status_index_members (self->statuses, query->status);
            if (status)
                s_list_user_status (&slot->events, status, from, query->limit, out, n, more);
        }
        return 0;
    }
    if (query->status.ptr) {
        /* A status alone: its index lists without reading other events. */
        *n = status_index_collect (self->statuses, query->status, from, out, query->limit, more);
        return 0;
    }
    for (uint32_t next = from; next < self->count; next++) {
        if (*n == query->limit) {
            *more = true;
            break;
        }
        out[(*n)++] = next;
    }
    return 0;
}
