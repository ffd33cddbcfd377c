/*
 * backoff — exponential backoff with full jitter, for reconnecting to the
 * store and to RabbitMQ and for the worker's retries. Each failure doubles
 * the ceiling up to a maximum; the delay is drawn uniformly from
 * [ceiling/2, ceiling] so a crowd of clients does not reconnect in lockstep.
 * A plain value type: no allocation.
 */
#ifndef HERALD_BACKOFF_H
#define HERALD_BACKOFF_H

#include <stdint.h>

typedef struct {
    int64_t initial_ms;
    int64_t max_ms;
    int64_t current_ms; /* ceiling of the next delay */
    unsigned attempts;  /* failures since the last reset */
    uint64_t rng;       /* xorshift state */
} backoff_t;

void backoff_init (backoff_t *self, int64_t initial_ms, int64_t max_ms);

/* Returns the delay to wait before the next attempt and grows the ceiling. */
int64_t backoff_next (backoff_t *self);

/* Call after a success: the next failure starts from initial_ms again. */
void backoff_reset (backoff_t *self);

#endif
