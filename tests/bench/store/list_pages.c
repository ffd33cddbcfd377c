/*
 * list_pages — see list_pages.h. Two stores run side by side, one at
 * LIST_PAGES_SMALL events and one at the large size, and every round
 * measures each query on both back to back: on a shared machine a figure
 * taken ten seconds later is another machine, so the ratio is taken
 * within each round and its median over the rounds is what is judged.
 */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
#include "list_pages.h"

#include "harness.h"
#include "load.h"
#include "store_proc.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#define S_CHUNK 100000 /* creates between feed acks */
#define S_START_MS 10000
#define S_STOP_MS 30000

enum {
    S_PENDING_FIRST,
    S_PROCESSED_MIDDLE,
    S_USER_PENDING_FIRST,
    S_USER_PROCESSED_MIDDLE,
    S_ALL_MIDDLE,
    S_QUERIES
};

static const char *s_names[S_QUERIES] = { "pending, first page", "processed, middle page",
                                          "user+pending, first", "user+processed, middle",
                                          "no filter, middle page" };

/* One store and its load. */
typedef struct {
    store_proc_t proc;
    load_t *load;
    size_t size;
} side_t;

/* Starts a store and grows it to `size` events, the newest
   LIST_PAGES_TAIL pending and every older one processed. */
static int
s_side_start (side_t *side, const char *name, size_t size, const list_pages_config_t *cfg)
{
    char log[1024];
    snprintf (log, sizeof log, "%s/store-list-%s.log", harness_tmpdir (), name);
    side->size = size;
    if (store_proc_spawn (&side->proc, STORE_MODE_OFF, NULL, "warn", NULL, log) != 0
        || store_proc_wait (&side->proc, S_START_MS) != 0
        || !(side->load = load_new (side->proc.endpoint, cfg->client, size, cfg->interrupted)))
        return -1;
    load_set_heavy (side->load, LIST_PAGES_HEAVY_EVERY);
    for (size_t have = 0; have < size; have += S_CHUNK) {
        size_t n = size - have < S_CHUNK ? size - have : S_CHUNK;
        if (load_create (side->load, n, cfg->window, NULL) != 0 || load_ack (side->load) != 0)
            return -1;
    }
    if (load_ids (side->load) != size)
        return -1;
    size_t upto = size - LIST_PAGES_TAIL;
    for (size_t done = 0; done < upto; done += S_CHUNK) {
        size_t n = upto - done < S_CHUNK ? upto - done : S_CHUNK;
        if (load_mark (side->load, done, n, "processed", cfg->window) != 0
            || load_ack (side->load) != 0)
            return -1;
    }
    return 0;
}

static int
s_side_stop (side_t *side)
{
    load_destroy (&side->load);
    return store_proc_stop (&side->proc, S_STOP_MS);
}

/* Times query q on one side: the p50 per page, microseconds, into *p50_us. */
static int
s_measure (side_t *side, int q, size_t pages, double *p50_us)
{
    const load_query_t queries[S_QUERIES] = {
        [S_PENDING_FIRST] = { NULL, "pending", LIST_PAGES_LIMIT, LOAD_NO_CURSOR },
        [S_PROCESSED_MIDDLE] = { NULL, "processed", LIST_PAGES_LIMIT, side->size / 2 },
        [S_USER_PENDING_FIRST] = { LOAD_HEAVY_USER, "pending", LIST_PAGES_LIMIT, LOAD_NO_CURSOR },
        [S_USER_PROCESSED_MIDDLE] = { LOAD_HEAVY_USER, "processed", LIST_PAGES_LIMIT,
                                      side->size / 2 },
        [S_ALL_MIDDLE] = { NULL, NULL, LIST_PAGES_LIMIT, side->size / 2 },
    };
    /* The heavy user's pending events: its share of the pending tail. */
    size_t items =
        q == S_USER_PENDING_FIRST ? LIST_PAGES_TAIL / LIST_PAGES_HEAVY_EVERY : LIST_PAGES_LIMIT;
    load_result_t result;
    size_t fewest, most;
    /* A new connection is a new peer with its whole reply budget. */
    if (load_reconnect (side->load, side->proc.endpoint) != 0
        || load_list (side->load, &queries[q], pages, &result, &fewest, &most) != 0)
        return -1;
    if (fewest != items || most != items) {
        fprintf (stderr, "bench: %s at %zu events: pages of %zu..%zu items, not %zu\n", s_names[q],
                 side->size, fewest, most, items);
        return -1;
    }
    *p50_us = result.p50_ms * 1000.0;
    return 0;
}

