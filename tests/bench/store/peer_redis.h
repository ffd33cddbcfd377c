/*
 * peer_redis — Redis beside herald-store in herald-bench-store's rounds
 * (issue 15): the in-memory store everyone knows, measured by its own
 * `redis-benchmark` the way the bench drives herald-store: one connection,
 * 1000 requests in flight (-c 1 -P 1000), SET and GET of a value the size of
 * the bench's event strings, random keys over a keyspace the size of the
 * herald store's table (--ops events), on a Redis emptied before each run
 * as each herald run's store is fresh.
 *
 * A private redis-server on a free loopback port, memory only (--save ''
 * --appendonly no: redis_server.h, shared with herald-bench-gateway's
 * webdis peer), started once and stopped by PID. Debian's redis-server
 * and redis-tools are bench-only packages: when either is missing the peer
 * is skipped with a message and Herald's figures are reported alone.
 */
#ifndef HERALD_BENCH_PEER_REDIS_H
#define HERALD_BENCH_PEER_REDIS_H

#include "redis_server.h"

#include <stddef.h>

typedef struct {
    redis_server_t server; /* server.pid 0: no peer */
    char benchmark[256];   /* redis-benchmark's path */
    char cli[256];         /* redis-cli's (FLUSHALL before each run) */
} peer_redis_t;

/* Starts redis-server. Returns 0, or -1 after printing why the peer is
   skipped (not installed, did not start). */
int peer_redis_start (peer_redis_t *self);

/* One kind's figures from a run (-1: none). */
typedef struct {
    double rps;           /* requests per second, as redis-benchmark reports them */
    double server_cpu_us; /* redis-server's CPU (user + system) per request */
    double client_cpu_us; /* redis-benchmark's */
} peer_redis_figures_t;

/* One run on an emptied Redis: redis-benchmark for ops SETs, then again for
   ops GETs (two processes, so each kind's CPU is its own), values of
   value_len bytes, keys over keyspace. Fills *set and *get and returns 0,
   or -1 (printed). */
int peer_redis_run (peer_redis_t *self, size_t ops, size_t value_len, size_t keyspace,
                    peer_redis_figures_t *set, peer_redis_figures_t *get);

/* Stops redis-server (SIGTERM, then SIGKILL) when it runs. */
void peer_redis_stop (peer_redis_t *self);

#endif
