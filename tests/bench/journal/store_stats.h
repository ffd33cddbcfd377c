/*
 * store_stats — a benchmark's side channel to herald-store, over the
 * shared store client (client/store_client.h): ping (to time a start from
 * spawn to first answer) and the stats op (the journal's own counters
 * after a run: group commits, syncs and their latency, rewrites). Its own
 * libzmq context and DEALER, apart from the load's socket, so reading
 * stats never queues behind a window of load requests.
 *
 * The DEALER reconnects every millisecond: a ping waits for the first
 * connection and goes out at once, so the reply's arrival marks when the
 * store started answering, to within about a millisecond.
 */
#ifndef HERALD_BENCH_STORE_STATS_H
#define HERALD_BENCH_STORE_STATS_H

#include "store_client.h"

#include <stdbool.h>
#include <stdint.h>

/* What the benchmarks read from a stats reply (PROTOCOL.md, persist.c
   s_stats); a counter the store did not report stays 0. */
typedef struct {
    bool journal; /* the store reported journal counters (it has a data dir) */
    uint64_t events;
    uint64_t rss_bytes;
    uint64_t journal_bytes;
    uint64_t journal_live_bytes; /* journal_live_bytes_estimate */
    uint64_t journal_commits;    /* group commits that wrote something */
    uint64_t journal_records;
    uint64_t journal_syncs;
    uint64_t journal_sync_us_total;
    uint64_t journal_sync_us_max;
    uint64_t journal_unsynced_max_ms;
    uint64_t journal_write_errors;
    uint64_t journal_rewrites;
} store_stats_t;

/* A shared store client for endpoint (e.g. "tcp://127.0.0.1:5555") that
   reconnects every millisecond; the store need not be up yet. Returns
   NULL on failure; destroy with store_client_destroy. */
store_client_t *store_stats_client (const char *endpoint);

/* Sends a ping and waits up to timeout_ms for its reply (replies to
   earlier requests are skipped). Returns 0, or -1 on timeout or an error
   reply. */
int store_stats_ping (store_client_t *client, int timeout_ms);

/* Sends stats and fills out from the reply within timeout_ms. Returns 0 or
   -1. */
int store_stats_read (store_client_t *client, store_stats_t *out, int timeout_ms);

/* One-shot: a client for endpoint, one stats request, closed. */
int store_stats_fetch (const char *endpoint, store_stats_t *out, int timeout_ms);

#endif
