/*
 * broker — one AMQP connection to RabbitMQ as both herald-notifier and
 * herald-worker use it: to one node of a list (broker_url.h), opening the
 * socket with a timeout, logging in asking for heartbeats, opening channel 1
 * and declaring Herald's topology.
 * amqp/publisher.h (the notifier's confirmed publishes) and
 * amqp/subscription.h (the worker's deliveries and acks) work on a connected
 * broker; rabbitmq-c itself stays inside amqp/ (broker_raw.h is the door
 * for amqp/'s own files and the tests' harness).
 *
 * rabbitmq-c 0.11 has no background thread and no automatic recovery: the
 * caller's loop must read from the connection (publisher_poll or
 * subscription_next) at least every heartbeat/2, which is also what sends
 * our heartbeats, and on any error it calls broker_drop, waits
 * broker_retry_delay_ms and connects again. Everything the old connection
 * handed out (delivery tags, publish tags) is void after that.
 *
 * Failover: with several URLs (the nodes of one cluster) each attempt goes
 * to one node; a failed attempt or a lost connection moves to the next node
 * in turn (round robin from the one after the node that failed), with the
 * same backoff and jitter as one node, and the log names the node. A node
 * that stays down costs one attempt per round, not a stall.
 *
 * The topology is declared by both services with identical arguments, so
 * whichever starts first creates it and nothing is ever unroutable:
 *   exchange herald.events (topic, durable)
 *     └─ event.created → queue herald.notifications (durable,
 *                          x-dead-letter-exchange herald.dead,
 *                          x-max-length N, x-overflow reject-publish
 *                          [quorum: x-queue-type quorum, x-delivery-limit L])
 *   exchange herald.dead (fanout, durable) → queue herald.notifications.dead
 *                                            [quorum: x-queue-type quorum]
 *
 * --queue-type quorum makes both queues Raft-replicated quorum queues
 * (RabbitMQ 3.10 accepts every argument above on them: durable, not
 * exclusive, not auto-delete, x-max-length with drop-head or
 * reject-publish), and gives the work queue a delivery limit: a message
 * returned to the queue more than L times (its consumers died or
 * disconnected holding it) is dead-lettered by the broker, so a poison
 * message cannot take down workers for ever. Classic queues have no such
 * limit; on both types the worker also counts its own attempts at the
 * gateway (--max-attempts) and dead-letters past them.
 *
 * The length bound makes a backlog with no worker push back instead of
 * growing RabbitMQ until its memory or disk alarm blocks every publisher:
 * a full queue nacks the notifier's publishes, the notifier holds the feed,
 * the feed fills and the API answers 503 (docs/ARCHITECTURE.md §4.7). The
 * bound is a queue argument, not a policy, so a fresh broker needs no
 * rabbitmqctl step; a queue that exists with other arguments fails the
 * declare with PRECONDITION_FAILED, which broker_connect reports with what
 * to do (delete the empty queue, or --queue-max 0 and a policy) and the
 * caller retries with its backoff like any failed connection. A queue of
 * the other type (or, quorum, another delivery limit) is a conflict no
 * retry can settle: broker_connect says so once, naming the queue, the two
 * values and what to do, and returns BROKER_CONFLICT so the service exits.
 */
#ifndef HERALD_BROKER_H
#define HERALD_BROKER_H

#include "broker_url.h"
#include "options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROKER_EXCHANGE "herald.events"
#define BROKER_QUEUE "herald.notifications"
#define BROKER_DEAD_EXCHANGE "herald.dead"
#define BROKER_DEAD_QUEUE "herald.notifications.dead"
#define BROKER_CREATED_KEY "event.created"
#define BROKER_CHANNEL 1

