/*
 * seed — what herald-bench-gateway does over HTTP before the load: wait
 * until the gateway reports ready, and create the events whose ids the
 * GET /events/{id} case reads (libcurl, one keep-alive connection).
 */
#ifndef HERALD_BENCH_SEED_H
#define HERALD_BENCH_SEED_H

#include <signal.h>

/* Polls GET base/readyz until it answers 200, for up to timeout_ms or until
 *interrupted. Returns 0 or -1. */
int seed_wait_ready (const char *base, int timeout_ms, volatile sig_atomic_t *interrupted);

/* Creates n events through POST base/events, one after another, and writes
   their ids (from the Location headers), one per line, to ids_path.
   Returns 0, or -1 on the first failure (reported on stderr). */
int seed_events (const char *base, int n, const char *ids_path, volatile sig_atomic_t *interrupted);

/* Writes n well-formed ids that name no event (for --self-check, where the
   floor answers any path). Returns 0 or -1. */
int seed_fake_ids (int n, const char *ids_path);

#endif
