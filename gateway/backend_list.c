/*
 * backend_list — a list across shards (list_merge.h): every shard asked at
 * once for a page after its entry of the cursor, the pages merged in
 * creation order once the last is in (backend_internal.h).
 */
#include "backend_internal.h"

#include "list_merge.h"

#include <stdio.h>
#include <string.h>

/* A 422 at ["query","after"] for a cursor of another map. */
static void
s_stale_cursor (backend_t *self, request_t *req, uint64_t epoch)
{
    char msg[200];
    snprintf (msg, sizeof msg,
              "The cursor is from another shard map (epoch %llu; this gateway's is %llu): "
              "list again from the start",
              (unsigned long long)epoch, (unsigned long long)shards_epoch (self->shards));
    json_t *detail = json_array ();
    api_problem (detail, "cursor_stale", "query", "after", msg, NULL);
    api_reply_problems (&req->reply, detail);
}

/* req's cursor checked against the map (a newer epoch reloads the map file
   first: another loop of this gateway may have reloaded it already), or
   an empty one: the merge to fill, or NULL with req->reply set. */
static list_merge_t *
s_list_start (backend_t *self, request_t *req)
{
    list_cursor_t *cursor = req->cursor;
    req->cursor = NULL;
    if (!cursor)
        cursor = list_cursor_new (shards_epoch (self->shards), shards_size (self->shards));
    else if (list_cursor_epoch (cursor) > shards_epoch (self->shards))
        backend_reload (self);
    if (cursor
        && (list_cursor_epoch (cursor) != shards_epoch (self->shards)
            || list_cursor_shards (cursor) != shards_size (self->shards))) {
        s_stale_cursor (self, req, list_cursor_epoch (cursor));
        list_cursor_destroy (&cursor);
        return NULL;
    }
    uint32_t limit = req->preq.has & PROTO_HAS_LIMIT ? req->preq.limit : PROTO_LIST_LIMIT_DEFAULT;
    list_merge_t *merge = cursor ? list_merge_new (cursor, limit) : NULL;
    if (!merge)
        api_reply_detail (&req->reply, 500, "Out of memory");
    return merge;
}

/* Answers a list whose shards have all answered or failed. */
static void
s_list_finish (backend_t *self, request_t *req)
{
    if (!list_merge_failed (req->merge)
        && list_cursor_epoch (list_merge_cursor (req->merge)) != shards_epoch (self->shards)) {
        api_reply_detail (&req->reply, 503,
                          "The shard map changed while the list was asked, try again");
        req->reply.retry_after = true;
    } else
        list_merge_reply (req->merge, &req->reply);
    list_merge_destroy (&req->merge);
}

int
backend_list_send (backend_t *self, request_t *req)
{
    req->merge = s_list_start (self, req);
    if (!req->merge)
        return -1;
    const list_cursor_t *cursor = list_merge_cursor (req->merge);
    for (size_t i = 0; i < shards_size (self->shards); i++) {
        proto_request_t preq = req->preq;
        const uint8_t *after = list_cursor_last (cursor, i);
        preq.has &= ~(unsigned)PROTO_HAS_AFTER;
        if (after) {
            memcpy (preq.after, after, 16);
            preq.has |= PROTO_HAS_AFTER;
        }
        if (backend_send_on (self, req, i, &preq) == 0)
            list_merge_sent (req->merge, i, shards_link (self->shards, i));
        else
            list_merge_fail (req->merge, i, &req->reply);
    }
    if (list_merge_outstanding (req->merge) > 0)
        return 0;
    s_list_finish (self, req);
    return -1;
}

void
backend_list_answered (backend_t *self, request_t *req, uint32_t link, const proto_reply_t *reply,
                       backend_list_outcome_t outcome)
{
    int shard = list_merge_shard_of (req->merge, link);
    if (shard < 0)
        return; /* not this list's: pending_take_on matched the link, so never */
    api_reply_t error = { 0 };
    if (reply && reply->status == PROTO_OK)
        list_merge_take (req->merge, (size_t)shard, reply->items, reply->n_items,
                         reply->has_next_after);
    else {
        if (outcome == BACKEND_LIST_TIMED_OUT)
            backend_link_detail (self, &error, 504, "Store did not answer in time", link);
        else if (outcome == BACKEND_LIST_CLOSED)
            api_reply_detail (&error, 504, BACKEND_CLOSED_DETAIL);
        else if (outcome == BACKEND_LIST_UNSENT) {
            backend_link_detail (self, &error, 503, "Store unavailable", link);
            error.retry_after = true;
        } else if (!reply)
            backend_link_detail (self, &error, 500, "Store sent an undecodable reply", link);
        else
            api_render (API_EP_LIST, reply, &error);
        list_merge_fail (req->merge, (size_t)shard, &error);
    }
    if (list_merge_outstanding (req->merge) == 0) {
        s_list_finish (self, req);
        request_complete (req);
    }
}
