/*
 * list_pages — herald-bench-store's list section (issue 15, "list by
 * status without a scan"): what one page of `GET /events?status=...`
 * costs the store at a thousand events and at a million: two stores side
 * by side, measured in alternating rounds.
 *
 * Each store holds what a running deployment holds: every event processed
 * but the newest LIST_PAGES_TAIL, which are still pending. Each round
 * times, on each store, one request at a time (so a latency is one page's
 * cost, not a queue's), --list-pages requests of each query:
 *   pending, first page      status=pending, no cursor: the newest events,
 *                            which a scan of creation order reaches last;
 *   processed, middle page   status=processed, after the event in the
 *                            middle;
 *   user+pending, first      one user's pending events: every
 *                            LIST_PAGES_HEAVY_EVERY-th event is that
 *                            user's (half a million at a million), so
 *                            its page of LIST_PAGES_TAIL / 2 pending ones
 *                            sits behind all its processed ones;
 *   user+processed, middle   that user's processed ones after the middle;
 *   no filter, middle page   the same cursor, no filter (creation order:
 *                            the reference, already a direct resume).
 * Each query runs on a new connection, and --list-pages is at most
 * LIST_PAGES_MAX: the store cuts pages short for a peer whose recent
 * replies fill its reply budget (store/peers.h, 4 MiB over its last 2050
 * replies), and 150 pages of 100 events stay under it. Each page must
 * carry exactly LIST_PAGES_LIMIT items (the heavy user's pending page
 * LIST_PAGES_TAIL / LIST_PAGES_HEAVY_EVERY; checked), and the
 * table gives the p50 per page at both sizes and their ratio against the
 * issue's target (status pages at the large size within 1.5 x the small
 * size's).
 *
 * The client and both stores run on one CPU, the one the bench is on when
 * the section starts (sched_setaffinity, inherited by the stores and their
 * threads). On this kind of virtual machine a wake-up on another vCPU,
 * idle and halted, costs about 30 us, twice per request: with the three
 * spread over two CPUs by the scheduler, a page at 1,000 events took
 * either 27 us or 85 us (2026-12-06, bare ZMTP client; one CPU: 27 us
 * every time), so the ratio said where the scheduler put the processes
 * more than what a page costs. The bench's own affinity is restored at
 * the end.
 */
#ifndef HERALD_BENCH_LIST_PAGES_H
#define HERALD_BENCH_LIST_PAGES_H

#include "load.h"

#include <signal.h>
#include <stddef.h>

#define LIST_PAGES_SMALL 1000
#define LIST_PAGES_TAIL 100
#define LIST_PAGES_LIMIT 100
#define LIST_PAGES_TARGET 1.5
#define LIST_PAGES_MAX 150
#define LIST_PAGES_ROUNDS 5
#define LIST_PAGES_HEAVY_EVERY 2

typedef struct {
    size_t events; /* the large size, > LIST_PAGES_SMALL */
    size_t pages;  /* requests timed per query and size */
    size_t window; /* requests in flight while loading */
    load_client_t client;
    volatile sig_atomic_t *interrupted;
} list_pages_config_t;

/* Starts two fresh in-memory herald-stores, loads them, measures them in
   LIST_PAGES_ROUNDS alternating rounds as above, prints the table and
   stops the stores. Blocks for the load of about cfg->events creates and
   updates plus 6 x LIST_PAGES_ROUNDS x cfg->pages pages. Returns 0, or
   -1 when the store failed or a page was not what it should be. */
int list_pages_run (const list_pages_config_t *cfg);

#endif
