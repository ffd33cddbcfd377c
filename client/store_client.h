/*
 * store_client — the client side of the store protocol (proto/PROTOCOL.md),
 * written once: the gateway's HTTP → store edge, the notifier's feed link,
 * `herald-store --check` and the tests and benchmarks that talk to a store
 * all go through it.
 *
 * It owns one ZeroMQ DEALER connected to the store's ROUTER and tuned once
 * the way every client of the store needs it (LIBRARY-NOTES):
 *   - ZMQ_IMMEDIATE: a request is queued only on a completed connection, so
 *     with the store down a send fails at once (the caller answers 503 or
 *     retries later) instead of piling up behind a dead peer;
 *   - ZMTP heartbeats (1 s, dead after 3 s) and a fast reconnect (100 ms,
 *     backing off to 2 s): a restarted store is found again within a second;
 *   - a maximum message size of two protocol frames: anything bigger is no
 *     reply of the store's and is dropped by libzmq before it is read;
 *   - CURVE keys when the store has them (a client the store does not
 *     allow simply never connects: its sends fail as with the store down).
 * It encodes requests, stamps request ids from its own counter when the
 * caller has none, and receives and decodes replies, keeping the last
 * receipt one brought and sending it back with the next list or feed_read
 * (PROTOCOL.md §4.3: a store that counts this client's reply bytes then
 * stops counting the replies it has read, so its pages stay full); matching replies to
 * requests (and giving up on them at a deadline) stays with the caller,
 * which knows what a request is waiting for: the gateway's pending table
 * (gateway/pending.c), the notifier's one outstanding read.
 *
 * Decoded replies borrow their strings from the last message received:
 * they are valid until the next receive on the same client.
 */
#ifndef HERALD_STORE_CLIENT_H
#define HERALD_STORE_CLIENT_H

#include "curve.h"
#include "proto.h"

#include <stdint.h>

typedef struct _store_client_t store_client_t;

typedef struct {
    const char *endpoint; /* the store's ROUTER, e.g. "tcp://127.0.0.1:5555" */
    void *zmq_ctx;        /* libzmq context to use; NULL = one of the client's own */
    int linger_ms;        /* how long requests still queued may take to leave on destroy */
    int hwm;              /* messages queued each way; 0 = libzmq's default (1000) */
    int reconnect_ms;     /* first reconnect interval; 0 = 100 ms (a benchmark timing a
                             store's start asks for 1) */
    /* CURVE (curve/curve.h), both or neither: the client's own keys and the
       store's public key. Borrowed for store_client_new only. */
    const curve_keypair_t *curve_keys;
    const uint8_t *curve_server_key;
    bool monitor;     /* count connections (store_client_connections); the owner
                         must then call it regularly */
    size_t batch_max; /* store_client_set_batch's max; 0 = requests go one by one */
} store_client_config_t;

/* Connects (asynchronously: the store need not be up). Returns NULL, after
   logging why, when the socket cannot be made or the endpoint is invalid. */
store_client_t *store_client_new (const store_client_config_t *config);

/* Closes the socket (lingering as configured) and the client's own context
   if it made one. No-op on NULL; sets *self_p to NULL. */
void store_client_destroy (store_client_t **self_p);

/* The DEALER, for zmq_poll or its ZMQ_FD (ZMQ_POLLIN means a reply may be
   waiting). Borrowed. */
void *store_client_socket (store_client_t *self);

/* Encodes req as given (req->rid set by the caller) and sends it without
   blocking. Returns 0, or -1 when the store is not connected or its queue
   is full (errno EAGAIN) or encoding failed (ENOMEM). */
int store_client_send (store_client_t *self, const proto_request_t *req);

/* Batching (proto/PROTOCOL.md §3.1): several requests in one message
   saves libzmq's per-message work at both ends. With max >= 2 (at most
   PROTO_BATCH_MAX), store_client_queue holds point requests and sends
   them as one batch at store_client_flush, or at once when max are held;
   below 2, the default, it sends each at once. A batch the store refuses
   changed nothing: its requests are sent again one by one, and later
   batches are made smaller (invalid: more frames than that store takes,
   its limits being larger) or stop (an older store: unknown_op), with a
   warning; the requests held when that happens still go as one batch. */
void store_client_set_batch (store_client_t *self, size_t max);

/* Encodes req (req->rid set by the caller) and queues it for the next
   batch; a request that may not be batched (list, feed, stats), or any
   when batching is off, is sent at once as store_client_send. Returns 0,
   or 1 when req filled the batch and the batch went to libzmq with it
   (its I/O thread sends it when it next runs), or -1 (nothing queued) for
   a failed encoding (ENOMEM) or a failed immediate send. A queued request
   whose send fails, a full batch's included (then 0), is reported by the
   next store_client_flush. */
int store_client_queue (store_client_t *self, const proto_request_t *req);

/* Sends what store_client_queue holds: one request as itself, several as
   one batch. Copies to failed (at most max) the rids of queued requests
   that could not be sent (store not connected, queue full) and returns
   how many; call it once per loop pass, after the pass's requests. */
size_t store_client_flush (store_client_t *self, uint64_t *failed, size_t max);

/* Stamps req->rid with the client's next request id (1, 2, ...), then
   sends as store_client_send. Returns the rid, or 0 when not sent. */
uint64_t store_client_request (store_client_t *self, proto_request_t *req);

/* Whether a batch reply still holds replies store_client_recv has not
   handed out: the socket may then have nothing left to read, so a loop
   must not wait on it before reading them. */
bool store_client_holds (store_client_t *self);

/* Receives one reply if one is waiting, without blocking. A batch reply is
   handed out one of its replies per call, in order. Returns 1 with
   reply decoded (its strings borrowed until the next receive on this
   client; its arrays the caller's, freed with proto_reply_clear), 0 when
   nothing is waiting, -1 for a reply that
   does not decode (err says why; err->has_rid tells which request it was
   meant for, when that could be read). A message of several frames is
   read as its last frame when the ones before it are empty (an envelope
   delimiter), and is malformed otherwise. */
int store_client_recv (store_client_t *self, proto_reply_t *reply, proto_error_t *err);

/* Sends req with a fresh rid, once the connection is made, and waits for
   ITS reply, skipping (and freeing) replies to anything else; all within
   timeout_ms. Returns 0 with reply decoded as store_client_recv, or -1 when
   it could not be sent or no reply came in time. Blocks: for tools, checks,
   tests and a service's start, never inside a service's loop. A reply that
   comes after the timeout is read by the next receive. */
int store_client_call (store_client_t *self, proto_request_t *req, int timeout_ms,
                       proto_reply_t *reply);

/* Connections to the store made and lost since the client was made (ZeroMQ
   connects and reconnects, from a socket monitor); either pointer may be
   NULL. Never blocks; call it now and then (the loop's tick) so the
   monitor's events do not pile up. */
void store_client_connections (store_client_t *self, uint64_t *connects, uint64_t *disconnects);

#endif
