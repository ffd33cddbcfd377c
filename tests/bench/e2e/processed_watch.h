/*
 * processed_watch — when each bench event became `processed`, seen from the
 * store's live PUB stream (an observer, which is what that stream is for):
 * the moment the store applies a worker's PUT {"status":"processed"} is the
 * moment the event is processed. bench_e2e times latencies and rates with
 * it, bench_capacity the workers' drain rate.
 *
 * A subscriber thread with its own ZeroMQ context and SUB socket (a socket
 * belongs to one thread) decodes every event.updated notification, and
 * stamps event k (0 <= k < total) the first time it reads processed with the
 * description "<prefix><k>". The description "warmup" sets a flag of its
 * own, so a caller can prove the subscription is live before its clock
 * starts. PUB may drop under load (a high-water mark, a slow joiner): the
 * counts are what was seen, and callers check the total through the API.
 */
#ifndef HERALD_BENCH_PROCESSED_WATCH_H
#define HERALD_BENCH_PROCESSED_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#define PROCESSED_WATCH_PREFIX_MAX 32

typedef struct _processed_watch_t processed_watch_t;

/* Subscribes to the store's PUB at tcp://127.0.0.1:pub_port and starts the
   thread watching events "<prefix>0" .. "<prefix><total-1>" (prefix is
   copied, at most PROCESSED_WATCH_PREFIX_MAX bytes). NULL when memory or
   the thread cannot be had. */
processed_watch_t *processed_watch_start (int pub_port, const char *prefix, int total);

/* Stops the thread and frees everything. No-op on NULL; *self_p = NULL. */
void processed_watch_stop (processed_watch_t **self_p);

/* Events seen processed so far. */
int processed_watch_seen (processed_watch_t *self);

/* Whether a "warmup" event has been seen processed. */
bool processed_watch_warm (processed_watch_t *self);

/* Polls (1 ms naps) until n events are seen or timeout_ms passes; returns
   the count seen. */
int processed_watch_wait (processed_watch_t *self, int n, int timeout_ms);

/* clock_mono_us when event k was seen processed, 0 if not (yet). Read it
   once the events are all seen or the thread is stopped. */
int64_t processed_watch_at (processed_watch_t *self, int k);

#endif
