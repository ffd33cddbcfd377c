/*
 * metrics — the worker's counters for its /metrics (--metrics-listen,
 * common/metrics_http.h).
 *
 * A plain struct the consumer writes as deliveries go through it (one
 * thread: the consumer's loop renders too, at each scrape). Every delivery
 * ends exactly one way — acked (printed, already processed, or not found)
 * or dead-lettered — or goes back to the broker unacked (a lost connection
 * or a stop) to be delivered again, counted as redelivered then.
 */
#ifndef HERALD_WORKER_METRICS_H
#define HERALD_WORKER_METRICS_H

#include "prom.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t deliveries, redelivered;
    uint64_t printed;
    uint64_t acked, already_processed, not_found;
    uint64_t retried, dead_lettered, undecodable;
    prom_histogram_t http_latency; /* each GET / PUT to the gateway */
    uint64_t http_errors;          /* requests that failed (transient or permanent) */
    uint64_t broker_connects, broker_losses;
    uint64_t inflight; /* deliveries held (in an HTTP request, waiting for one, or to retry) */
    uint64_t waiting;  /* of those, waiting for an HTTP connection (--http-connections) */
} worker_metrics_t;

/* metrics_render_fn: arg is the worker_metrics_t. */
char *worker_metrics_render (void *arg, size_t *len);

#endif
