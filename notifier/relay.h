/*
 * relay — the notifier's loop: change feed in, confirmed AMQP publishes out,
 * store cursor acknowledged only behind the broker's confirms
 * (docs/ARCHITECTURE.md §4.3, §4.5, §4.7).
 *
 * One thread, one zmq_poll over the store DEALER, the AMQP socket and a SUB
 * on the store's live stream. The live stream is only a doorbell: any
 * message on it makes an idle relay read the feed at once instead of at its
 * next poll; what is read and published always comes from the feed, so a
 * lost or late announcement costs at most one poll interval. After
 * every (re)connection to RabbitMQ the feed is read again from the store's
 * acked cursor, so whatever was published but not confirmed is published
 * again: duplicates are possible, loss is not. While confirms are pending the
 * relay keeps reading ahead with an explicit `from`, up to the window.
 * RabbitMQ is spoken through amqp/publisher.h (publishes out, confirm
 * events in); window.h maps their tags back to feed records.
 *
 * Its positions belong to one store, named by the store_id every feed
 * reply carries (proto/PROTOCOL.md §4.1). A store that restarted empty (in
 * memory) or lost changes makes the relay start over from that store's
 * cursor, with a warning, so a store restart neither skips a change nor
 * wedges the feed. The health file tells whether relaying gets anywhere.
 */
#ifndef HERALD_RELAY_H
#define HERALD_RELAY_H

#include "broker.h"
#include "curve.h"
#include "metrics.h"
#include "metrics_http.h"

#include <signal.h>

typedef struct {
    const char *store_endpoint;
    const char *store_pub_endpoint; /* the store's live stream; NULL = poll only */
    const char *broker_url;
    int batch;                    /* records asked per feed_read, 1..PROTO_FEED_READ_MAX */
    int window;                   /* unconfirmed publishes allowed */
    int heartbeat_s;              /* AMQP heartbeat asked for */
    broker_queue_args_t queue;    /* how the queues are declared (broker_set_queue_args) */
    int poll_ms;                  /* pause between reads while the feed is empty and quiet */
    int drain_ms;                 /* on shutdown, how long to wait for pending confirms */
    const char *health_file;      /* touched while healthy (health.h); NULL none */
    int stall_ms;                 /* changes pending this long with no progress: unhealthy */
    const curve_client_t *curve;  /* CURVE keys for the store's two sockets; NULL = none */
    notifier_metrics_t *metrics;  /* counters the relay keeps (required) */
    metrics_http_t *metrics_http; /* --metrics-listen: scrapes served from the loop; NULL = off */
} relay_config_t;

/* Runs until *stop becomes non-zero, then stops reading, waits up to
   drain_ms for outstanding confirms, acknowledges what was confirmed and
   returns 0. Returns -1 only if it cannot start (bad URL, no memory). */
int relay_run (const relay_config_t *config, volatile sig_atomic_t *stop);

#endif
