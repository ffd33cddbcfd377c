/*
 * fsync_cases — see fsync_cases.h. The journal counters of a run are the
 * difference between the store's stats just before and just after the
 * measured wrk run, so the warm-up's commits do not count (except in
 * `sync max` and `unsynced`, which are maxima over the store's life).
 * Each gateway gets the same flags as the one the other cases measure.
 */
#include "fsync_cases.h"

#include "cpu.h"
#include "data_dir.h"
#include "harness.h"
#include "seed.h"
#include "store_stats.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define FSYNC_START_MS 10000
#define FSYNC_STOP_MS 30000
#define FSYNC_STATS_MS 5000
#define FSYNC_MAX_GATEWAY_ARGS 32

typedef struct {
    bool done;
    wrk_result_t wrk;
    store_stats_t before, after;
    double server_us; /* CPU per request of herald-gateway + herald-store */
    double busy;      /* % of all cores busy */
    double others;    /* % taken by other processes */
} fsync_run_t;

typedef struct {
    fsync_run_t runs[FSYNC_CASES_MAX_ROUNDS];
} fsync_row_t;

/* The floor for mode as a share of `off`, 0 for none. */
static double
s_target (store_mode_t mode)
{
    return mode == STORE_MODE_EVERYSEC ? 0.9 : mode == STORE_MODE_ALWAYS ? 0.5 : 0;
}

