/*
 * metrics — the notifier's counters and gauges for its /metrics
 * (--metrics-listen, common/metrics_http.h).
 *
 * A plain struct the relay writes as things happen (one thread: the relay's
 * loop renders too, at each scrape), so the hot path pays an increment.
 * Publishes are counted when sent, by change kind, and again as
 * re-publishes when their seq had been published before by this process
 * (after a lost connection, a nack's rewind or a store that was replaced);
 * confirms when RabbitMQ settles them, with the time from publish to
 * basic.ack. The feed gauges are the last feed_read's: what the store
 * holds unacknowledged, and how old the oldest change the relay is working
 * on is (0 when it has caught up).
 */
#ifndef HERALD_NOTIFIER_METRICS_H
#define HERALD_NOTIFIER_METRICS_H

#include "prom.h"

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t published_created, published_updated;
    uint64_t republished;
    uint64_t confirmed, nacked, returned;
    prom_histogram_t confirm_latency;
    uint64_t broker_connects, broker_losses;
    uint64_t store_connects, store_disconnects, store_replaced, store_read_timeouts;
    uint64_t feed_length;   /* unacknowledged in the store, last read */
    int64_t feed_lag_ms;    /* age of the oldest change not yet confirmed, last read */
    uint64_t confirmed_seq; /* highest seq confirmed with nothing missing below */
    uint64_t acked_seq;     /* highest seq acknowledged to the store */
    uint64_t inflight;      /* publishes not yet confirmed */
    bool broker_blocked;    /* RabbitMQ blocks our publishes (connection.blocked) */
} notifier_metrics_t;

/* metrics_render_fn: arg is the notifier_metrics_t. */
char *notifier_metrics_render (void *arg, size_t *len);

#endif
