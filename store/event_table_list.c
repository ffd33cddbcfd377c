/*
 * event_table_list — event_table_list (event_table.h): a page in creation
 * order after a cursor, by user or by user and status (their index sets,
 * event_table_sets.c), by status alone (the status index) or unfiltered
 * (the order array).
 */
#include "event_table_internal.h"

#include <assert.h>
#include <string.h>

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
        /* A user's events, or a user's with one status, are an index set:
           the cursor resumes by a binary search, and only matching events
           are read. */
        set_key_t key = event_table_key (query->user_id, query->status);
        set_slot_t *slot =
            event_table_set_slot (self, query->status.ptr ? &self->pairs : &self->users, &key);
        *n = index_set_collect (&slot->events, from, out, query->limit, more);
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