#define BROKER_HEARTBEAT_DEFAULT 30 /* seconds */
#define BROKER_CONNECT_TIMEOUT_MS 5000
#define BROKER_RPC_TIMEOUT_MS 10000 /* declares, qos, confirm.select */
#define BROKER_RETRY_INITIAL_MS 100
/* After a connection that worked is lost, the first new attempt waits this
   long more (plus the backoff's jitter). A node killed takes its quorum
   queues' leaders with it; the survivors elect new ones within a second or
   so. Measured here on RabbitMQ 3.10.8: a channel opened on a survivor
   before that (100 ms after the kill) had every publish nacked and every
   delivery withheld for as long as it stayed open (60 s and more), while one
   opened after the election worked at once. The 3.10 queue client takes the
   leader from the queue's record, which lags an election (fixed in 3.11+
   by rabbitmq-server#9241). A single node restarting takes longer than this
   anyway. */
#define BROKER_LOST_DELAY_MS 2000
#define BROKER_RETRY_MAX_MS 5000
/* Ready messages herald.notifications holds before it refuses publishes.
   As many as the store's feed holds by default (store/feed.h
   FEED_MAX_DEFAULT): a worker outage then has twice the feed's room before
   the API answers 503, and 100,000 persistent notifications of a few
   hundred bytes are tens of MB, far below RabbitMQ's default memory
   watermark (40 % of RAM) and disk limit, so the bound, not an alarm that
   blocks every publisher, is what stops a backlog. */
#define BROKER_QUEUE_MAX_DEFAULT 100000
#define BROKER_QUEUE_MAX_MAX 100000000
/* Deliveries of one message a quorum herald.notifications allows before
   the broker dead-letters it: a message handed to consumers that all died
   or lost their connection holding it. Far above what a failover or a
   worker restart causes (one or two redeliveries), low enough that a
   message that kills every worker stops within minutes. */
#define BROKER_DELIVERY_LIMIT_DEFAULT 20
#define BROKER_DELIVERY_LIMIT_MAX 1000000
/* broker_connect's answer to a queue that exists with another type or
   delivery limit: an operator must act, retrying cannot help. */
#define BROKER_CONFLICT (-2)

/* The two settings every broker client takes (common/options.h entries),
   written once for the notifier and the worker. The URL holds a password:
   give it by environment or file, never in argv, where ps shows it. */
#define BROKER_OPTION_URL                                                                          \
    OPTION_SC ("amqp-url", "HERALD_AMQP_URL", BROKER_URL_DEFAULT, "URL",                           \
               "broker, or several nodes of one cluster as URL,URL,... (at most " OPTION_XSTR (    \
                   BROKER_URLS_MAX) "; the next is tried when one fails). Holds a "                \
                                    "password: prefer the environment, argv is visible in ps",     \
               broker_url_check)
#define BROKER_OPTION_PASSWORD_FILE                                                                \
    OPTION_S ("amqp-password-file", "HERALD_AMQP_PASSWORD_FILE", NULL, "PATH",                     \
              "the broker password, read from this file instead of --amqp-url")
#define BROKER_OPTION_HEARTBEAT                                                                    \
    OPTION_I ("heartbeat", "HERALD_AMQP_HEARTBEAT", OPTION_XSTR (BROKER_HEARTBEAT_DEFAULT), 0,     \
              3600, "S", "AMQP heartbeat seconds, 0 = off")
/* Both services declare the queue, with identical arguments: give both the
   same value. */
#define BROKER_OPTION_QUEUE_MAX                                                                    \
    OPTION_I ("queue-max", "HERALD_QUEUE_MAX", OPTION_XSTR (BROKER_QUEUE_MAX_DEFAULT), 0,          \
              BROKER_QUEUE_MAX_MAX, "N",                                                           \
              "messages " BROKER_QUEUE " holds before refusing publishes (x-max-length, "          \
              "reject-publish); 0 = no argument (bound it with a policy); same on notifier and "   \
              "worker")

#define BROKER_OPTION_QUEUE_TYPE                                                                   \
    OPTION_C ("queue-type", "HERALD_QUEUE_TYPE", "classic", "classic|quorum",                      \
              "type of " BROKER_QUEUE " and " BROKER_DEAD_QUEUE " (quorum: replicated on a "       \
              "cluster, with --delivery-limit); same on notifier and worker")
