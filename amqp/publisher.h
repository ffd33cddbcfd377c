/*
 * publisher — persistent publishes with publisher confirms on a broker's
 * channel, as herald-notifier makes them (docs/ARCHITECTURE.md §4.3).
 *
 * rabbitmq-c 0.11 has no confirm helper, so this is it: publisher_start
 * puts a freshly connected channel in confirm mode, publisher_publish
 * numbers the publishes 1, 2, 3, ... as RabbitMQ does, publisher_flush
 * sends them, and publisher_poll
 * reads what came back, without blocking, as confirm events: ack and nack
 * (for a tag, or every tag up to it with multiple; acks may come out of
 * order) and returned (a mandatory publish nothing was bound to take; its
 * ack follows). Reading is also what services the connection, heartbeats
 * included, so the caller polls at least every heartbeat/2. What a confirm
 * means is the caller's business: the notifier maps tags to feed records
 * (notifier/window.h).
 *
 * Publishes are batched: amqp_basic_publish makes a send call per frame,
 * three for a message that fits one body frame (method, header, body; the
 * first two with MSG_MORE), and in a profile of the whole pipeline those sends were
 * 39% of the notifier's CPU. So publisher_publish encodes a publish's
 * frames with rabbitmq-c's own encoders (amqp_encode_method,
 * amqp_encode_properties) into the publisher's output, adding only the
 * frames' 8-byte envelopes, and publisher_flush writes all of it to the
 * connection's socket at once. That is safe because rabbitmq-c writes
 * whole frames and returns only once they are sent, so no frame of its own
 * is ever half-written when the publisher writes, and a flush is written
 * whole before anything else runs; Herald refuses amqps:// (broker_url.h),
 * so the socket is plain TCP.
 *
 * A memory or disk alarm makes RabbitMQ stop reading a publishing
 * connection. It says so (connection.blocked) to a client that asked, and
 * broker.c asks: from then until connection.unblocked the publisher writes
 * nothing and holds its output, so the caller's loop keeps running instead
 * of waiting in a write the broker will not read (the notifier also stops
 * reading its feed meanwhile). Output written between the broker blocking
 * and its notice arriving waits in the socket's buffers; rabbitmq-c's own
 * writes (heartbeats) go in behind it, and would wait only if that output
 * had filled the buffers.
 *
 * The publisher borrows its broker and keeps no connection of its own:
 * connect and drop stay with broker.h. Tags are void once the connection
 * drops; after every broker_connect, publisher_start again.
 */
#ifndef HERALD_PUBLISHER_H
#define HERALD_PUBLISHER_H

#include "broker.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PUBLISHER_CONTENT_TYPE "application/msgpack"

typedef struct _publisher_t publisher_t;

/* One message for BROKER_EXCHANGE, sent persistent with content type
   PUBLISHER_CONTENT_TYPE. Everything is borrowed for the call only. */
typedef struct {
    const char *routing_key; /* also sent as the message's type */
    const void *body;
    size_t len;
    const char *message_id;
    const char *correlation_id; /* the request that made the change (X-Request-Id); NULL none */
    uint64_t timestamp;         /* seconds since the epoch */
    bool mandatory;             /* returned by the broker if no queue takes it */
} publisher_message_t;

typedef enum {
    PUBLISHER_ACK = 1, /* the broker has the publish(es) */
    PUBLISHER_NACK,    /* the broker refused the publish(es): a full queue with
                          x-overflow reject-publish, or an internal error */
    PUBLISHER_RETURNED /* a mandatory publish was unroutable (logged); its ack follows */
} publisher_event_kind_t;

typedef struct {
    publisher_event_kind_t kind;
    uint64_t tag;  /* ack, nack: the publish tag; 0 for returned */
    bool multiple; /* ack, nack: every tag <= tag */
} publisher_event_t;

/* A publisher on broker (borrowed, must outlive it) whose messages carry
   app_id (copied). NULL when out of memory. */
publisher_t *publisher_new (broker_t *broker, const char *app_id);

/* Frees. No-op on NULL. The broker is left as it is. */
void publisher_destroy (publisher_t **self_p);

/* Puts the broker's freshly opened channel in confirm mode; the next
   publish is tag 1. Blocks for at most the RPC timeout. Returns 0, or -1
   (logged): the caller drops the connection. */
int publisher_start (publisher_t *self);

/* Queues msg for the next publisher_flush (a flush also happens here once
   PUBLISHER_FLUSH_BYTES are queued). Returns its publish tag (1, 2, ...
   since publisher_start), or -1 with the reason in *why (static text) when
   the connection is gone or failed, or memory ran out: the caller drops
   the connection. Does not wait for the confirm. */
#define PUBLISHER_FLUSH_BYTES (256 * 1024)
int64_t publisher_publish (publisher_t *self, const publisher_message_t *msg, const char **why);

/* Sends every publish queued since the last flush, in as few writes as the
   socket takes. Blocks until all is written, at most
   PUBLISHER_SEND_TIMEOUT_MS (a broker that reads nothing for that long,
   dead, fails the flush). While the broker blocks the connection's
   publishes (publisher_blocked) nothing is written: the publishes stay
   queued and leave when it unblocks. Returns 0, or -1 with the reason in
   *why (static text): the queued publishes are discarded and the caller
   drops the connection, as after a failed publish. */
#define PUBLISHER_SEND_TIMEOUT_MS 30000
int publisher_flush (publisher_t *self, const char **why);

/* Whether RabbitMQ said connection.blocked (a memory or disk alarm: it
   reads nothing from a publishing connection until connection.unblocked)
   on the current connection; false when there is none. broker.c asks for these notifications at
   login. */
bool publisher_blocked (publisher_t *self);

/* Flushes what is queued (publisher_flush), then reads what the broker
   sent, without blocking, up to the next confirm event; connection.blocked
   holds the output from then on, connection.unblocked sends it. Returns 1 with *event set; 0 when
   nothing more is waiting (the connection's buffers are then released); -1 with the reason in *why
   (static text) when the connection is unusable: socket error, heartbeat timeout, channel or
   connection closed by the server (answered and logged). After -1 the caller drops the connection.
 */
int publisher_poll (publisher_t *self, publisher_event_t *event, const char **why);

#endif
