/*
 * peer_nginx — nginx proxying to the floor, beside Herald in
 * herald-bench-gateway's rounds (issue 15): what a user puts in front of a
 * bare HTTP server, so what one HTTP hop costs in the proxy everyone knows.
 * Its figures sit next to the floor's (same server behind, same wrk load):
 * the gap is nginx's hop, as the gateway's gap to the floor is Herald's.
 *
 * nginx runs as this process's child in the foreground (`-g 'daemon off;'`),
 * with a config, pid file, error log and temp paths in the run's scratch
 * directory (nothing of the system's nginx is read or written), on a free
 * loopback port, and is stopped by its master's PID. Upstream connections
 * are kept alive (`keepalive`, `proxy_http_version 1.1`, an empty
 * `Connection` header) and so are the client's, with no per-connection
 * request limit (nginx closes keep-alive connections after 1000 requests by
 * default, which would make wrk reconnect). --peer-threads worker processes,
 * like herald-gateway's --threads: on 2 cores wrk needs one, so a second
 * worker would only take turns with the first. access_log off. Debian's
 * nginx-light is a bench-only package: without it the peer is skipped with
 * a message.
 */
#ifndef HERALD_BENCH_PEER_NGINX_H
#define HERALD_BENCH_PEER_NGINX_H

#include <sys/types.h>

#define PEER_NGINX_MAX_WORKERS 16

typedef struct {
    pid_t master; /* 0: not running */
    pid_t workers[PEER_NGINX_MAX_WORKERS];
    int nworkers;
    int port;
    char skip[1536]; /* after a failed start: why the peer is skipped */
} peer_nginx_t;

/* Starts nginx with `workers` worker processes (1..PEER_NGINX_MAX_WORKERS)
   proxying every request to 127.0.0.1:upstream_port, keeping up to
   `keepalive` idle upstream connections per worker (the client's
   connection count: one per client connection). Waits until it accepts
   connections and its workers are up (their PIDs found: they are the
   master's children, not ours, and their CPU is most of nginx's). Returns
   0, or -1 with why the peer is skipped in self->skip and printed, nothing
   left running. */
int peer_nginx_start (peer_nginx_t *self, int workers, int upstream_port, int keepalive);

/* The peer's processes (the master, then the workers) into pids, at most
   max. Returns how many. */
int peer_nginx_pids (const peer_nginx_t *self, pid_t *pids, int max);

/* Stops nginx (SIGTERM to the master: a fast shutdown, the workers
   first), then SIGKILLs any worker still there; a no-op when not running. */
void peer_nginx_stop (peer_nginx_t *self);

#endif
