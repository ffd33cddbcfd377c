/*
 * store_link — the notifier's DEALER connection to herald-store, speaking
 * the change-feed half of proto/: feed_read and feed_ack requests, replies
 * matched by request id. Requests are never queued for a store that is not
 * connected (ZMQ_IMMEDIATE): a send fails at once and the caller retries
 * later, so no stale read piles up behind a dead peer. Replies to requests
 * the caller gave up on are recognised by their rid and ignored by it.
 */
#ifndef HERALD_STORE_LINK_H
#define HERALD_STORE_LINK_H

#include "curve.h"
#include "proto.h"

#include <stdint.h>

typedef struct _store_link_t store_link_t;

/* Connects (asynchronously) to endpoint, e.g. "tcp://127.0.0.1:5555", as
   a CURVE client when curve is given (borrowed for the call). NULL on
   failure. */
store_link_t *store_link_new (const char *endpoint, const curve_client_t *curve);
void store_link_destroy (store_link_t **self_p);

/* The libzmq socket handle, for zmq_poll (borrowed). */
void *store_link_handle (store_link_t *self);

/* Sends feed_read: from 0 means "from the store's acked cursor". Returns the
   request id, or 0 when the store is not reachable right now. */
uint64_t store_link_read (store_link_t *self, uint64_t from, uint32_t max);

/* Sends feed_ack for every record <= seq. store_id (16 bytes, NULL =
   none) fences it: a store with another identity refuses it. Returns the
   rid or 0. */
uint64_t store_link_ack (store_link_t *self, uint64_t seq, const uint8_t *store_id);

/* Receives one reply if one is waiting, without blocking. Returns 1 with
   reply filled (strings borrowed until the next call; arrays freed by the
   next call or destroy), 0 when nothing is waiting, -1 for a malformed reply
   (logged and dropped). */
int store_link_recv (store_link_t *self, proto_reply_t *reply);

/* Connections to the store made and lost (store_client_connections). */
void store_link_connections (store_link_t *self, uint64_t *connects, uint64_t *disconnects);

#endif
