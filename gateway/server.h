/*
 * server — one gateway event loop: a libmicrohttpd daemon in external-epoll
 * mode and one ZeroMQ DEALER to the store (one per shard with a shard
 * map: backend.h), waited on together by one epoll in a single thread
 * (wait_set.h says how). A request that needs the store is encoded and sent
 * with DONTWAIT; the reply (matched by request id through pending_t) or
 * the deadline makes its response. Its connection is
 * suspended only when the loop goes idle before the reply comes (server.c
 * says why). Nothing blocks and no lock
 * is taken on the request path, so one loop keeps thousands of requests in
 * flight on one socket.
 *
 * A gateway runs --threads loops; each binds the same listen address with
 * SO_REUSEPORT (so does a second gateway process), and the kernel spreads
 * connections across them.
 */
#ifndef HERALD_SERVER_H
#define HERALD_SERVER_H

#include "auth.h"
#include "metrics.h"
#include "curve.h"
#include "proto.h"

#include <stdint.h>

typedef struct {
    const char *listen;         /* "host:port" */
    const char *store_endpoint; /* tcp://... (without shard_map) */
    const char *shard_map;      /* shard map file (backend.h), NULL: one store */
    int timeout_ms;             /* store round trip before 504 */
    size_t max_body;            /* bytes before 413 */
    size_t max_header_size;     /* each connection's memory for its request head (server.c) */
    unsigned max_connections;   /* per loop */
    unsigned max_per_client;    /* per loop, from one client address */
    unsigned request_timeout_s; /* to deliver a whole request (clients.h) */
    size_t max_inflight;        /* store requests in flight per loop */
    size_t store_batch;         /* requests per message to the store (store_client.h) */
    bool yield_to_io;           /* a full batch out mid-pass: sched_yield (io_sched.h) */
    unsigned idle_timeout_s;    /* idle or half-sent connection lifetime */
    proto_limits_t limits;
    int stop_fd;                 /* readable once the loop should stop (common/stop.h) */
    const curve_client_t *curve; /* CURVE keys for the store; NULL = none */
    auth_t *auth;                /* who may call what (shared by every loop, borrowed) */
} server_config_t;

typedef struct _server_t server_t;
typedef struct request_s request_t; /* request.h */

/* Binds the listen address and connects the store socket. zmq_ctx is
   shared (thread-safe); metrics shared and borrowed. NULL (after logging
   why) when the address cannot be bound or resources are short. */
server_t *server_new (const server_config_t *config, metrics_t *metrics, void *zmq_ctx);
void server_destroy (server_t **self_p);

/* Runs the loop in the calling thread until config->stop_fd is readable:
   then stops accepting, finishes the requests in flight (each within its
   deadline) and returns 0, or -1 on a fatal poll error. */
int server_run (server_t *self);

/* The store's part of req is over (request_complete): resumes its
   connection if it was parked, else takes it off the waiting list so the
   next pass queues the response. */
void server_answered (server_t *self, request_t *req);

#endif
