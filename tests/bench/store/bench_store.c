/*
 * herald-bench-store — how fast and how small is herald-store, and what
 * its journal costs (docs/ARCHITECTURE.md §8, issue 12 section 4).
 *
 * By default, on free loopback ports:
 *   1. the fsync columns (modes.h): create, get and update phases over one
 *      connection with --window requests in flight, against a fresh store in
 *      each mode of --fsync-modes (off = no journal, no, everysec,
 *      always), --rounds rounds interleaved, medians and ratios to off,
 *      the mean group-commit batch and fdatasync latency from the store's
 *      stats, and this disk's own fdatasync latency sampled in between;
 *      Beside it, once per round, Redis measured by redis-benchmark the same
 *      way (one connection, 1000 in flight, same value size and keyspace;
 *      peer_redis.h), and herald-store's ratio to it (issue 15), both with
 *      one request per message and with --batch requests per message (the
 *      batch op: what redis-benchmark -P does with one write), and, with
 *      the bare ZMTP client (--client zmtp, the default: zmtp.h), creates
 *      and gets on a fresh store through a libzmq DEALER for reference;
 *   2. memory: a fresh in-memory store loaded to --events events (16-byte
 *      user_id, 40-byte description, acking the feed as it goes); prints
 *      its RSS and the memory per event beyond its strings, measured as the
 *      RSS growth over the events added;
 *   3. list by status (list_pages.h): the time per page of lists filtered
 *      by status, and by one heavy user and status, at 1,000 events and at
 *      --list-events, two stores side by side.
 * --recovery instead times restarts on a journal of --recovery-events
 * events and measures the journal after a compaction (recovery.h).
 * --endpoint EP drives a store that is already running: the three phases
 * once, then the memory load (RSS from its stats).
 *
 * Data dirs (and the fdatasync probe's file) go under --data-root, by
 * default the build directory: the disk under test. Every store is stopped
 * by PID and its data dir removed. Logs: $TMPDIR/herald-test-herald-bench-
 * store-PID/. Not a CTest test: it prints figures and asserts nothing.
 */
#include "data_dir.h"
#include "harness.h"
#include "stop.h"
#include "list_pages.h"
#include "load.h"
#include "modes.h"
#include "recovery.h"
#include "store_stats.h"
#include "store_proc.h"

#include "clock.h"
#include "proto.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMORY_CHUNK 100000 /* creates between feed acks */
#define START_MS 10000
#define STOP_MS 30000

typedef struct {
    const char *endpoint;
    size_t ops, window, batch, events, probe_samples, recovery_events, list_events, list_pages;
    int rounds, recovery_rounds;
    bool recovery, no_peers;
    load_client_t client;
    store_mode_t modes[STORE_MODE_COUNT];
    int nmodes;
    char data_root[1024];
} options_t;

/* SIGINT/SIGTERM: the load stops, stores are stopped by PID, data dirs
   removed. */
static volatile sig_atomic_t *s_interrupted; /* stop_on_signals () */

/* The store's RSS: from /proc when we started it, else from its stats. */
static long
s_rss_kb (const char *endpoint, pid_t pid)
{
    if (pid > 0)
        return harness_rss_kib (pid);
    store_stats_t st;
    return store_stats_fetch (endpoint, &st, 5000) == 0 ? (long)(st.rss_bytes / 1024) : -1;
}

/* Loads the store at endpoint up to `events` events and prints the memory
   per event. pid: the store's, or -1 when it runs elsewhere. */
static int
s_memory (const char *endpoint, load_client_t client, pid_t pid, size_t events, size_t window,
          size_t already)
{
    if (events <= already)
        return 0;
    load_t *load = load_new (endpoint, client, 0, s_interrupted);
    if (!load)
        return -1;
    size_t added = events - already;
    long before = s_rss_kb (endpoint, pid);
    int64_t start = clock_mono_us ();
    int rc = 0;
    for (size_t done = 0; done < added && rc == 0; done += MEMORY_CHUNK) {
        size_t n = added - done < MEMORY_CHUNK ? added - done : MEMORY_CHUNK;
        rc = load_create (load, n, window, NULL) != 0 || load_ack (load) != 0 ? -1 : 0;
    }
    load_destroy (&load);
    if (rc != 0)
        return -1;
    double secs = (double)(clock_mono_us () - start) / 1e6;
    long after = s_rss_kb (endpoint, pid);
    double per_event = (double)(after - before) * 1024.0 / (double)added;
    int strings = LOAD_USER_LEN + LOAD_DESCRIPTION_LEN;
    printf ("\nload    %9zu events in %7.3f s (%.0f/s): store RSS %.1f MB for %zu events\n", added,
            secs, (double)added / secs, (double)after / 1024.0, events);
    printf ("memory  %.1f bytes per event (RSS growth / events added), %.1f beyond the "
            "%d bytes of user_id + description\n",
            per_event, per_event - strings, strings);
    return 0;
}

