/*
 * recovery — herald-bench-store --recovery: how long herald-store takes to
 * come back on a big journal, and how big compaction keeps that journal
 * (issue 12 section 4 targets: 1,000,000 events recovered in <= 3 s; the
 * journal <= 2 x the live data after a compaction).
 *
 * The bench creates the events through the store protocol (pipelined, the
 * feed acknowledged as a notifier would, --fsync no so the load is quick),
 * stops the store, then times restarts on that data dir from outside:
 * from spawning herald-store to its first ping reply (the store binds its
 * port only once the journal is replayed), beside the replay time the
 * store logs itself. Each round starts it twice: once with the journal in
 * the page cache (as after a crash or a quick restart) and once with its
 * pages dropped first (fdatasync, then posix_fadvise DONTNEED on that one
 * file: no root needed, nothing else evicted), as after a reboot; the
 * share of its pages still resident is printed. Each start also checks
 * that every event came back (stats: events).
 *
 * Then it restarts the store with --compact-min-bytes at its minimum and
 * updates the events until a compaction has completed (journal_rewrites),
 * reads journal_bytes and the store's live-data estimate, and times the
 * restarts again on the compacted journal.
 */
#ifndef HERALD_BENCH_RECOVERY_H
#define HERALD_BENCH_RECOVERY_H

#include "load.h"

#include <signal.h>
#include <stddef.h>

#define RECOVERY_MAX_ROUNDS 20

typedef struct {
    size_t events;                      /* created before the first restart */
    size_t window;                      /* requests in flight while loading */
    int rounds;                         /* timed starts per journal and cache state */
    const char *data_root;              /* the data dir goes here */
    load_client_t client;               /* how the load speaks to the store */
    volatile sig_atomic_t *interrupted; /* set by a signal: stop after cleaning up */
} recovery_config_t;

/* Runs it and prints the figures and a summary table. Blocks for about the
   load (events creates, then about as many updates) plus 4 x rounds
   starts. Returns 0, or -1 when a step failed (reported on stderr). */
int recovery_run (const recovery_config_t *cfg);

#endif
