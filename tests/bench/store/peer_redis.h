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

/* One run of redis-benchmark on an emptied Redis: ops requests of each
   kind, values of value_len bytes, keys over keyspace. Fills *set_rps and *get_rps and
   returns 0, or -1 (printed). */
int peer_redis_run (peer_redis_t *self, size_t ops, size_t value_len, size_t keyspace,
                    double *set_rps, double *get_rps);

/* Stops redis-server (SIGTERM, then SIGKILL) when it runs. */
void peer_redis_stop (peer_redis_t *self);

#endif
