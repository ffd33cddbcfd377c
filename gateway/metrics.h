/*
 * metrics — the gateway's Prometheus counters (docs/ARCHITECTURE.md §2
 * /metrics): requests by route and status code, a request latency histogram
 * per route, the store round-trip histogram, in-flight requests, whether the
 * store answered lately, late store replies discarded, and with a shard
 * map the requests sent to each shard and the `moved` redirects followed
 * or refused.
 *
 * One instance is shared by every loop thread; all updates are relaxed
 * atomics (no lock, nothing held across I/O), so a scrape sees each number
 * consistent on its own, not a snapshot across them.
 */
#ifndef HERALD_METRICS_H
#define HERALD_METRICS_H

#include "api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _metrics_t metrics_t;

metrics_t *metrics_new (void);
void metrics_destroy (metrics_t **self_p);

/* One HTTP request finished: its endpoint, status and duration. */
void metrics_request (metrics_t *self, api_endpoint_t ep, unsigned status, int64_t duration_us);

/* One store round trip completed (a reply matched its request). */
void metrics_store_roundtrip (metrics_t *self, int64_t duration_us);

/* Requests being served right now (delta +1 / -1). */
void metrics_inflight (metrics_t *self, int delta);

/* Store reachability as last observed: 1 after a reply, 0 after a refused
   send or a timeout. */
void metrics_store_up (metrics_t *self, int up);
int metrics_store_is_up (metrics_t *self);

/* A store reply arrived for a request already answered (504) or unknown. */
void metrics_late_reply (metrics_t *self);
/* A store batch filled up and went at once, mid-pass (backend.c). */
void metrics_full_batch (metrics_t *self);
/* The loop yielded its core after one (server.c, --io-sched batch). */
void metrics_loop_yield (metrics_t *self);

/* A request's connection closed while the store had it (server.c: an orphan). */
void metrics_abandoned (metrics_t *self);

/* A store request was sent to shard (an index of the loop's shard map;
   counted up to SHARD_MAP_SHARDS_MAX shards). */
void metrics_shard_request (metrics_t *self, size_t shard);

/* A shard answered `moved`: the request was sent on to the owner
   (followed true), or answered 503 (false). */
void metrics_redirect (metrics_t *self, bool followed);

/* A connection was refused because the loop had max-connections open. */
void metrics_refused_connection (metrics_t *self);

/* n connections were shut down for missing their request deadline. */
void metrics_cut_connections (metrics_t *self, unsigned n);

/* Renders the exposition text. Returns a heap string (caller frees) and its
   length in *len, or NULL when out of memory. */
char *metrics_render (metrics_t *self, size_t *len);

#endif
