/*
 * backend — see backend.h. Replies are read shard by shard; handling one
 * may reload the map (a `moved`), which closes and makes connections, so
 * a pass stops at once when the connections changed and the loop's next
 * pass (it drains every connection) reads on with the new ones. A `moved`
 * reply's strings live in its connection's last message, which a reload
 * may close: they are copied before anything else.
 */
#include "backend_internal.h"

#include "clock.h"
#include "list_merge.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

backend_t *
backend_new (const backend_config_t *config, metrics_t *metrics)
{
    backend_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->metrics = metrics;
    self->timeout_ms = config->timeout_ms;
    self->pending = pending_new (config->max_inflight);
    self->shards = shards_new (config->shard_map, config->store_endpoint, &config->client);
    if (!self->pending || !self->shards)
        backend_destroy (&self);
    return self;
}

void
backend_destroy (backend_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    backend_t *self = *self_p;
    shards_destroy (&self->shards);
    pending_destroy (&self->pending);
    free (self);
    *self_p = NULL;
}

int
backend_await (backend_t *self, int wait_ms)
{
    assert (self);
    int64_t deadline = clock_mono_ms () + wait_ms;
    for (size_t i = 0; i < shards_size (self->shards); i++) {
        int64_t left = deadline - clock_mono_ms ();
        proto_request_t ping = { .op = PROTO_OP_PING };
        proto_reply_t reply;
        /* A shard late to answer leaves the next ones a moment at least. */
        if (store_client_call (shards_client (self->shards, i), &ping, left > 100 ? (int)left : 100,
                               &reply)
            == 0) {
            metrics_store_up (self->metrics, reply.status == PROTO_OK);
            proto_reply_clear (&reply);
            continue;
        }
        log_warn ("the store at %s did not answer within %d ms: serving 503 until it does",
                  shards_endpoint (self->shards, i), wait_ms);
        if (shards_reset (self->shards, i) != 0)
            return -1;
    }
    return 0;
}

/* Fails req with a 503 detail (Retry-After) and resumes it. */
static void
s_fail (request_t *req, const char *detail)
{
    api_reply_detail (&req->reply, 503, detail);
    req->reply.retry_after = true;
    request_complete (req);
}

void
backend_shard_detail (backend_t *self, api_reply_t *reply, unsigned status, const char *what,
                      size_t shard)
{
    if (shards_size (self->shards) == 1) {
        api_reply_detail (reply, status, what);
        return;
    }
    char detail[SHARD_MAP_ENDPOINT_MAX + 128];
    snprintf (detail, sizeof detail, "%s (shard %zu, %s)", what, shard,
              shards_endpoint (self->shards, shard));
    api_reply_detail (reply, status, detail);
}

void
backend_link_detail (backend_t *self, api_reply_t *reply, unsigned status, const char *what,
                     uint32_t link)
{
    int shard = link ? shards_find_link (self->shards, link) : -1;
    if (shard < 0)
        api_reply_detail (reply, status, what);
    else
        backend_shard_detail (self, reply, status, what, (size_t)shard);
}

int
backend_send_on (backend_t *self, request_t *req, size_t shard, proto_request_t *preq)
{
    uint64_t rid = pending_reserve (self->pending);
    if (rid == 0) {
        api_reply_detail (&req->reply, 503, "Too many requests in flight to the store, try again");
        req->reply.retry_after = true;
        return -1;
    }
    preq->rid = rid;
    /* Queued: backend_flush sends the pass's requests, several per
       message; a batch that fills up goes at once. */
    int queued = store_client_queue (shards_client (self->shards, shard), preq);
    if (queued < 0) {
        if (errno == ENOMEM) {
            api_reply_detail (&req->reply, 500, "Out of memory");
            return -1;
        }
        metrics_store_up (self->metrics, 0);
        log_debug ("store send to %s refused: %s", shards_endpoint (self->shards, shard),
                   zmq_strerror (errno));
        backend_shard_detail (self, &req->reply, 503, "Store unavailable", shard);
        return -1;
    }
    if (queued == 1) {
        self->batch_out = true;
        metrics_full_batch (self->metrics);
    }
    req->sent_us = clock_mono_us ();
    int64_t deadline = req->sent_us / 1000 + self->timeout_ms;
    if (req->deadline_ms == 0 || deadline < req->deadline_ms)
        req->deadline_ms = deadline;
    pending_commit_on (self->pending, rid, req, req->deadline_ms,
                       shards_link (self->shards, shard));
    metrics_shard_request (self->metrics, shard);
    return 0;
}

