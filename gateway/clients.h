/*
 * clients — what one gateway loop knows about the clients connected to it,
 * so that no one client can hold the gateway: at most --max-connections
 * open connections in all, at most --max-connections-per-client from one
 * address, and a deadline for every request: a client gets
 * --request-timeout seconds from the moment its connection opens, or its
 * previous response was sent, to deliver the whole next request (headers
 * and body). libmicrohttpd's own timeout is for idleness only, so a client
 * sending one byte a second would otherwise hold its connection for ever.
 *
 * A connection past its deadline is shut down (shutdown(2) on its socket:
 * libmicrohttpd, which owns the socket, then sees the end of it and closes
 * the connection through its usual path). From the moment a request has
 * fully arrived until its response is sent the deadline is off: the store's
 * own deadline governs that part (pending.h).
 *
 * Everything here runs in the loop's thread (libmicrohttpd's callbacks and
 * clients_sweep), so nothing is locked.
 */
#ifndef HERALD_GATEWAY_CLIENTS_H
#define HERALD_GATEWAY_CLIENTS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct _clients_t clients_t;
typedef struct _client_conn_t client_conn_t; /* one connection's record */

/* Limits: max_connections for the loop, max_per_client per address,
   request_timeout_ms for a whole request. NULL when out of memory. */
clients_t *clients_new (unsigned max_connections, unsigned max_per_client,
                        int64_t request_timeout_ms);
void clients_destroy (clients_t **self_p);

/* The accept decision for a connection from addr: whether it is under both
   limits (counted only once it opens). */
bool clients_admit (clients_t *self, const struct sockaddr *addr);

/* A connection opened (libmicrohttpd's STARTED notice): returns its record,
   for the connection's socket context, or NULL when out of memory (the
   connection then simply goes without a deadline). */
client_conn_t *clients_open (clients_t *self, struct MHD_Connection *conn, int64_t now_ms);

/* It closed (CLOSED notice): forgets it. No-op on NULL. */
void clients_close (clients_t *self, client_conn_t *c);

/* Its request has fully arrived: the deadline is off until its response
   is sent. No-op on NULL. */
void clients_request_in (client_conn_t *c);

/* Its response was sent: the next request's deadline starts now. No-op on
   NULL. */
void clients_response_out (clients_t *self, client_conn_t *c, int64_t now_ms);

/* Shuts down every connection past its deadline. Returns how many. Cheap
   to call on every pass: it looks at the connections at most every
   CLIENTS_SWEEP_MS. */
#define CLIENTS_SWEEP_MS 250
unsigned clients_sweep (clients_t *self, int64_t now_ms);

/* Milliseconds until the next sweep is due, or -1 with no connection
   open (for the loop's poll timeout). */
long clients_timeout (clients_t *self, int64_t now_ms);

/* Open connections now. */
unsigned clients_count (clients_t *self);

#endif
