/*
 * consumer — the worker's loop: consume herald.notifications with a prefetch
 * window and manual acks, print each notification, mark its event processed
 * through the gateway, and only then ack (docs/ARCHITECTURE.md §4.4, §4.6).
 *
 * Up to `prefetch` messages are held at once, and up to `http_connections`
 * of them have a request at the gateway: each delivery becomes a job whose
 * HTTP requests run on the gateway client's multi handle (a job that finds
 * every connection busy waits for one, first come first served; a retry's
 * wait holds none), and one poll
 * waits on those transfers and on the AMQP socket together, so the
 * connection to RabbitMQ is serviced (deliveries, heartbeats, closes) while
 * requests are in flight and while retries wait. Deliveries, acks and
 * rejects go through amqp/subscription.h; no AMQP frame is seen here.
 *
 * A transient gateway failure is retried with backoff; after max_attempts the
 * message is rejected without requeue and RabbitMQ dead-letters it to
 * herald.notifications.dead. A redelivered message (or one whose body already
 * says "processed": the notifier published it again after a restart) is
 * first checked with GET: if its event reads "processed" it is acked without
 * printing again. An event the store does not know (404: an in-memory store
 * restarted) is handled the same whether the message is redelivered or not:
 * the line is printed, the PUT answers 404, which is logged, counted and
 * acked. Only a message that itself says "processed" is not printed then:
 * its line went out before. Delivery tags die with their connection: a
 * job whose connection dropped finishes its request but is never acked (the
 * broker redelivers it), and no new connection is opened until such jobs are
 * gone. On stop, no new message is started; requests in flight are finished
 * and acked, and everything else goes back to the queue when the channel
 * closes.
 */
#ifndef HERALD_CONSUMER_H
#define HERALD_CONSUMER_H

#include "broker.h"
#include "metrics.h"
#include "metrics_http.h"

#include <signal.h>

typedef struct {
    const char *broker_url;
    const char *gateway_url;
    const char *gateway_token; /* bearer token for the gateway, NULL for none */
    int prefetch;              /* unacked deliveries held at once (basic.qos) */
    int http_connections;      /* HTTP requests in flight at most (each its connection) */
    int max_attempts;          /* gateway attempts before dead-lettering */
    int http_timeout_ms;
    int heartbeat_s;
    broker_queue_args_t queue; /* how the queues are declared (broker_set_queue_args) */
    int retry_initial_ms;      /* first retry delay ceiling; doubles up to retry_max_ms */
    int retry_max_ms;
    const char *health_file;      /* touched while consuming (health.h); NULL none */
    worker_metrics_t *metrics;    /* counters the consumer keeps (required) */
    metrics_http_t *metrics_http; /* --metrics-listen: scrapes served from the loop; NULL = off */
} consumer_config_t;

/* Runs until *stop becomes non-zero, then finishes the requests in flight
   and returns 0. Returns -1 if it cannot start, or once stdout refused a
   notification line (it stops then, leaving every message it had not acked
   to the broker). */
int consumer_run (const consumer_config_t *config, volatile sig_atomic_t *stop);

#endif
