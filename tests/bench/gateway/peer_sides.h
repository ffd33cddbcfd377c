/*
 * peer_sides — the peers' sides of herald-bench-gateway's cases (cases.h):
 * starts webdis + Redis (peer_webdis.h) and nginx in front of the floor
 * (peer_nginx.h), says on stdout what runs and how, and fills the webdis
 * and nginx sides of the cases' config: base URL and server PIDs, or why
 * the peer is skipped. A peer that does not start never stops the run: its
 * side keeps no URL and its columns say why.
 */
#ifndef HERALD_BENCH_PEER_SIDES_H
#define HERALD_BENCH_PEER_SIDES_H

#include "cases.h"
#include "peer_nginx.h"
#include "peer_webdis.h"

#include <stdbool.h>

/* The PIDs peer_sides_start may add to the cases' process list. */
#define PEER_SIDES_MAX_PIDS (2 + 1 + PEER_NGINX_MAX_WORKERS)

typedef struct {
    peer_webdis_t webdis;
    peer_nginx_t nginx;
    char webdis_url[64], nginx_url[64];
    pid_t webdis_pids[2], nginx_pids[1 + PEER_NGINX_MAX_WORKERS];
} peer_sides_t;

/* Unless no_peers, starts both peers with `threads` each (webdis's HTTP
   threads, nginx's workers), webdis seeded with the ids of ids_path, nginx
   proxying to 127.0.0.1:floor_port keeping `connections` upstream
   connections alive. Fills cfg->sides[CASES_WEBDIS] and [CASES_NGINX]
   (pointing into self, which must outlive cfg's use) and appends the
   peers' PIDs to cfg->pids, which must have room for PEER_SIDES_MAX_PIDS
   more (all_pids is that array, writable). Blocks for a few seconds. */
void peer_sides_start (peer_sides_t *self, bool no_peers, int threads, int floor_port,
                       int connections, const char *ids_path, cases_config_t *cfg, pid_t *all_pids);

/* Stops whatever of the peers runs; a no-op when nothing does. */
void peer_sides_stop (peer_sides_t *self);

#endif
