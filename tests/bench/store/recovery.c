/*
 * recovery — see recovery.h. The store runs with --fsync no throughout:
 * the load would otherwise be bounded by this disk, and what is measured
 * here is the replay, which reads the same bytes whatever the policy that
 * wrote them. Every start is a new process on new ports; the load's
 * DEALER follows it (load_reconnect) and keeps the ids it created.
 */
#define _GNU_SOURCE
#include "recovery.h"

#include "clock.h"
#include "data_dir.h"
#include "harness.h"
#include "load.h"
#include "store_stats.h"
#include "store_proc.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECOVERY_CHUNK 100000       /* creates between feed acks */
#define RECOVERY_UPDATE_BATCH 10000 /* updates between stats reads */
#define RECOVERY_UPDATE_ROUNDS 4    /* at most this many updates per event */
#define RECOVERY_COMPACT_MAX_MS 300000
#define RECOVERY_PING_MS 60000
#define RECOVERY_STOP_MS 60000
#define RECOVERY_STATS_MS 10000
#define RECOVERY_TARGET_S 3.0
#define RECOVERY_COMPACT_TARGET 2.0

/* One timed start. */
typedef struct {
    double start_s;      /* spawn -> first ping reply, measured here */
    double cpu_s;        /* the store's CPU time (user + system) by then */
    long long replay_ms; /* what the store logged, -1 if not found */
    unsigned long long records, bytes;
    double resident_pct; /* of the journal's pages, at spawn */
} start_t;

/* The starts on one journal. */
typedef struct {
    const char *label;
    start_t warm[RECOVERY_MAX_ROUNDS], cold[RECOVERY_MAX_ROUNDS];
    int n;
} journal_starts_t;

/* Percent of path's pages in the page cache (mincore over a mapping,
   which faults nothing in), or -1. */
static double
s_resident_pct (const char *path)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    double pct = -1;
    if (fd < 0 || fstat (fd, &st) != 0 || st.st_size == 0) {
        if (fd >= 0)
            close (fd);
        return pct;
    }
    size_t len = (size_t)st.st_size, page = (size_t)sysconf (_SC_PAGESIZE);
    size_t pages = (len + page - 1) / page;
    void *map = mmap (NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    unsigned char *vec = malloc (pages);
    if (map != MAP_FAILED && vec && mincore (map, len, vec) == 0) {
        size_t resident = 0;
        for (size_t i = 0; i < pages; i++)
            resident += vec[i] & 1;
        pct = 100.0 * (double)resident / (double)pages;
    }
    free (vec);
    if (map != MAP_FAILED)
        munmap (map, len);
    close (fd);
    return pct;
}

/* CPU time (user + system, all threads) pid has used, in seconds, or -1.
   Beside the wall time it tells a slow replay from a busy machine. */
static double
s_cpu_s (pid_t pid)
{
    long long ticks = harness_cpu_ticks (pid);
    long hz = sysconf (_SC_CLK_TCK);
    return ticks < 0 ? -1 : (double)ticks / (double)(hz > 0 ? hz : 100);
}

/* Drops path's pages from the page cache: synced first, because only
   clean pages can be dropped. Returns 0 or -1. */
static int
s_evict (const char *path)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fdatasync (fd) == 0 && posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED) == 0 ? 0 : -1;
    close (fd);
    return rc;
}