/* Sends req->preq to shard with a new rid. 0, or -1 with req->reply set. */
static int
s_send_to (backend_t *self, request_t *req, size_t shard)
{
    return backend_send_on (self, req, shard, &req->preq);
}

/* The readyz answer once every ping is answered or expired. */
static void
s_readyz_reply (backend_t *self, request_t *req)
{
    if (!req->down) {
        req->reply = (api_reply_t){ .status = 200, .body = strdup ("{\"status\":\"ready\"}") };
        req->reply.len = req->reply.body ? strlen (req->reply.body) : 0;
    } else
        backend_link_detail (self, &req->reply, 503, "Store unavailable", req->down_link);
}

/* Notes that a readyz ping of link is answered (up or not); answers once
   the last one is. */
static void
s_readyz_answered (backend_t *self, request_t *req, uint32_t link, bool up)
{
    if (!up && !req->down) {
        req->down = true;
        req->down_link = link;
    }
    if (--req->outstanding == 0) {
        s_readyz_reply (self, req);
        request_complete (req);
    }
}

/* Pings every shard for readyz. */
static int
s_send_all (backend_t *self, request_t *req)
{
    req->outstanding = 0;
    req->down = false;
    req->down_link = 0;
    for (size_t i = 0; i < shards_size (self->shards); i++) {
        if (s_send_to (self, req, i) == 0)
            req->outstanding++;
        else if (!req->down) {
            req->down = true;
            req->down_link = shards_link (self->shards, i);
        }
        api_reply_clear (&req->reply);
    }
    if (req->outstanding > 0)
        return 0;
    s_readyz_reply (self, req);
    return -1;
}

int
backend_send (backend_t *self, request_t *req)
{
    assert (self && req);
    proto_request_t *preq = &req->preq;
    req->hops = 0;
    /* Only this request's batch counts: one a redirect sent in a drain is
       not the loop's to yield for. */
    self->batch_out = false;
    switch (preq->op) {
    case PROTO_OP_PING:
        return s_send_all (self, req);
    case PROTO_OP_GET:
    case PROTO_OP_UPDATE:
        return s_send_to (self, req, shards_owner_of (self->shards, preq->event_id));
    case PROTO_OP_CREATE:
        return s_send_to (
            self, req, shards_owner_of_user (self->shards, preq->user_id.ptr, preq->user_id.len));
    case PROTO_OP_LIST:
        /* Filtered by user too: a PUT may give an event another user_id,
           and the event stays on the shard it was created on. */
        if (shards_size (self->shards) == 1)
            return s_send_to (self, req, 0);
        return backend_list_send (self, req);
    default:
        return s_send_to (self, req, 0);
    }
}

/* A redirect not followed: counted, and req answered 503 with detail. */
static void
s_refuse (backend_t *self, request_t *req, const char *detail)
{
    metrics_redirect (self->metrics, false);
    s_fail (req, detail);
}

/* A get or update answered `moved` (reply cleared here): sent on once to
   the owner, or answered 503. */