/* --endpoint: the three phases once against a running store, then memory. */
static int
s_external (const options_t *opts)
{
    printf ("window %zu requests in flight on one %s, %zu ops per phase, store at %s\n",
            opts->window, load_client_name (opts->client), opts->ops, opts->endpoint);
    load_t *load = load_new (opts->endpoint, opts->client, opts->ops, s_interrupted);
    load_result_t create, get, update;
    int rc = -1;
    if (load && load_create (load, opts->ops, opts->window, &create) == 0 && load_ack (load) == 0
        && load_get (load, opts->ops, opts->window, &get) == 0
        && load_update (load, opts->ops, opts->window, &update) == 0 && load_ack (load) == 0) {
        load_print ("create", &create);
        load_print ("get", &get);
        load_print ("update", &update);
        rc = 0;
    }
    load_destroy (&load);
    if (rc == 0)
        rc = s_memory (opts->endpoint, opts->client, -1, opts->events, opts->window, opts->ops);
    return rc;
}

/* The memory load on a fresh in-memory store of our own. */
static int
s_memory_own (const options_t *opts)
{
    if (opts->events == 0)
        return 0;
    char log[1024];
    snprintf (log, sizeof log, "%s/store-memory.log", harness_tmpdir ());
    store_proc_t store;
    int rc = -1;
    if (store_proc_spawn (&store, STORE_MODE_OFF, NULL, "warn", NULL, log) == 0
        && store_proc_wait (&store, START_MS) == 0)
        rc = s_memory (store.endpoint, opts->client, store.pid, opts->events, opts->window, 0);
    if (store_proc_stop (&store, STOP_MS) != 0)
        rc = -1;
    return rc;
}

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: herald-bench-store [options]\n"
        "  --ops N               operations per phase (200000)\n"
        "  --window W            requests in flight on the DEALER (1000)\n"
        "  --batch N             no journal: the phases again with N requests per message\n"
        "                        (a batch, proto.h), beside Redis; 1 skips (100, at most 128)\n"
        "  --rounds N            rounds of the fsync modes, medians reported (5)\n"
        "  --fsync-modes LIST    modes compared, comma-separated (" STORE_MODES_DEFAULT ")\n"
        "  --fsync-samples N     this disk's fdatasync samples, over all rounds (600)\n"
        "  --data-root DIR       where data dirs go (the build directory)\n"
        "  --events N            memory: load a fresh store to N events (1000000), 0 skips\n"
        "  --list-events N       list by status (and user): pages at 1000 and at N events "
        "(1000000),\n"
        "                        0 skips\n"
        "  --list-pages N        pages timed per query and size, at most 150 (150)\n"
        "  --recovery            instead: restart times on a big journal, compaction\n"
        "  --recovery-events N   events in that journal (1000000)\n"
        "  --recovery-rounds N   timed starts per journal and cache state (3)\n"
        "  --endpoint EP         drive a running store instead (phases once + memory)\n"
        "  --no-peers            without Redis beside it (redis-server, redis-benchmark)\n"
        "  --client KIND         how the load speaks ZMTP: zmtp, a bare client writing each\n"
        "                        window to the socket itself, as redis-benchmark does RESP\n"
        "                        (zmtp.h), or libzmq, a DEALER (zmtp)\n"
        "  --help\n");
}

