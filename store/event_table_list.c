/*
 * event_table_list — event_table_list (event_table.h): a page in creation
 * order after a cursor, by user (the user's index set), by status alone
 * (the status index) or unfiltered (the order array).
 */
#include "event_table_internal.h"

#include "str_hash.h"

#include <assert.h>
#include <string.h>

typedef struct {
    event_table_t *table;
    proto_str_t status;
} s_status_ctx_t;

/* index_set_collect's filter: the event's status is ctx's. */
static bool
s_status_keep (void *ctx_, uint32_t index)
{
    const s_status_ctx_t *ctx = ctx_;
    const event_t *event = ctx->table->order[index];
    return event->status_len == ctx->status.len
           && memcmp (event->data + event->user_len + event->description_len, ctx->status.ptr,
                      ctx->status.len)
                  == 0;
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
           search, and a status too is checked on each of the user's
           events from there. */
        user_slot_t *slot =
            event_table_user_slot (self, query->user_id.ptr, query->user_id.len,
                                   str_hash (query->user_id.ptr, query->user_id.len));
        s_status_ctx_t ctx = { self, query->status };
        *n = index_set_collect (&slot->events, from, out, query->limit, more,
                                query->status.ptr ? s_status_keep : NULL, &ctx);
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
