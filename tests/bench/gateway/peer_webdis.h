/*
 * peer_webdis — webdis + Redis beside Herald in herald-bench-gateway's
 * rounds (issue 15): the HTTP-to-store gateway everyone knows (DESIGN.md
 * §7), doing what herald-gateway + herald-store do for the benchmark's
 * cases: GET /PING, GET /GET/<id> of an event stored under its id, and
 * PUT /SET/<key> with an event as the body.
 *
 * A private redis-server (redis_server.h) and webdis, both this process's
 * children on free loopback ports, stopped by PID. webdis reads a JSON
 * config written into the run's scratch directory: daemonize off (it stays
 * our child), --peer-threads HTTP threads (herald-gateway's --threads, so
 * both have the same number of event loops), and a pool of
 * WEBDIS_POOL_SIZE Redis connections per thread. The seeded keys go in
 * over the Redis protocol directly (a pipelined batch of SETs, as
 * `redis-cli --pipe` would), so seeding costs no HTTP round trips.
 * Debian's webdis and redis-server are bench-only packages: when either is
 * missing the peer is skipped with a message and Herald's figures stand
 * alone.
 */
#ifndef HERALD_BENCH_PEER_WEBDIS_H
#define HERALD_BENCH_PEER_WEBDIS_H

#include "redis_server.h"

#include <sys/types.h>

/* Redis connections per webdis thread: webdis spreads its requests over
   them. 2 is webdis's own default; 1, 4 and 8 gave the same req/s here,
   within the machine's noise (GET of one key, 64 connections, 1 thread). */
#define WEBDIS_POOL_SIZE 2

typedef struct {
    redis_server_t redis;
    pid_t pid; /* webdis; 0: not running */
    int port;  /* webdis's HTTP port */
    int threads;
    int seeded;      /* keys seeded */
    char skip[1536]; /* after a failed start: why the peer is skipped */
} peer_webdis_t;

/* Starts redis-server and webdis (threads HTTP threads), then stores the
   event (event_json.h) under each id of ids_path (one per line), and waits
   until webdis accepts connections. Blocks for a second or two. Returns 0,
   or -1 with why the peer is skipped (not installed, did not start,
   seeding failed) in self->skip and printed, nothing left running. */
int peer_webdis_start (peer_webdis_t *self, int threads, const char *ids_path);

/* The peer's server processes (webdis, redis-server) into pids, at most
   max. Returns how many. */
int peer_webdis_pids (const peer_webdis_t *self, pid_t *pids, int max);

/* Stops webdis then redis-server when they run; a no-op otherwise. */
void peer_webdis_stop (peer_webdis_t *self);

#endif
