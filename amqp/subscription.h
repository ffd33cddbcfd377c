/*
 * subscription — consuming a queue with manual acks and a prefetch window on
 * a broker's channel, as herald-worker does (docs/ARCHITECTURE.md §4.4,
 * §4.6): deliveries in, acks and rejects out.
 *
 * subscription_start sets the prefetch and starts the consumer on a freshly
 * connected channel; subscription_next hands out what arrived, without
 * blocking, as deliveries the caller owns (their bodies are copies, so they
 * outlive the connection's buffers) and turns the broker ending the consumer
 * or closing the channel into an error; subscription_ack and _reject settle
 * a delivery by its tag (acks are noted and sent together by
 * subscription_flush: a consumer that finishes several deliveries in one
 * pass costs the broker one basic.ack frame, not one per message). Reading is also what services
 * the connection, heartbeats included: call subscription_next at least every heartbeat/2, and
 * whenever broker_has_buffered says frames wait.
 *
 * The subscription borrows its broker: connect and drop stay with broker.h.
 * A tag is void once its connection dropped (the broker redelivers the
 * message); after every broker_connect, subscription_start again.
 */
#ifndef HERALD_SUBSCRIPTION_H
#define HERALD_SUBSCRIPTION_H

#include "broker.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One message consumed. Owns body; empty after delivery_release. */
typedef struct {
    uint64_t tag; /* for subscription_ack / _reject on the same connection */
    bool redelivered;
    void *body;
    size_t len;
} delivery_t;

/* Frees the body and empties self. No-op on an empty delivery. */
void delivery_release (delivery_t *self);

typedef struct _subscription_t subscription_t;

/* A subscription to queue (copied) on broker (borrowed, must outlive it),
   with up to prefetch (1..65535) unacked deliveries. NULL when out of
   memory. */
subscription_t *subscription_new (broker_t *broker, const char *queue, int prefetch);

/* Frees. No-op on NULL. The broker is left as it is. */
void subscription_destroy (subscription_t **self_p);

/* Sets the prefetch and starts consuming with manual acks on the broker's
   freshly opened channel. Blocks for at most the RPC timeout. Returns 0, or
   -1 (logged): the caller drops the connection. */
int subscription_start (subscription_t *self);

/* Takes the next delivery without blocking. Returns 1 with *delivery set
   (the caller's: delivery_release it); 0 when nothing is waiting; -1 with the
   reason in *why (static text) when the connection is unusable: socket
   error, heartbeat timeout, consumer cancelled or channel/connection closed
   by the server (answered and logged). After -1 the caller drops the
   connection. The connection's buffers are released on every call. */
int subscription_next (subscription_t *self, delivery_t *delivery, const char **why);

/* Acks the delivery with tag, which subscription_next handed out on this
   connection and nobody settled since. The ack is only noted: the next
   subscription_flush sends it, together with the others noted by then, in
   as few frames as the channel allows (ack_batch.h). Returns 0, or -1 with
   the reason in *why when not connected or the tag is not an unsettled
   delivery of this connection (nothing is sent: a stale tag on the wire
   would make the server close the channel). */
int subscription_ack (subscription_t *self, uint64_t tag, const char **why);

/* Rejects the unsettled delivery with tag without requeue, at once:
   RabbitMQ dead-letters it. Returns 0, or -1 with the reason in *why. */
int subscription_reject (subscription_t *self, uint64_t tag, const char **why);

/* Sends the acks noted since the last flush: one basic.ack with multiple
   for those below the lowest delivery still unsettled, one basic.ack each
   for the others. Sets *sent to how many deliveries the frames it wrote
   acked (0 when none were noted) and returns 0; or returns -1 with the
   reason in *why when the connection failed or is gone, *sent then
   counting the acks written before the failure (the rest are lost with
   the connection: the broker delivers those messages again). Call it at
   the end of every pass that noted acks, so no ack waits longer than one
   pass of the loop. */
int subscription_flush (subscription_t *self, size_t *sent, const char **why);

#endif
