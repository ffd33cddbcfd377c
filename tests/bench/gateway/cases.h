/*
 * cases — the benchmark cases of herald-bench-gateway and their table.
 * Each case is a pair of wrk runs with the same client load (same wrk
 * script mode, so wrk's own per-request cost is the same on both sides):
 * first against the floor, then against the target. Pairs run back to
 * back, so both sides see the same machine; the ratio is taken within each
 * pair and its median over the rounds is what the table judges. Each run
 * also reports how much CPU other processes on the machine took meanwhile,
 * and a second table where each side's CPU went: microseconds of CPU per
 * request of the server side (the floor; the gateway and the store) and of
 * wrk, the machine's busy share, and the ratio CPU alone allows (below).
 */
#ifndef HERALD_BENCH_CASES_H
#define HERALD_BENCH_CASES_H

#include "wrk_run.h"

#include <stdbool.h>
#include <sys/types.h>

#define CASES_MAX_ROUNDS 10
#define CASES_P99_TARGET_MS 5.0

typedef struct {
    int rounds;        /* 1..CASES_MAX_ROUNDS */
    int warmup_s;      /* per run, 0 = none */
    int duration_s;    /* per measured run */
    bool self_check;   /* the target is a second floor */
    const pid_t *pids; /* every process the benchmark started, for "others" */
    int npids;
    const pid_t *floor_pids; /* the floor's side (herald-bench-floor) */
    int nfloor;
    const pid_t *target_pids; /* the target's side (herald-gateway, herald-store) */
    int ntarget;
} cases_config_t;

/* Runs every case for cfg->rounds rounds against floor_url and target_url
   (base URLs, "http://127.0.0.1:PORT") and prints the table. Blocks for
   about 2 x cases x rounds x (warmup + duration) seconds. Returns 0, or -1
   if a wrk run failed or *wrk->interrupted was set (the table then shows
   what ran). */
int cases_run (const cases_config_t *cfg, const wrk_config_t *wrk, const char *floor_url,
               const char *target_url);

#endif
