/*
 * view — herald-stat's line: what one round of scrapes says, and the rates
 * between two rounds, in the manner of `redis-cli --stat`.
 *
 * A point is read from the services' metrics (sample.h): the store's
 * creates and updates, the feed's length, the notifier's confirms and lag,
 * the workers' lines printed, deliveries held, retries and dead letters
 * (summed over every worker), the gateway's 5xx answers. A service that
 * did not answer leaves its columns "-" on that line; a counter that went
 * down (the service restarted) gives "-" for its rate on that line, not a
 * negative one.
 */
#ifndef HERALD_STAT_VIEW_H
#define HERALD_STAT_VIEW_H

#include "sample.h"

#include <stdbool.h>
#include <stdio.h>

#define VIEW_HEADER_EVERY 20 /* lines between headers */

typedef struct {
    bool gateway, store, notifier, workers; /* answered this round (workers: all of them) */
    double creates, updates;                /* store operations ok */
    double feed_length;
    double confirmed, lag_s;
    double printed, inflight, retries, dead;
    double server_errors; /* gateway 5xx answers */
} view_point_t;

/* Reads a point from this round's scrapes; NULL = that service did not
   answer (workers: any NULL marks the workers' columns down). */
void view_point (view_point_t *out, const scrape_t *gateway, const scrape_t *store,
                 const scrape_t *notifier, const scrape_t *const workers[], size_t n_workers);

void view_header (FILE *out);

/* One line: rates from prev to now over seconds, gauges from now; queue is
   herald.notifications' ready messages, or < 0 when unknown. */
void view_line (FILE *out, const char *clock, const view_point_t *prev, const view_point_t *now,
                double seconds, long queue);

#endif
