/*
 * fsync_rounds — how both benchmarks' fsync columns take turns (issue 12
 * section 4): rounds in which every store mode runs once, the order turned
 * by one each round so no mode always runs first (on a cold machine) or
 * right after the same neighbour, with this disk's own fdatasync latency
 * sampled at the start of each round; then the caller's table and that
 * latency. What a run is (the store's three phases, or wrk against a
 * gateway) and what the table shows stay with the caller.
 */
#ifndef HERALD_BENCH_FSYNC_ROUNDS_H
#define HERALD_BENCH_FSYNC_ROUNDS_H

#include "store_proc.h"

#include <signal.h>
#include <stddef.h>

/* What the fsync columns are given. */
typedef struct {
    const store_mode_t *modes; /* in the order given; `off` is the baseline */
    int nmodes;
    int rounds;
    const char *data_root;              /* data dirs and the fdatasync probe */
    size_t probe_samples;               /* fdatasync samples in all, spread over the rounds */
    volatile sig_atomic_t *interrupted; /* set by a signal: stop after cleaning up */
} fsync_rounds_config_t;

/* The caller's part; arg is passed to each. */
typedef struct {
    void *arg;
    /* At the start of each round, before the probe; may be NULL. */
    void (*round_start) (void *arg, int round);
    /* Runs cfg->modes[m] in round (and prints its line): 0 or -1. */
    int (*run) (void *arg, int m, int round);
    /* Prints the table of the rounds begun. */
    void (*table) (void *arg, int rounds);
} fsync_rounds_fns_t;

/* Runs cfg->rounds rounds, stopping after a failed run or probe or once
   *cfg->interrupted is set, then prints the table and the disk's
   fdatasync latency. Blocks for the whole benchmark. Returns 0, or -1 when
   a run or the probe failed or it was interrupted (the table then covers
   the runs that completed). */
int fsync_rounds_run (const fsync_rounds_config_t *cfg, const fsync_rounds_fns_t *fns);

/* Prints "<title>: N rounds of <modes> (order turned by one each round)"
   with no newline: the caller's line goes on with its own setting. */
void fsync_rounds_print_plan (const fsync_rounds_config_t *cfg, const char *title);

/* A table cell: " %*.*f", or "-" in the same width when v < 0 (a figure
   that does not apply). */
void fsync_rounds_cell (int width, int precision, double v);

#endif
