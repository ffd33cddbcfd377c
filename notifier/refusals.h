/*
 * refusals — an episode of publishes RabbitMQ refused (basic.nack: a full
 * herald.notifications under x-overflow reject-publish), as the relay
 * lives through it: from the first nack to the first confirm of a publish
 * made after the window rewound (relay.c). It counts the nacks, gives the
 * growing wait before the relay reads the feed again, and logs: the
 * first nack says what is happening and what to do, a queue that stays
 * full is logged every REFUSALS_LOG_MS, and the end says how long it
 * lasted. A plain value type: no allocation.
 */
#ifndef HERALD_REFUSALS_H
#define HERALD_REFUSALS_H

#include "backoff.h"

#include <stdbool.h>
#include <stdint.h>

#define REFUSALS_INITIAL_MS 200 /* first wait after a nack before publishing again */
#define REFUSALS_MAX_MS 5000    /* ceiling of that wait while the queue stays full */
#define REFUSALS_LOG_MS 30000   /* a queue that stays full is logged this often */

typedef struct {
    backoff_t delay; /* wait before reading again; reset when the episode ends */
    uint64_t count;  /* nacks in this episode, 0 = none */
    int64_t since;   /* mono ms of the episode's first nack */
    int64_t logged;  /* mono ms of its last log line */
    long queue_max;  /* herald.notifications' x-max-length, 0 = unset (for the log) */
} refusals_t;

/* No episode; queue_max is what the first nack's log line names. */
void refusals_init (refusals_t *self, long queue_max);

/* Counts a nack at now (mono ms) and logs as above. Returns true when it
   starts an episode. */
bool refusals_note (refusals_t *self, int64_t now);

/* The wait (ms) before reading the feed again after a rewind: it grows
   with every rewind of the episode. */
int64_t refusals_wait (refusals_t *self);

/* True during an episode. */
bool refusals_active (const refusals_t *self);

/* Ends the episode at now: logs its totals; the next episode's waits start
   from REFUSALS_INITIAL_MS again. */
void refusals_end (refusals_t *self, int64_t now);

#endif
