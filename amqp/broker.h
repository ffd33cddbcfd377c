/*
 * broker — one AMQP connection to RabbitMQ as both herald-notifier and
 * herald-worker use it: parse the URL, open the socket with a timeout, log in
 * asking for heartbeats, open channel 1 and declare Herald's topology.
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
 * The topology is declared by both services with identical arguments, so
 * whichever starts first creates it and nothing is ever unroutable:
 *   exchange herald.events (topic, durable)
 *     └─ event.created → queue herald.notifications (durable,
 *                          x-dead-letter-exchange herald.dead,
 *                          x-max-length N, x-overflow reject-publish)
 *   exchange herald.dead (fanout, durable) → queue herald.notifications.dead
 *
 * The length bound makes a backlog with no worker push back instead of
 * growing RabbitMQ until its memory or disk alarm blocks every publisher:
 * a full queue nacks the notifier's publishes, the notifier holds the feed,
 * the feed fills and the API answers 503 (docs/ARCHITECTURE.md §4.7). The
 * bound is a queue argument, not a policy, so a fresh broker needs no
 * rabbitmqctl step; a queue that exists with other arguments fails the
 * declare with PRECONDITION_FAILED, which broker_connect reports with what
 * to do (delete the empty queue, or --queue-max 0 and a policy) and the
 * caller retries with its backoff like any failed connection.
 */
#ifndef HERALD_BROKER_H
#define HERALD_BROKER_H

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

#define BROKER_URL_DEFAULT "amqp://guest:guest@127.0.0.1:5672/"
#define BROKER_URL_MAX 1024         /* a URL with the password of a file put in */
#define BROKER_PASSWORD_MAX 256     /* bytes of a password file, line break excluded */
#define BROKER_HEARTBEAT_DEFAULT 30 /* seconds */
#define BROKER_CONNECT_TIMEOUT_MS 5000
#define BROKER_RPC_TIMEOUT_MS 10000 /* declares, qos, confirm.select */
#define BROKER_RETRY_INITIAL_MS 100
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

/* The two settings every broker client takes (common/options.h entries),
   written once for the notifier and the worker. The URL holds a password:
   give it by environment or file, never in argv, where ps shows it. */
#define BROKER_OPTION_URL                                                                          \
    OPTION_SC ("amqp-url", "HERALD_AMQP_URL", BROKER_URL_DEFAULT, "URL",                           \
               "broker (holds a password: prefer the environment, argv is visible in ps)",         \
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

typedef struct _broker_t broker_t;

/* Checks that url parses as amqp://user:pass@host:port/vhost. Returns 0, or
   -1 with the reason in err. */
int broker_url_check (const char *url, char *err, size_t size);

/* The URL to connect with, into out (size bytes): url itself when
   password_file is NULL, else url with its password replaced by the one in
   password_file (HERALD_AMQP_PASSWORD_FILE: a secret in a file, never in
   argv or in the environment of a container). The file holds the password
   alone; one final line break is not part of it. The URL must name a user.
   Returns 0, or -1 after logging why (naming the file, never quoting its
   content or the URL's password). Blocks on reading the file. */
int broker_url_with_password_file (const char *url, const char *password_file, char *out,
                                   size_t size);

/* The same for a service's options: its "amqp-url" and
   "amqp-password-file" (both must be in its table). Returns out, or NULL
   after logging why. */
const char *broker_url_from_options (options_t *opts, char *out, size_t size);

/* Creates a disconnected broker for url (copied). heartbeat_s 0 disables
   heartbeats (not recommended). Returns NULL if the URL does not parse. */
broker_t *broker_new (const char *url, int heartbeat_s);

/* Sets the x-max-length declared on BROKER_QUEUE from the next
   broker_connect (BROKER_QUEUE_MAX_DEFAULT until then); 0 declares no bound
   and no overflow behaviour at all, for a queue bounded by a policy. */
void broker_set_queue_max (broker_t *self, long queue_max);
long broker_queue_max (broker_t *self);

/* Disconnects (without waiting on a dead peer) and frees. No-op on NULL. */
void broker_destroy (broker_t **self_p);

/* Opens a new connection: socket with BROKER_CONNECT_TIMEOUT_MS, login with
   the heartbeat, channel BROKER_CHANNEL, RPC timeout, topology. Blocks for at
   most a few seconds. Returns 0, or -1 (logged) leaving self disconnected.
   On success the retry backoff is reset. A BROKER_QUEUE that exists with
   other arguments is logged as an error saying how to fix it; it is a
   failure like any other, retried by the caller after broker_retry_delay_ms. */
int broker_connect (broker_t *self);

/* Closes the channel and connection politely if still connected, then frees
   the connection state. Safe when already disconnected. */
void broker_disconnect (broker_t *self);

/* Forgets the connection without the close handshake (after a socket error,
   heartbeat timeout or a close from the server). */
void broker_drop (broker_t *self);

bool broker_connected (broker_t *self);

/* Socket descriptor to poll for readability, or -1. Before polling, check
   broker_has_buffered: buffered frames never wake a poll. */
int broker_fd (broker_t *self);

/* True when the library already holds frames or bytes read from the socket
   (so a poll on broker_fd would wait for nothing): read them first. False
   when disconnected. */
bool broker_has_buffered (broker_t *self);

/* Delay before the next connection attempt (backoff with jitter). */
int64_t broker_retry_delay_ms (broker_t *self);

/* Host and port the URL names (borrowed), for logs. */
const char *broker_host (broker_t *self);
int broker_port (broker_t *self);

#endif