static void
s_on_moved (backend_t *self, request_t *req, proto_reply_t *reply, uint32_t link)
{
    char named[SHARD_MAP_ENDPOINT_MAX + 1], from[SHARD_MAP_ENDPOINT_MAX + 1] = "?";
    size_t len = reply->moved.endpoint.len < SHARD_MAP_ENDPOINT_MAX ? reply->moved.endpoint.len
                                                                    : SHARD_MAP_ENDPOINT_MAX;
    if (len)
        memcpy (named, reply->moved.endpoint.ptr, len);
    named[len] = '\0';
    uint64_t theirs = reply->moved.epoch, ours = shards_epoch (self->shards);
    unsigned slot = (unsigned)reply->moved.slot;
    proto_reply_clear (reply);
    int sender = shards_find_link (self->shards, link);
    if (sender >= 0)
        snprintf (from, sizeof from, "%s", shards_endpoint (self->shards, (size_t)sender));
    if (req->hops > 0) {
        log_warn ("slot %u: %s redirected to %s again after a redirect (its map epoch %llu, "
                  "ours %llu): answered 503",
                  slot, from, named, (unsigned long long)theirs, (unsigned long long)ours);
        s_refuse (self, req,
                  "The event's shard redirected again after one redirect was followed: the "
                  "shards' maps disagree, try again later");
        return;
    }
    int target;
    if (theirs > ours && backend_reload (self) == 1)
        target = (int)shards_owner_of (self->shards, req->preq.event_id);
    else
        target = shards_find_endpoint (self->shards, named, len);
    if (target < 0) {
        log_warn ("slot %u: %s redirected to %s, which is not a shard of our map (epoch %llu, "
                  "its %llu): answered 503",
                  slot, from, named, (unsigned long long)ours, (unsigned long long)theirs);
        s_refuse (self, req,
                  "The event's shard is not in this gateway's shard map (the map is stale), "
                  "try again later");
        return;
    }
    log_info ("redirect: slot %u moved from %s to %s (map epoch %llu -> %llu, the store's %llu)",
              slot, from, shards_endpoint (self->shards, (size_t)target), (unsigned long long)ours,
              (unsigned long long)shards_epoch (self->shards), (unsigned long long)theirs);
    metrics_redirect (self->metrics, true);
    req->hops++;
    if (s_send_to (self, req, (size_t)target) != 0)
        request_complete (req);
}

/* Handles one reply read on link (rc as store_client_recv). */
static void
s_on_reply (backend_t *self, uint32_t link, int rc, proto_reply_t *reply, const proto_error_t *err)
{
    if (rc < 0) {
        log_warn ("undecodable store reply: %s", err->message);
        request_t *req = err->has_rid ? pending_take_on (self->pending, err->rid, link) : NULL;
        if (req && req->merge)
            backend_list_answered (self, req, link, NULL, BACKEND_LIST_UNDECODABLE);
        else if (req && req->ep == API_EP_READYZ)
            s_readyz_answered (self, req, link, false);
        else if (req) {
            api_reply_detail (&req->reply, 500, "Store sent an undecodable reply");
            request_complete (req);
        }
        return;
    }
    request_t *req = pending_take_on (self->pending, reply->rid, link);
    if (!req) {
        metrics_late_reply (self->metrics);
        log_debug ("late store reply rid %llu discarded", (unsigned long long)reply->rid);
        proto_reply_clear (reply);
        return;
    }
    metrics_store_roundtrip (self->metrics, clock_mono_us () - req->sent_us);
    metrics_store_up (self->metrics, 1);
    bool by_id = req->preq.op == PROTO_OP_GET || req->preq.op == PROTO_OP_UPDATE;
    if (req->ep == API_EP_READYZ) {
        s_readyz_answered (self, req, link, reply->status == PROTO_OK);
        proto_reply_clear (reply);
        return;
    }
    if (req->merge) {
        backend_list_answered (self, req, link, reply, BACKEND_LIST_ANSWERED);
        proto_reply_clear (reply);
        return;
    }
    if (by_id && reply->status == PROTO_E_MOVED) {
        s_on_moved (self, req, reply, link);
        return;
    }
    if (by_id && reply->status == PROTO_OK
        && memcmp (reply->event.id, req->preq.event_id, 16) != 0) {
        log_warn ("a store answered rid %llu with another event: refused",
                  (unsigned long long)reply->rid);
        api_reply_detail (&req->reply, 500, "Store answered with another event");
    } else if (api_render (req->ep, reply, &req->reply) == 0 && req->reply.status == 201) {
        char id[PROTO_UUID_LEN + 1];
        proto_uuid_format (reply->event.id, id);
        snprintf (req->location, sizeof req->location, "/events/%s", id);
    }
    proto_reply_clear (reply);
    request_complete (req);
}

void
backend_drain (backend_t *self)
{
    assert (self);
    unsigned generation = shards_generation (self->shards);
    for (size_t i = 0; i < shards_size (self->shards); i++) {
        store_client_t *client = shards_client (self->shards, i);
        uint32_t link = shards_link (self->shards, i);
        proto_reply_t reply;
        proto_error_t err;
        int rc;
        while ((rc = store_client_recv (client, &reply, &err)) != 0) {
            s_on_reply (self, link, rc, &reply, &err);
            if (shards_generation (self->shards) != generation)
                return; /* client may be gone: the next pass reads on */
        }
    }
}