/* Starts herald-gateway in front of store; returns its PID or -1. */
static pid_t
s_start_gateway (const fsync_cases_config_t *cfg, const store_proc_t *store, const char *log,
                 char *url, size_t url_size, volatile sig_atomic_t *interrupted)
{
    int port = harness_free_port ();
    char listen[64];
    snprintf (listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf (url, url_size, "http://127.0.0.1:%d", port);
    const char *argv[8 + FSYNC_MAX_GATEWAY_ARGS] = { harness_bin ("herald-gateway"),
                                                     "--listen",
                                                     listen,
                                                     "--store-endpoint",
                                                     store->endpoint,
                                                     "--log-level",
                                                     "warn" };
    int argc = 7;
    for (int i = 0; i < cfg->gateway_argc && i < FSYNC_MAX_GATEWAY_ARGS; i++)
        argv[argc++] = cfg->gateway_args[i];
    argv[argc] = NULL;
    pid_t pid = harness_spawn (argv, NULL, log, log);
    if (pid < 0)
        return -1;
    if (harness_wait_tcp (port, FSYNC_START_MS) != 0
        || seed_wait_ready (url, FSYNC_START_MS, interrupted) != 0) {
        fprintf (stderr, "bench: herald-gateway did not become ready; see %s\n", log);
        harness_stop (pid, SIGTERM, FSYNC_STOP_MS);
        return -1;
    }
    return pid;
}

/* The measured wrk run, with the store's stats and the CPU around it. */
static int
s_measure (const fsync_cases_config_t *cfg, const wrk_config_t *wrk, const char *url,
           const store_proc_t *store, pid_t gateway, fsync_run_t *out)
{
    pid_t server[2] = { store->pid, gateway };
    pid_t *pids = malloc (((size_t)cfg->npids + 2) * sizeof *pids);
    if (!pids)
        return -1;
    memcpy (pids, cfg->pids, (size_t)cfg->npids * sizeof *pids);
    pids[cfg->npids] = store->pid;
    pids[cfg->npids + 1] = gateway;
    cpu_sample_t before, after;
    int rc = -1;
    if (store_stats_fetch (store->endpoint, &out->before, FSYNC_STATS_MS) == 0) {
        cpu_sample (&before, pids, cfg->npids + 2, server, 2);
        rc = wrk_run (wrk, "post", url, cfg->duration_s, NULL, NULL, &out->wrk);
        cpu_sample (&after, pids, cfg->npids + 2, server, 2);
        if (rc == 0 && store_stats_fetch (store->endpoint, &out->after, FSYNC_STATS_MS) != 0)
            rc = -1;
    }
    free (pids);
    if (rc != 0)
        return -1;
    out->server_us = cpu_us_per_request (after.server - before.server, out->wrk.requests);
    out->busy = cpu_busy_pct (&before, &after);
    out->others = cpu_others_pct (&before, &after);
    return 0;
}

static void s_print_run (int round, store_mode_t mode, const fsync_run_t *r);

/* One run: a fresh store in mode and a gateway, warm-up, measured run; its
   line printed when it completed. */
static int
s_run (const fsync_cases_config_t *cfg, const wrk_config_t *wrk, store_mode_t mode, int round,
       fsync_run_t *out)
{
    const char *name = store_mode_name (mode);
    char dir[1024] = "", store_log[1024], gateway_log[1024], base[64], url[128];
    snprintf (store_log, sizeof store_log, "%s/store-%s-%d.log", harness_tmpdir (), name,
              round + 1);
    snprintf (gateway_log, sizeof gateway_log, "%s/gateway-%s-%d.log", harness_tmpdir (), name,
              round + 1);
    if (mode != STORE_MODE_OFF
        && data_dir_make (cfg->fsync.data_root, name, dir, sizeof dir) != 0) {
        fprintf (stderr, "bench: cannot make a data dir under %s\n", cfg->fsync.data_root);
        return -1;
    }
    store_proc_t store;
    pid_t gateway = -1;
    wrk_result_t warm;
    int rc = -1;
    if (store_proc_spawn (&store, mode, dir, "warn", NULL, store_log) != 0
        || store_proc_wait (&store, FSYNC_START_MS) != 0
        || (gateway =
                s_start_gateway (cfg, &store, gateway_log, base, sizeof base, wrk->interrupted))
               < 0)
        goto cleanup;
    snprintf (url, sizeof url, "%s/events", base);
    if ((cfg->warmup_s > 0 && wrk_run (wrk, "post", url, cfg->warmup_s, NULL, NULL, &warm) != 0)
        || s_measure (cfg, wrk, url, &store, gateway, out) != 0)
        goto cleanup;
    if (!harness_alive (gateway) || !harness_alive (store.pid)) {
        fprintf (stderr, "bench: a process exited during the %s run; see %s, %s\n", name,
                 gateway_log, store_log);
        goto cleanup;
    }
    out->done = true;
    rc = 0;
cleanup:
    if (gateway > 0)
        harness_stop (gateway, SIGTERM, FSYNC_STOP_MS);
    if (store_proc_stop (&store, FSYNC_STOP_MS) != 0 && rc == 0) {
        fprintf (stderr, "bench: herald-store (%s) did not exit cleanly; see %s\n", name,
                 store_log);
        rc = -1;
    }
    if (dir[0] && data_dir_remove (dir) != 0)
        rc = -1;
    if (rc == 0)
        s_print_run (round, mode, out);
    return rc;
}

/* The measured run's journal counters (after - before). */
static void
s_delta (const fsync_run_t *r, store_stats_t *d)
{
    *d = r->after;
    d->journal_commits -= r->before.journal_commits;
    d->journal_records -= r->before.journal_records;
    d->journal_syncs -= r->before.journal_syncs;
    d->journal_sync_us_total -= r->before.journal_sync_us_total;
}

static void
s_print_run (int round, store_mode_t mode, const fsync_run_t *r)
{
    store_stats_t d;
    s_delta (r, &d);
    printf ("  round %d  %-8s POST /events %6.0f req/s p50 %.3f ms p99 %.3f ms, %ld errors "
            "(others %.0f%%) | ",
            round + 1, store_mode_name (mode), r->wrk.rps, r->wrk.p50_ms, r->wrk.p99_ms,
            r->wrk.socket_errors + r->wrk.status_errors, r->others);
    if (!d.journal)
        printf ("no journal\n");
    else if (d.journal_syncs == 0)
        printf ("%llu records in %llu commits, no fdatasync\n",
                (unsigned long long)d.journal_records, (unsigned long long)d.journal_commits);
    else
        printf ("%llu records in %llu commits, %llu fdatasync (%.2f ms mean)\n",
                (unsigned long long)d.journal_records, (unsigned long long)d.journal_commits,
                (unsigned long long)d.journal_syncs,
                (double)d.journal_sync_us_total / (double)d.journal_syncs / 1e3);
    fflush (stdout);
}

/* Medians (and maxima) of one mode's completed runs. */
static void
s_print_row (store_mode_t mode, const fsync_row_t *row, const fsync_row_t *base, int rounds)
{
    double rps[FSYNC_CASES_MAX_ROUNDS], p50[FSYNC_CASES_MAX_ROUNDS], p99[FSYNC_CASES_MAX_ROUNDS],
        ratio[FSYNC_CASES_MAX_ROUNDS], batch[FSYNC_CASES_MAX_ROUNDS], sync[FSYNC_CASES_MAX_ROUNDS],
        us[FSYNC_CASES_MAX_ROUNDS], busy[FSYNC_CASES_MAX_ROUNDS];
    int n = 0, nr = 0, nb = 0, ns = 0;
    long errors = 0;
    double sync_max = -1, unsynced = -1, others = -1;
    for (int i = 0; i < rounds; i++) {
        const fsync_run_t *r = &row->runs[i];
        if (!r->done)
            continue;
        store_stats_t d;
        s_delta (r, &d);
        rps[n] = r->wrk.rps;
        p50[n] = r->wrk.p50_ms;
        p99[n] = r->wrk.p99_ms;
        us[n] = r->server_us;
        busy[n++] = r->busy;
        errors += r->wrk.socket_errors + r->wrk.status_errors;
        others = r->others > others ? r->others : others;
        if (base && base->runs[i].done && base->runs[i].wrk.rps > 0)
            ratio[nr++] = r->wrk.rps / base->runs[i].wrk.rps;
        if (d.journal_commits)
            batch[nb++] = (double)d.journal_records / (double)d.journal_commits;
        if (d.journal_syncs) {
            sync[ns++] = (double)d.journal_sync_us_total / (double)d.journal_syncs / 1e3;
            double max = (double)d.journal_sync_us_max / 1e3;
            sync_max = max > sync_max ? max : sync_max;
            double u = (double)d.journal_unsynced_max_ms;
            unsynced = u > unsynced ? u : unsynced;
        }
    }
    printf ("%-9s", store_mode_name (mode));
    if (n == 0) {
        printf (" (no run completed)\n");
        return;
    }
    double r = harness_median (ratio, nr);
    fsync_rounds_cell (8, 0, harness_median (rps, n));
    fsync_rounds_cell (5, 2, r);
    fsync_rounds_cell (6, 3, harness_median (p50, n));
    fsync_rounds_cell (6, 3, harness_median (p99, n));
    printf (" %6ld", errors);
    fsync_rounds_cell (6, 1, harness_median (batch, nb));
    fsync_rounds_cell (7, 3, harness_median (sync, ns));
    fsync_rounds_cell (8, 2, sync_max);
    fsync_rounds_cell (8, 0, unsynced);
    fsync_rounds_cell (6, 1, harness_median (us, n));
    fsync_rounds_cell (4, 0, harness_median (busy, n));
    printf ("%%");
    fsync_rounds_cell (5, 0, others);
    printf ("%%");
    double target = s_target (mode);
    if (target > 0 && r >= 0)
        printf ("  >=%.1fx off    %s", target, r >= target && errors == 0 ? "PASS" : "MISS");
    else if (target > 0)
        printf ("  >=%.1fx off    (off not run)", target);
    printf ("\n");
}

static void
s_print_table (const fsync_cases_config_t *cfg, const fsync_row_t *rows, int rounds,
               const wrk_config_t *wrk)
{
    const fsync_row_t *base = NULL;
    for (int m = 0; m < cfg->fsync.nmodes; m++)
        if (cfg->fsync.modes[m] == STORE_MODE_OFF)
            base = &rows[m];
    printf ("\n%-9s %8s %5s %6s %6s %6s %6s %7s %8s %8s %6s %5s %6s  %-12s %s\n", "POST fsync",
            "req/s", "ratio", "p50 ms", "p99 ms", "errors", "batch", "sync ms", "sync max",
            "unsynced", "us/req", "busy", "others", "target", "verdict");
    for (int m = 0; m < cfg->fsync.nmodes; m++)
        s_print_row (cfg->fsync.modes[m], &rows[m], base, rounds);
    printf ("POST /events at %d connections (wrk, %d thread%s), a fresh store + gateway per run; "
            "medians over %d round%s; ratio: median of the\nper-round ratios to off; errors: "
            "socket errors + HTTP >= 400, all rounds. From the store's stats over the measured "
            "run: batch = journal_records /\njournal_commits (mean group commit), sync ms = "
            "journal_sync_us_total / journal_syncs; sync max, unsynced (journal_sync_us_max,\n"
            "journal_unsynced_max_ms): the largest over the store's life, warm-up included. "
            "us/req: CPU of herald-gateway + herald-store per request;\nbusy: share of all cores "
            "in use; others: the most CPU other processes took during one of the mode's runs "
            "(%% of all cores;\nkernel threads count there, ext4's journal commits for fdatasync "
            "among them). Targets (issue 12): everysec >= 0.9 x off, always >= 0.5 x off, no "
            "errors.\n",
            wrk->connections, wrk->threads, wrk->threads == 1 ? "" : "s", rounds,
            rounds == 1 ? "" : "s");
}

/* What the rounds' callbacks work on. */
typedef struct {
    const fsync_cases_config_t *cfg;
    const wrk_config_t *wrk;
    fsync_row_t *rows;
} fsync_cases_t;

static int
s_round_run (void *arg, int m, int round)
{
    fsync_cases_t *self = arg;
    return s_run (self->cfg, self->wrk, self->cfg->fsync.modes[m], round,
                  &self->rows[m].runs[round]);
}

static void
s_round_table (void *arg, int rounds)
{
    fsync_cases_t *self = arg;
    s_print_table (self->cfg, self->rows, rounds, self->wrk);
}

int
fsync_cases_run (const fsync_cases_config_t *cfg, const wrk_config_t *wrk)
{
    fsync_cases_t self = { cfg, wrk, calloc ((size_t)cfg->fsync.nmodes, sizeof (fsync_row_t)) };
    if (!self.rows)
        return -1;
    fsync_rounds_print_plan (&cfg->fsync, "\nfsync modes, POST /events");
    printf ("; per run %d s warm-up + %d s; data dirs under %s\n", cfg->warmup_s, cfg->duration_s,
            cfg->fsync.data_root);
    fflush (stdout);
    fsync_rounds_fns_t fns = { &self, NULL, s_round_run, s_round_table };
    int rc = fsync_rounds_run (&cfg->fsync, &fns);
    free (self.rows);
    return rc;
}