/* A "N records (B bytes) replayed in T ms" line, into the start_t. */
static bool
s_replay_line (const char *line, void *arg)
{
    start_t *out = arg;
    const char *replayed = strstr (line, " replayed in ");
    const char *records = strstr (line, " records (");
    if (!replayed || !records || records > replayed)
        return false;
    /* The count is the word before " records (". */
    const char *p = records;
    while (p > line && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (sscanf (p, "%llu records (%llu bytes)", &out->records, &out->bytes) == 2
        && sscanf (replayed, " replayed in %lld ms", &out->replay_ms) == 1)
        return true;
    out->replay_ms = -1;
    return false;
}

/* Reads the replay line from the store's log (replay_ms -1 without one). */
static void
s_parse_replay (const char *log, start_t *out)
{
    out->replay_ms = -1;
    harness_find_line (log, s_replay_line, out);
}

/* Starts the store on dir (cold: with the journal's pages dropped first)
   and times spawn -> first ping reply; checks that `events` events came
   back. The store is left running in *store. Returns 0 or -1. */
static int
s_timed_start (const char *dir, const char *const extra[], bool cold, const char *log,
               size_t events, start_t *out, store_proc_t *store)
{
    char journal[1100];
    snprintf (journal, sizeof journal, "%s/journal", dir);
    if (cold && s_evict (journal) != 0) {
        fprintf (stderr, "bench: cannot drop %s from the page cache\n", journal);
        return -1;
    }
    out->resident_pct = s_resident_pct (journal);
    int64_t t0 = clock_mono_us ();
    if (store_proc_spawn (store, STORE_MODE_NO, dir, "info", extra, log) != 0)
        return -1;
    store_client_t *client = store_stats_client (store->endpoint);
    int rc = client ? store_stats_ping (client, RECOVERY_PING_MS) : -1;
    out->start_s = (double)(clock_mono_us () - t0) / 1e6;
    out->cpu_s = s_cpu_s (store->pid);
    store_stats_t stats;
    if (rc == 0 && store_stats_read (client, &stats, RECOVERY_STATS_MS) == 0
        && stats.events != events) {
        fprintf (stderr, "bench: the store came back with %llu events, not %zu\n",
                 (unsigned long long)stats.events, events);
        rc = -1;
    }
    store_client_destroy (&client);
    if (rc != 0)
        fprintf (stderr, "bench: herald-store did not answer on %s; see %s\n", dir, log);
    s_parse_replay (log, out);
    return rc;
}

/* cfg->rounds pairs of timed starts (warm, then cold) on dir. */
static int
s_starts (const recovery_config_t *cfg, const char *dir, size_t events, journal_starts_t *set)
{
    for (int round = 0; round < cfg->rounds; round++)
        for (int cold = 0; cold < 2; cold++) {
            if (*cfg->interrupted)
                return -1;
            start_t *s = cold ? &set->cold[round] : &set->warm[round];
            store_proc_t store;
            char log[1024];
            snprintf (log, sizeof log, "%s/store-start-%s-%s-%d.log", harness_tmpdir (), set->label,
                      cold ? "cold" : "warm", round + 1);
            int rc = s_timed_start (dir, NULL, cold, log, events, s, &store);
            if (store_proc_stop (&store, RECOVERY_STOP_MS) != 0 || rc != 0)
                return -1;
            printf ("  %-10s start %d %s (%3.0f%% of the journal cached): first ping reply "
                    "%.3f s after spawn (store CPU %.2f s); store log: %llu records (%llu bytes) "
                    "replayed in "
                    "%lld ms; %zu events back\n",
                    set->label, round + 1, cold ? "cold" : "warm", s->resident_pct, s->start_s,
                    s->cpu_s, s->records, s->bytes, s->replay_ms, events);
            fflush (stdout);
            if (cold)
                set->n = round + 1;
        }
    return 0;
}

/* Creates cfg->events events on a fresh store in dir, acking the feed. */
static int
s_fill (const recovery_config_t *cfg, const char *dir, load_t **load_p)
{
    char log[1024];
    snprintf (log, sizeof log, "%s/store-fill.log", harness_tmpdir ());
    store_proc_t store;
    int rc = -1;
    if (store_proc_spawn (&store, STORE_MODE_NO, dir, "info", NULL, log) != 0
        || store_proc_wait (&store, RECOVERY_PING_MS) != 0)
        goto cleanup;
    *load_p = load_new (store.endpoint, cfg->client, cfg->events, cfg->interrupted);
    if (!*load_p)
        goto cleanup;
    int64_t t0 = clock_mono_us ();
    for (size_t done = 0; done < cfg->events; done += RECOVERY_CHUNK) {
        size_t n = cfg->events - done < RECOVERY_CHUNK ? cfg->events - done : RECOVERY_CHUNK;
        if (load_create (*load_p, n, cfg->window, NULL) != 0 || load_ack (*load_p) != 0)
            goto cleanup;
    }
    double secs = (double)(clock_mono_us () - t0) / 1e6;
    store_stats_t st;
    if (store_stats_fetch (store.endpoint, &st, RECOVERY_STATS_MS) != 0)
        goto cleanup;
    printf ("load: %zu creates in %.2f s (%.0f/s, %zu in flight, feed acked every %d), "
            "--fsync no: journal %.1f MB, %llu records\n",
            cfg->events, secs, (double)cfg->events / secs, cfg->window, RECOVERY_CHUNK,
            (double)st.journal_bytes / 1e6, (unsigned long long)st.journal_records);
    fflush (stdout);
    rc = 0;
cleanup:
    if (store_proc_stop (&store, RECOVERY_STOP_MS) != 0 && rc == 0)
        rc = -1;
    if (rc != 0)
        fprintf (stderr, "bench: loading %zu events failed; store log %s\n", cfg->events, log);
    return rc;
}

/* What the compaction step measured. */
typedef struct {
    size_t updates;
    double peak_ratio;   /* journal / live estimate, largest seen before the switch */
    store_stats_t after; /* read right after the first completed rewrite */
    double secs;
    /* The slowest update reply in the batch during which the child was
       forked (journal.rewrite appeared), in the one during which the
       switch happened, and in every other batch. */
    double fork_batch_ms, switch_batch_ms, other_ms;
    /* From the store's "compaction done" log line; -1 when not found. */
    long long before_bytes, after_bytes, rewrite_ms, snapshot_bytes, caught_up, switch_us,
        last_bytes;
} compaction_t;

/* A "compaction done: ..." line, into the compaction_t. */
static bool
s_compaction_line (const char *line, void *arg)
{
    compaction_t *out = arg;
    const char *p = strstr (line, "compaction done: ");
    if (p
        && sscanf (p,
                   "compaction done: %lld -> %lld bytes in %lld ms (snapshot %lld, caught up "
                   "%lld, the switch held the loop %lld us for the last %lld bytes)",
                   &out->before_bytes, &out->after_bytes, &out->rewrite_ms, &out->snapshot_bytes,
                   &out->caught_up, &out->switch_us, &out->last_bytes)
               == 7)
        return true;
    out->snapshot_bytes = -1;
    return false;
}

/* Reads the store's "compaction done: ..." line (snapshot_bytes -1 without
   one). */
static void
s_parse_compaction (const char *log, compaction_t *out)
{
    out->snapshot_bytes = -1;
    harness_find_line (log, s_compaction_line, out);
}

/* Restarts the store with compaction at its lowest threshold and updates
   events until one rewrite has completed. */
static int
s_compact (const recovery_config_t *cfg, const char *dir, load_t *load, compaction_t *out)
{
    static const char *const extra[] = { "--compact-min-bytes", "4096", "--compact-factor", "2",
                                         NULL };
    char log[1024];
    snprintf (log, sizeof log, "%s/store-compact.log", harness_tmpdir ());
    store_proc_t store;
    store_client_t *client = NULL;
    store_stats_t before, st;
    int rc = -1;
    memset (out, 0, sizeof *out);
    out->fork_batch_ms = -1;
    char rewrite[1100];
    snprintf (rewrite, sizeof rewrite, "%s/journal.rewrite", dir);
    if (store_proc_spawn (&store, STORE_MODE_NO, dir, "info", extra, log) != 0
        || store_proc_wait (&store, RECOVERY_PING_MS) != 0 || load_reconnect (load, store.endpoint)
        || !(client = store_stats_client (store.endpoint))
        || store_stats_read (client, &before, RECOVERY_STATS_MS) != 0)
        goto cleanup;
    int64_t t0 = clock_mono_ms ();
    size_t limit = RECOVERY_UPDATE_ROUNDS * cfg->events;
    for (;;) {
        if (out->updates >= limit || clock_mono_ms () - t0 > RECOVERY_COMPACT_MAX_MS) {
            fprintf (stderr, "bench: no compaction after %zu updates\n", out->updates);
            goto cleanup;
        }
        load_result_t r;
        if (load_update (load, RECOVERY_UPDATE_BATCH, cfg->window, &r) != 0 || load_ack (load) != 0
            || store_stats_read (client, &st, RECOVERY_STATS_MS) != 0)
            goto cleanup;
        out->updates += RECOVERY_UPDATE_BATCH;
        bool switched = st.journal_rewrites > before.journal_rewrites;
        if (out->fork_batch_ms < 0 && (switched || access (rewrite, F_OK) == 0))
            out->fork_batch_ms = r.max_ms;
        else if (switched)
            out->switch_batch_ms = r.max_ms;
        else
            out->other_ms = r.max_ms > out->other_ms ? r.max_ms : out->other_ms;
        if (switched)
            break;
        double ratio =
            st.journal_live_bytes ? (double)st.journal_bytes / (double)st.journal_live_bytes : 0;
        out->peak_ratio = ratio > out->peak_ratio ? ratio : out->peak_ratio;
    }
    out->secs = (double)(clock_mono_ms () - t0) / 1e3;
    out->after = st;
    rc = 0;
cleanup:
    store_client_destroy (&client);
    if (store_proc_stop (&store, RECOVERY_STOP_MS) != 0 && rc == 0)
        rc = -1;
    if (rc != 0)
        fprintf (stderr, "bench: the compaction step failed; store log %s\n", log);
    s_parse_compaction (log, out);
    return rc;
}

static void
s_print_starts (const journal_starts_t *set, double *worst)
{
    for (int cold = 0; cold < 2; cold++) {
        double start[RECOVERY_MAX_ROUNDS], replay[RECOVERY_MAX_ROUNDS],
            resident[RECOVERY_MAX_ROUNDS], cpu[RECOVERY_MAX_ROUNDS];
        const start_t *s = cold ? set->cold : set->warm;
        for (int i = 0; i < set->n; i++) {
            start[i] = s[i].start_s;
            replay[i] = (double)s[i].replay_ms;
            resident[i] = s[i].resident_pct;
            cpu[i] = s[i].cpu_s;
        }
        double median = harness_median (start, set->n);
        *worst = median > *worst ? median : *worst;
        printf ("%-12s %9.1f %9llu  %-5s %7.0f%% %9.3f %10.0f %7.2f\n", set->label,
                set->n ? (double)s[0].bytes / 1e6 : 0, set->n ? s[0].records : 0ULL,
                cold ? "cold" : "warm", harness_median (resident, set->n), median,
                harness_median (replay, set->n), harness_median (cpu, set->n));
    }
}

int
recovery_run (const recovery_config_t *cfg)
{
    char dir[1024];
    if (data_dir_make (cfg->data_root, "recovery", dir, sizeof dir) != 0) {
        fprintf (stderr, "bench: cannot make a data dir under %s\n", cfg->data_root);
        return -1;
    }
    printf ("recovery: %zu events, data dir %s, %d round%s of starts (warm, then cold)\n",
            cfg->events, dir, cfg->rounds, cfg->rounds == 1 ? "" : "s");
    fflush (stdout);
    load_t *load = NULL;
    journal_starts_t written = { .label = "as written" }, compacted = { .label = "compacted" };
    compaction_t compaction;
    int rc = -1;
    if (s_fill (cfg, dir, &load) != 0 || s_starts (cfg, dir, cfg->events, &written) != 0
        || s_compact (cfg, dir, load, &compaction) != 0)
        goto cleanup;
    const store_stats_t *after = &compaction.after;
    double ratio = after->journal_live_bytes
                       ? (double)after->journal_bytes / (double)after->journal_live_bytes
                       : -1;
    const compaction_t *c = &compaction;
    printf ("compaction (--compact-min-bytes 4096 --compact-factor 2, --fsync no): %zu updates "
            "in %.1f s, in batches of %d with stats read between, until a rewrite completed;\n"
            "  journal/live estimate peaked at %.2f before it\n",
            c->updates, c->secs, RECOVERY_UPDATE_BATCH, c->peak_ratio);
    if (c->snapshot_bytes >= 0)
        printf ("  store log: %.1f MB -> %.1f MB in %lld ms: a snapshot of %.1f MB by the child, "
                "%.1f MB appended meanwhile copied on by the catch-up thread, then the switch "
                "held the loop %.2f ms for the last %.1f kB\n",
                (double)c->before_bytes / 1e6, (double)c->after_bytes / 1e6, c->rewrite_ms,
                (double)c->snapshot_bytes / 1e6, (double)c->caught_up / 1e6,
                (double)c->switch_us / 1e3, (double)c->last_bytes / 1e3);
    printf ("  right after: journal_bytes %.1f MB, journal_live_bytes_estimate %.1f MB (%.2f x)\n"
            "  slowest update reply (%zu in flight): %.1f ms in the batch with the fork, %.1f ms "
            "in the one with the switch, %.1f ms in the others\n",
            (double)after->journal_bytes / 1e6, (double)after->journal_live_bytes / 1e6, ratio,
            cfg->window, c->fork_batch_ms, c->switch_batch_ms, c->other_ms);
    fflush (stdout);
    if (s_starts (cfg, dir, cfg->events, &compacted) != 0)
        goto cleanup;
    double worst = 0;
    printf ("\n%-12s %9s %9s  %-5s %8s %9s %10s %7s\n", "journal", "MB", "records", "cache",
            "cached", "start s", "replay ms", "cpu s");
    s_print_starts (&written, &worst);
    s_print_starts (&compacted, &worst);
    printf ("Medians over %d round%s. start s: spawn -> first ping reply, measured by the bench "
            "(the store listens once it has replayed);\nreplay ms: what the store logged; "
            "cpu s: the store's CPU time (user + system) at that reply (below start s when it "
            "waited for\nthe disk or for a core); cached: the journal's pages in the page cache "
            "at spawn (cold: dropped with posix_fadvise).\n",
            cfg->rounds, cfg->rounds == 1 ? "" : "s");
    printf ("target: %zu events back within %.0f s of spawn: %s (slowest median %.3f s)\n",
            cfg->events, RECOVERY_TARGET_S, worst <= RECOVERY_TARGET_S ? "PASS" : "MISS", worst);
    printf ("target: journal <= %.0f x live data after a compaction: %.2f x, %s (journal_bytes "
            "%llu / journal_live_bytes_estimate %llu, read right after the rewrite)\n",
            RECOVERY_COMPACT_TARGET, ratio,
            ratio >= 0 && ratio <= RECOVERY_COMPACT_TARGET ? "PASS" : "MISS",
            (unsigned long long)after->journal_bytes,
            (unsigned long long)after->journal_live_bytes);
    rc = 0;
cleanup:
    load_destroy (&load);
    if (data_dir_remove (dir) != 0)
        rc = -1;
    return rc;
}
