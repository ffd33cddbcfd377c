/*
 * modes — herald-bench-store's fsync columns (issue 12 section 4): the
 * create, get and update phases against herald-store in each mode (no
 * journal, --fsync no, everysec, always), each run on a fresh store and a
 * fresh data dir, rounds interleaved the way herald-bench-gateway pairs
 * its cases, so every mode sees the machine as it was during the others.
 * Between the runs of a round it samples this disk's fdatasync latency.
 * Prints one line per run and then the table: medians over the rounds,
 * each mode's ratio to `off` (median of the per-round ratios), and from
 * the store's own stats after the run, the mean group-commit batch and the
 * mean and max fdatasync latency.
 */
#ifndef HERALD_BENCH_MODES_H
#define HERALD_BENCH_MODES_H

#include "fsync_rounds.h"
#include "load.h"

#include <stdbool.h>
#include <stddef.h>

#define MODES_MAX_ROUNDS 20

typedef struct {
    fsync_rounds_config_t fsync; /* rounds at most MODES_MAX_ROUNDS */
    size_t ops;                  /* per phase */
    size_t window;               /* requests in flight */
    size_t batch;                /* > 1: `off` runs the phases again, batch requests per message */
    bool peers;                  /* Redis beside herald-store (peer_redis.h) */
    load_client_t client;        /* how the load speaks to the store */
} modes_config_t;

/* Runs every round and prints the table. Blocks for about rounds x modes
   x 3 phases of cfg->ops operations. Returns 0, or -1 when a run failed
   (the table then shows the rounds that completed). */
int modes_run (const modes_config_t *cfg);

#endif
