/*
 * metrics — the store's /metrics (--metrics-listen): the stats op's numbers
 * under Prometheus names, operations by type and result, and a latency
 * histogram per operation.
 *
 * Rendered on the store's loop thread (common/metrics_http.h), so it reads
 * the dispatcher's plain counters directly. Every stat the stats op reports
 * has a Prometheus name here (store/test_metrics.c checks it), so a stat
 * added to the one is not silently missing from the other.
 */
#ifndef HERALD_STORE_METRICS_H
#define HERALD_STORE_METRICS_H

#include "dispatch.h"
#include "persist.h"

#include <stdbool.h>
#include <stddef.h>

/* What the store's metrics are read from (borrowed). */
typedef struct {
    dispatch_t *dispatch;
    persist_t *persist; /* NULL without a data dir */
} store_metrics_t;

/* metrics_render_fn: arg is a store_metrics_t. */
char *store_metrics_render (void *arg, size_t *len);

/* Whether the stats op's stat name has a Prometheus name here. */
bool store_metrics_knows (const char *stat, size_t len);

#endif
