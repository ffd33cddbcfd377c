/*
 * event_table_list — event_table_list (event_table.h): a page in creation
 * order after a cursor, by user (the user's chain), by status alone (the
 * status index) or unfiltered (the order array).
 */
#include "event_table_internal.h"

#include "str_hash.h"

#include <assert.h>
#include <string.h>

static bool
s_status_is (const event_t *event, proto_str_t status)
{
    return !status.ptr
           || (event->status_len == status.len
               && memcmp (event->data + event->user_len + event->description_len, status.ptr,
                          status.len)
                      == 0);
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
    uint32_t next; /* the first candidate */
    bool by_user = query->user_id.ptr != NULL;
    if (by_user) {
        user_slot_t *slot =
            event_table_user_slot (self, query->user_id.ptr, query->user_id.len,
                                   str_hash (query->user_id.ptr, query->user_id.len));
        next = slot->first;
        if (after != EVENT_TABLE_NONE && next != EVENT_TABLE_NONE) {
            const event_t *cursor = self->order[after];
            if (cursor->user_len == query->user_id.len
                && memcmp (cursor->data, query->user_id.ptr, cursor->user_len) == 0)
                next = cursor->user_next; /* the usual case: O(1) resume */
            else
                while (next != EVENT_TABLE_NONE && next <= after)
                    next = self->order[next]->user_next;
        }
    } else if (query->status.ptr) {
        /* A status alone: its index lists without reading other events. */
        uint32_t from = after == EVENT_TABLE_NONE ? 0 : after + 1;
        *n = status_index_collect (self->statuses, query->status, from, out, query->limit, more);
        return 0;
    } else {
        next = after == EVENT_TABLE_NONE ? 0 : after + 1;
        if (next >= self->count)
            next = EVENT_TABLE_NONE;
    }
    while (next != EVENT_TABLE_NONE) {
        const event_t *event = self->order[next];
        if (s_status_is (event, query->status)) {
            if (*n == query->limit) {
                *more = true;
                break;
            }
            out[(*n)++] = next;
        }
        if (by_user)
            next = event->user_next;
        else
            next = next + 1 < self->count ? next + 1 : EVENT_TABLE_NONE;
    }
    return 0;
}