static void
s_print_table (const list_pages_config_t *cfg, int rounds, double small[][LIST_PAGES_ROUNDS],
               double large[][LIST_PAGES_ROUNDS])
{
    printf ("\n%-24s %12s %12s %7s  %-8s %s\n", "list, limit 100", "1000 ev us", "large us",
            "ratio", "target", "verdict");
    for (int q = 0; q < S_QUERIES; q++) {
        double ratios[LIST_PAGES_ROUNDS];
        for (int r = 0; r < rounds; r++)
            ratios[r] = small[q][r] > 0 ? large[q][r] / small[q][r] : 0;
        double ratio = harness_median (ratios, rounds);
        bool judged = q != S_ALL_MIDDLE;
        char target[16] = "-";
        if (judged)
            snprintf (target, sizeof target, "<=%.1fx", LIST_PAGES_TARGET);
        printf ("%-24s %12.1f %12.1f %7.2f  %-8s %s\n", s_names[q],
                harness_median (small[q], rounds), harness_median (large[q], rounds), ratio, target,
                !judged                      ? ""
                : ratio <= LIST_PAGES_TARGET ? "PASS"
                                             : "MISS");
    }
    printf ("large = %zu events; us: p50 time per page, one request at a time over one %s "
            "(the loopback round trip included), median over %d rounds; ratio: median of the "
            "per-round ratios.\nAll but the newest %d events processed. The no-filter row is "
            "the reference: what a page costs in a big store whatever the filter.\n",
            cfg->events, load_client_name (cfg->client), rounds, LIST_PAGES_TAIL);
}

int
list_pages_run (const list_pages_config_t *cfg)
{
    if (cfg->events <= LIST_PAGES_SMALL || cfg->pages == 0)
        return -1;
    printf ("\nlist by status, and by user and status: a store of %d events beside one of "
            "%zu, %d rounds of %zu pages per query on each\n",
            LIST_PAGES_SMALL, cfg->events, LIST_PAGES_ROUNDS, cfg->pages);
    fflush (stdout);
    side_t small = { .proc = { .pid = -1 } }, large = { .proc = { .pid = -1 } };
    double small_us[S_QUERIES][LIST_PAGES_ROUNDS], large_us[S_QUERIES][LIST_PAGES_ROUNDS];
    int rc = -1, rounds = 0;
    /* One CPU for the client and the stores it starts (list_pages.h). */
    cpu_set_t was, one;
    int cpu = sched_getcpu ();
    bool pinned = false;
    CPU_ZERO (&one);
    if (cpu >= 0 && sched_getaffinity (0, sizeof was, &was) == 0) {
        CPU_SET (cpu, &one);
        pinned = sched_setaffinity (0, sizeof one, &one) == 0;
    }
    if (pinned)
        printf ("client and both stores on CPU %d (a wake-up across vCPUs costs more than a "
                "page: list_pages.h)\n",
                cpu);
    else
        printf ("client and stores not pinned to one CPU (%s): the figures carry the "
                "scheduler's placement\n",
                strerror (errno));
    fflush (stdout);
    if (s_side_start (&small, "small", LIST_PAGES_SMALL, cfg) != 0
        || s_side_start (&large, "large", cfg->events, cfg) != 0)
        goto cleanup;
    for (; rounds < LIST_PAGES_ROUNDS; rounds++)
        for (int q = 0; q < S_QUERIES; q++) {
            if (s_measure (&small, q, cfg->pages, &small_us[q][rounds]) != 0
                || s_measure (&large, q, cfg->pages, &large_us[q][rounds]) != 0)
                goto cleanup;
            printf ("  round %d  %-24s %8.1f us at %d events, %8.1f us at %zu\n", rounds + 1,
                    s_names[q], small_us[q][rounds], LIST_PAGES_SMALL, large_us[q][rounds],
                    cfg->events);
            fflush (stdout);
        }
    s_print_table (cfg, rounds, small_us, large_us);
    rc = 0;
cleanup:
    if (s_side_stop (&large) != 0 || s_side_stop (&small) != 0)
        rc = -1;
    if (pinned)
        sched_setaffinity (0, sizeof was, &was);
    return rc;
}
