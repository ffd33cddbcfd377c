/*
 * backend — the store side of one gateway loop: where each request goes
 * (shards.h routes it), the requests in flight (pending.h, one table and
 * one rid counter for every shard, each entry remembering the connection
 * it went out on), the replies matched back to them, the deadlines, and
 * the `moved` redirect of a stale shard map (proto/PROTOCOL.md §9).
 *
 * A shard answering `moved` for a get or an update names the owner and
 * its map's epoch. When that epoch is newer than the loop's map and the
 * map file on disk is newer too, the file is reloaded and the request
 * goes to the owner the new map names; otherwise it goes to the endpoint
 * the store named, if that is a shard of the current map. Either way it
 * is sent on once: a second `moved`, or an owner the map does not know,
 * is answered 503, never with another shard's answer. A reply is only
 * ever taken by the request that was sent on the connection it came
 * from, and a get or update answered with another event than the one
 * asked for is refused (500).
 *
 * /readyz pings every shard and is ready only when all of them answer.
 * A list goes to the one shard of a single map exactly as before
 * sharding (its cursor the store's plain event id). Over several shards
 * every list, filtered by user_id or not, asks every shard at once and
 * is answered once all have answered (list_merge.h merges them behind an
 * opaque cursor); a shard that cannot be sent to (503) or does not answer
 * in time (504) fails the whole list, naming the shard, never a partial
 * page. A cursor of another map epoch is a 422 (after trying the map file,
 * when the cursor's epoch is newer).
 */
#ifndef HERALD_GATEWAY_BACKEND_H
#define HERALD_GATEWAY_BACKEND_H

#include "metrics.h"
#include "request.h"
#include "shard_map.h"
#include "store_client.h"

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct _backend_t backend_t;

typedef struct {
    const char *shard_map;        /* map file, NULL: one store at store_endpoint */
    const char *store_endpoint;   /* used without a map */
    store_client_config_t client; /* for every shard (endpoint ignored); its keys
                                     borrowed for the backend's life */
    size_t max_inflight;          /* store requests in flight before 503 */
    int timeout_ms;               /* store round trip before 504 */
} backend_config_t;

/* The shards' connections (made asynchronously). metrics borrowed. NULL,
   after logging why, when the map cannot be read or resources are short. */
backend_t *backend_new (const backend_config_t *config, metrics_t *metrics);
void backend_destroy (backend_t **self_p);

/* Waits, at most wait_ms in all, for every shard to answer a ping (for a
   loop about to open its port); a shard that does not answer gets a fresh
   connection (its late answer must not meet a request reusing its rid)
   and is served 503 until it answers. Blocks. 0, or -1 when out of
   resources. */
int backend_await (backend_t *self, int wait_ms);

/* Sends req->preq (filled by the caller; its strings borrowed from req,
   which must live until the request completes) to the shard it belongs
   to. Returns 0 when sent: the caller suspends the connection, and
   request_complete resumes it later with req->reply. Returns -1 with
   req->reply holding the answer to queue now (503 store unavailable or
   too many in flight, 422 a list cursor of another map, 500 out of
   memory). A list over several shards takes req->cursor (the client's
   decoded after, NULL: from the start) and keeps its state in req->merge
   until it is answered. */
int backend_send (backend_t *self, request_t *req);

/* Fills sockets (room for BACKEND_SOCKETS_MAX) with the ZeroMQ socket of
   each shard connection; returns how many. Call again when
   backend_generation changed. */
size_t backend_sockets (backend_t *self, void **sockets);
#define BACKEND_SOCKETS_MAX SHARD_MAP_SHARDS_MAX
unsigned backend_generation (backend_t *self);

/* Whether a connection holds replies of a batch not handed out yet
   (store_client_holds): the loop must not sleep before draining again. */
bool backend_holds (backend_t *self);

/* Handles every reply waiting (never blocks). */
void backend_drain (backend_t *self);

/* Whether the last backend_send's request filled a batch that went to
   libzmq at once (store_client_queue), mid-pass: its I/O thread has it to
   send. */
bool backend_batch_went_out (backend_t *self);

/* Sends the requests this loop pass queued, several per message where it
   can (store_client_queue); a request whose send failed (store not
   connected, queue full) is answered 503 (readyz: not ready). Call it once
   per pass, after the pass's requests. */
void backend_flush (backend_t *self);

/* Answers every request whose deadline is <= now_ms, and every one still
   waiting on a store connection a shard map reload closed: 504 (readyz:
   503). */
void backend_expire (backend_t *self, int64_t now_ms);

/* The earliest deadline (0 when a reload left requests to answer at once),
   or -1 when nothing is in flight. */
int64_t backend_next_deadline (backend_t *self);

/* Shards in the current map: 1 means lists take the store's own cursor
   (api_parse_list), more the merged one (api_parse_list_merged). */
size_t backend_shards (backend_t *self);

/* Store requests in flight. */
size_t backend_inflight (backend_t *self);

#endif
