/*
 * fsync_cases — herald-bench-gateway's fsync columns (issue 12 section 4):
 * the POST /events case against herald-gateway backed by herald-store in
 * each mode (no journal, --fsync no, everysec, always), at the same wrk
 * load as the other cases. Each run gets a fresh store, data dir and
 * gateway, and rounds interleave the modes (the order turned by one each
 * round), so every mode sees the machine as the others did. Between runs
 * it samples this disk's fdatasync latency. The table gives medians, each
 * mode's ratio to `off` (median of the per-round ratios) beside the
 * issue's targets (everysec >= 0.9 x off, always >= 0.5 x off, creates at
 * 64 connections), the mean group-commit batch and fdatasync latency of
 * the measured run from the store's stats, and the CPU per request of
 * gateway + store.
 */
#ifndef HERALD_BENCH_FSYNC_CASES_H
#define HERALD_BENCH_FSYNC_CASES_H

#include "fsync_rounds.h"
#include "wrk_run.h"

#include <stddef.h>
#include <sys/types.h>

#define FSYNC_CASES_MAX_ROUNDS 10

typedef struct {
    fsync_rounds_config_t fsync; /* rounds at most FSYNC_CASES_MAX_ROUNDS */
    int warmup_s, duration_s;
    const char *const *gateway_args; /* extra herald-gateway flags */
    int gateway_argc;
    const pid_t *pids; /* the benchmark's other running children, for "others" */
    int npids;
} fsync_cases_config_t;

/* Runs every round and prints the table. Starts and stops its own stores
   and gateways (by PID, before it returns, interrupted or not). Blocks for
   about rounds x modes x (warmup + duration + a start) seconds. Returns 0,
   or -1 when a run failed or *cfg->fsync.interrupted was set (the table then
   shows the runs that completed). */
int fsync_cases_run (const fsync_cases_config_t *cfg, const wrk_config_t *wrk);

#endif