static int
s_parse (int argc, char *argv[], options_t *opts)
{
    static const struct option options[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "ops", required_argument, NULL, 'o' },
        { "window", required_argument, NULL, 'w' },
        { "batch", required_argument, NULL, 'b' },
        { "events", required_argument, NULL, 'n' },
        { "rounds", required_argument, NULL, 'r' },
        { "fsync-modes", required_argument, NULL, 'm' },
        { "fsync-samples", required_argument, NULL, 's' },
        { "data-root", required_argument, NULL, 'd' },
        { "recovery", no_argument, NULL, 'R' },
        { "no-peers", no_argument, NULL, 'P' },
        { "recovery-events", required_argument, NULL, 'E' },
        { "recovery-rounds", required_argument, NULL, 'N' },
        { "list-events", required_argument, NULL, 'L' },
        { "list-pages", required_argument, NULL, 'p' },
        { "client", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (opt == 'h' || opt == '?') {
            s_usage (opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
        if (opt == 'e')
            opts->endpoint = optarg;
        else if (opt == 'R')
            opts->recovery = true;
        else if (opt == 'P')
            opts->no_peers = true;
        else if (opt == 'c') {
            if (strcmp (optarg, "zmtp") != 0 && strcmp (optarg, "libzmq") != 0) {
                fprintf (stderr, "bench: --client is zmtp or libzmq, not %s\n", optarg);
                return 2;
            }
            opts->client = optarg[0] == 'z' ? LOAD_CLIENT_ZMTP : LOAD_CLIENT_LIBZMQ;
        } else if (opt == 'd')
            snprintf (opts->data_root, sizeof opts->data_root, "%s", optarg);
        else if (opt == 'm') {
            if ((opts->nmodes = store_mode_parse_list (optarg, opts->modes, STORE_MODE_COUNT)) < 0)
                return 2;
        } else {
            char *end = NULL;
            unsigned long long v = strtoull (optarg, &end, 10);
            if (!end || *end || optarg[0] == '-' || v > 100000000ULL) {
                fprintf (stderr, "bench: bad value: %s (see --help)\n", optarg);
                return 2;
            }
            if (opt == 'o')
                opts->ops = (size_t)v;
            else if (opt == 'w')
                opts->window = (size_t)v;
            else if (opt == 'b')
                opts->batch = (size_t)v;
            else if (opt == 'n')
                opts->events = (size_t)v;
            else if (opt == 'r')
                opts->rounds = (int)v;
            else if (opt == 's')
                opts->probe_samples = (size_t)v;
            else if (opt == 'E')
                opts->recovery_events = (size_t)v;
            else if (opt == 'L')
                opts->list_events = (size_t)v;
            else if (opt == 'p')
                opts->list_pages = (size_t)v;
            else
                opts->recovery_rounds = (int)v;
        }
    }
    if (optind < argc || opts->ops < 1 || opts->window < 1 || opts->batch < 1
        || opts->batch > PROTO_BATCH_MAX || opts->rounds < 1 || opts->rounds > MODES_MAX_ROUNDS
        || opts->recovery_events < 1 || opts->recovery_rounds < 1
        || opts->recovery_rounds > RECOVERY_MAX_ROUNDS || opts->list_pages < 1
        || opts->list_pages > LIST_PAGES_MAX
        || (opts->list_events > 0 && opts->list_events <= LIST_PAGES_SMALL)) {
        fprintf (stderr, "bench: inconsistent options (see --help)\n");
        return 2;
    }
    return data_dir_root_option (opts->data_root, sizeof opts->data_root) == 0 ? -1 : 2;
}

int
main (int argc, char *argv[])
{
    options_t opts = { .ops = 200000,
                       .window = 1000,
                       .batch = 100,
                       .events = 1000000,
                       .probe_samples = 600,
                       .recovery_events = 1000000,
                       .rounds = 5,
                       .recovery_rounds = 3,
                       .list_events = 1000000,
                       .list_pages = LIST_PAGES_MAX,
                       .client = LOAD_CLIENT_ZMTP };
    opts.nmodes = store_mode_parse_list (STORE_MODES_DEFAULT, opts.modes, STORE_MODE_COUNT);
    int parsed = s_parse (argc, argv, &opts);
    if (parsed >= 0)
        return parsed;
    s_interrupted = stop_on_signals ();
    int rc;
    if (opts.endpoint)
        rc = s_external (&opts);
    else if (opts.recovery) {
        recovery_config_t cfg = { opts.recovery_events, opts.window, opts.recovery_rounds,
                                  opts.data_root,       opts.client, s_interrupted };
        rc = recovery_run (&cfg);
    } else {
        modes_config_t cfg = { .fsync = { .modes = opts.modes,
                                          .nmodes = opts.nmodes,
                                          .rounds = opts.rounds,
                                          .data_root = opts.data_root,
                                          .probe_samples = opts.probe_samples,
                                          .interrupted = s_interrupted },
                               .ops = opts.ops,
                               .window = opts.window,
                               .batch = opts.batch,
                               .peers = !opts.no_peers,
                               .client = opts.client };
        rc = modes_run (&cfg);
        if (rc == 0 && !*s_interrupted)
            rc = s_memory_own (&opts);
        if (rc == 0 && !*s_interrupted && opts.list_events > 0) {
            list_pages_config_t list = { opts.list_events, opts.list_pages, opts.window,
                                         opts.client, s_interrupted };
            rc = list_pages_run (&list);
        }
    }
    printf ("logs: %s\n", harness_tmpdir ());
    return rc == 0 ? 0 : 1;
}