#define BROKER_OPTION_DELIVERY_LIMIT                                                               \
    OPTION_I ("delivery-limit", "HERALD_DELIVERY_LIMIT",                                           \
              OPTION_XSTR (BROKER_DELIVERY_LIMIT_DEFAULT), 1, BROKER_DELIVERY_LIMIT_MAX, "N",      \
              "quorum only: deliveries of a message before RabbitMQ dead-letters it "              \
              "(x-delivery-limit); same on notifier and worker")

typedef enum {
    BROKER_QUEUE_CLASSIC = 0, /* the index of "classic" in --queue-type's choices */
    BROKER_QUEUE_QUORUM,
} broker_queue_type_t;

/* The arguments herald.notifications (and its dead-letter queue) are
   declared with. Every notifier and worker must agree on them. */
typedef struct {
    long max;                 /* x-max-length with reject-publish, 0 = none */
    broker_queue_type_t type; /* classic or quorum */
    long delivery_limit;      /* x-delivery-limit, quorum only */
} broker_queue_args_t;

/* The queue arguments of a service's options: "queue-max", "queue-type"
   and "delivery-limit" (all in its table). */
broker_queue_args_t broker_queue_args_from_options (options_t *opts);

/* "classic" or "quorum". */
const char *broker_queue_type_name (broker_queue_type_t type);

typedef struct _broker_t broker_t;

/* Creates a disconnected broker for url, one URL or a list of them
   (broker_url_check; copied); the first connection attempt goes to the
   first URL. heartbeat_s 0 disables heartbeats (not recommended). Returns
   NULL if the list does not parse. */
broker_t *broker_new (const char *url, int heartbeat_s);

/* Sets the x-max-length declared on BROKER_QUEUE from the next
   broker_connect (BROKER_QUEUE_MAX_DEFAULT until then); 0 declares no bound
   and no overflow behaviour at all, for a queue bounded by a policy. */
void broker_set_queue_max (broker_t *self, long queue_max);
/* Sets all the queue arguments from the next broker_connect (classic,
   BROKER_QUEUE_MAX_DEFAULT, until then). */
void broker_set_queue_args (broker_t *self, const broker_queue_args_t *args);
/* The queue arguments declared (borrowed). */
const broker_queue_args_t *broker_queue_args (broker_t *self);

/* Disconnects (without waiting on a dead peer) and frees. No-op on NULL. */
void broker_destroy (broker_t **self_p);

/* Opens a new connection to the current node of the list: socket with
   BROKER_CONNECT_TIMEOUT_MS, login with the heartbeat, channel
   BROKER_CHANNEL, RPC timeout, topology. Blocks for at most a few seconds.
   Returns 0, or -1 (logged) leaving self disconnected and the next node
   current. On success the retry backoff is reset. A BROKER_QUEUE that
   exists with another x-max-length is logged as an error saying how to fix
   it; it is a failure like any other, retried by the caller after
   broker_retry_delay_ms. One that exists with another type or delivery
   limit is logged as such and returns BROKER_CONFLICT: the caller stops. */
int broker_connect (broker_t *self);

/* Closes the channel and connection politely if still connected, then frees
   the connection state. Safe when already disconnected. */
void broker_disconnect (broker_t *self);

/* Forgets the connection without the close handshake (after a socket error,
   heartbeat timeout or a close from the server). When there was one, the
   next node of the list becomes current. */
void broker_drop (broker_t *self);

bool broker_connected (broker_t *self);

/* Socket descriptor to poll for readability, or -1. Before polling, check
   broker_has_buffered: buffered frames never wake a poll. */
int broker_fd (broker_t *self);

/* True when the library already holds frames or bytes read from the socket
   (so a poll on broker_fd would wait for nothing): read them first. False
   when disconnected. */
bool broker_has_buffered (broker_t *self);

/* Delay before the next connection attempt (backoff with jitter; the first
   after a lost connection adds BROKER_LOST_DELAY_MS). */
int64_t broker_retry_delay_ms (broker_t *self);

/* Host and port of the current node (borrowed), for logs. */
const char *broker_host (broker_t *self);
int broker_port (broker_t *self);
/* Nodes in the list, and the index of the current one (0-based). */
int broker_nodes (broker_t *self);
int broker_node (broker_t *self);

#endif