bool
backend_batch_went_out (backend_t *self)
{
    assert (self);
    return self->batch_out;
}

void
backend_flush (backend_t *self)
{
    assert (self);
    for (size_t i = 0; i < shards_size (self->shards); i++) {
        uint32_t link = shards_link (self->shards, i);
        uint64_t failed[PROTO_BATCH_MAX];
        size_t n;
        while ((n = store_client_flush (shards_client (self->shards, i), failed, PROTO_BATCH_MAX))
               > 0) {
            metrics_store_up (self->metrics, 0);
            log_debug ("store send to %s refused (%zu requests)", shards_endpoint (self->shards, i),
                       n);
            for (size_t k = 0; k < n; k++) {
                request_t *req = pending_take_on (self->pending, failed[k], link);
                if (!req)
                    continue;
                if (req->ep == API_EP_READYZ) {
                    s_readyz_answered (self, req, link, false);
                    continue;
                }
                if (req->merge) {
                    /* Lists go one per message today (proto_batch_allows),
                       so they fail at queueing, not here; were they
                       batched, the other shards' answers are still due. */
                    backend_list_answered (self, req, link, NULL, BACKEND_LIST_UNSENT);
                    continue;
                }
                backend_shard_detail (self, &req->reply, 503, "Store unavailable", i);
                req->reply.retry_after = true;
                request_complete (req);
            }
        }
    }
}

int
backend_reload (backend_t *self)
{
    assert (self);
    backend_flush (self);
    int rc = shards_reload (self->shards);
    if (rc == 1)
        self->orphans = true;
    return rc;
}

/* pending_take_gone's test: link is no connection of the map any more. */
static bool
s_link_gone (void *ctx, uint32_t link)
{
    backend_t *self = ctx;
    return link != 0 && shards_find_link (self->shards, link) < 0;
}

/* Answers the requests waiting on connections a reload closed. */
static void
s_answer_orphans (backend_t *self)
{
    self->orphans = false;
    uint64_t from = 0;
    uint32_t link;
    request_t *req;
    while ((req = pending_take_gone (self->pending, s_link_gone, self, &from, &link))) {
        if (req->ep == API_EP_READYZ)
            s_readyz_answered (self, req, link, false);
        else if (req->merge)
            backend_list_answered (self, req, link, NULL, BACKEND_LIST_CLOSED);
        else {
            api_reply_detail (&req->reply, 504, BACKEND_CLOSED_DETAIL);
            request_complete (req);
        }
    }
}

void
backend_expire (backend_t *self, int64_t now_ms)
{
    assert (self);
    if (self->orphans)
        s_answer_orphans (self);
    request_t *req;
    uint32_t link;
    while ((req = pending_expire_on (self->pending, now_ms, &link))) {
        metrics_store_up (self->metrics, 0);
        if (req->ep == API_EP_READYZ)
            s_readyz_answered (self, req, link, false);
        else if (req->merge)
            backend_list_answered (self, req, link, NULL, BACKEND_LIST_TIMED_OUT);
        else {
            api_reply_detail (&req->reply, 504, "Store did not answer in time");
            request_complete (req);
        }
    }
}

bool
backend_holds (backend_t *self)
{
    assert (self);
    for (size_t i = 0; i < shards_size (self->shards); i++)
        if (store_client_holds (shards_client (self->shards, i)))
            return true;
    return false;
}

size_t
backend_sockets (backend_t *self, void **sockets)
{
    assert (self);
    size_t n = shards_size (self->shards);
    for (size_t i = 0; i < n; i++)
        sockets[i] = store_client_socket (shards_client (self->shards, i));
    return n;
}

unsigned
backend_generation (backend_t *self)
{
    assert (self);
    return shards_generation (self->shards);
}

int64_t
backend_next_deadline (backend_t *self)
{
    assert (self);
    return self->orphans ? 0 : pending_next_deadline (self->pending);
}

size_t
backend_shards (backend_t *self)
{
    assert (self);
    return shards_size (self->shards);
}

size_t
backend_inflight (backend_t *self)
{
    assert (self);
    return pending_size (self->pending);
}
