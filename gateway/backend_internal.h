/*
 * backend_internal — what backend.c and backend_list.c share: the
 * backend's state and the helpers both use. Nothing else includes it.
 */
#ifndef HERALD_BACKEND_INTERNAL_H
#define HERALD_BACKEND_INTERNAL_H

#include "backend.h"
#include "pending.h"
#include "shards.h"

/* The 504 of a request whose store connection a map reload closed before
   it answered (it may or may not have done what was asked). */
#define BACKEND_CLOSED_DETAIL                                                                      \
    "Store did not answer: the shard map changed and its connection was closed"

struct _backend_t {
    shards_t *shards;
    pending_t *pending;
    metrics_t *metrics;
    int timeout_ms;
    bool orphans;   /* a reload closed connections: backend_expire answers what they had */
    bool batch_out; /* the last backend_send filled a batch that went at once */
};

/* Reloads the shard map file (shards_reload) once the pass's queued
   requests are sent (a reload may close a connection with requests
   queued). When the map changed, the requests still waiting on a
   connection it closed are answered 504 by the next backend_expire, not
   at their deadline: no reply can come. Returns shards_reload's. */
int backend_reload (backend_t *self);

/* Fills reply with status and what, naming the shard when the map has
   several ("Store unavailable (shard 1, tcp://...)"). */
void backend_shard_detail (backend_t *self, api_reply_t *reply, unsigned status, const char *what,
                           size_t shard);

/* The same for the shard whose connection was link when the request went
   out: a map reloaded since (a `moved`, a newer cursor) may have moved it
   to another index or dropped it, and a dropped one is not named. */
void backend_link_detail (backend_t *self, api_reply_t *reply, unsigned status, const char *what,
                          uint32_t link);

/* Sends preq (req->preq, or one shard's copy of it) to shard with a new
   rid, on req's behalf. 0, or -1 with req->reply set. */
int backend_send_on (backend_t *self, request_t *req, size_t shard, proto_request_t *preq);

/* What became of one shard's part of a list: answered (with a reply), or
   why there is no reply to use. */
typedef enum {
    BACKEND_LIST_ANSWERED,
    BACKEND_LIST_UNDECODABLE, /* a reply that did not decode */
    BACKEND_LIST_TIMED_OUT,   /* no answer by the deadline */
    BACKEND_LIST_UNSENT,      /* the request could not be sent (backend_flush) */
    BACKEND_LIST_CLOSED,      /* its connection was closed by a map reload */
} backend_list_outcome_t;

/* Asks every shard at once for a page of req's list after its cursor
   entry. 0 when sent (answered by backend_list_answered), -1 with
   req->reply set when answered now. */
int backend_list_send (backend_t *self, request_t *req);

/* One shard's part of a list sent on link (a reply, or the outcome saying
   why there is none), and the list answered once the last part is in. */
void backend_list_answered (backend_t *self, request_t *req, uint32_t link,
                            const proto_reply_t *reply, backend_list_outcome_t outcome);

#endif
