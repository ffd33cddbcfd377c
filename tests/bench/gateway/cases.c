/*
 * cases — runs floor/target pairs with wrk and prints one row per case:
 * the floor's and the target's req/s and latency (medians over the rounds),
 * the median of the per-pair ratios, the errors seen, and PASS/MISS against
 * the targets. Nothing is asserted: a benchmark reports, the reader
 * judges, and the figures are only as steady as the machine (the spread
 * column says how steady it was).
 */
#include "cases.h"

#include "cpu.h"
#include "harness.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the CPU went during one measured run. */
typedef struct {
    double server_us; /* CPU per request of the server side, microseconds */
    double client_us; /* CPU per request of wrk */
    double busy;      /* percent of all cores busy, every process counted */
    double others;    /* percent of all cores other processes took */
} run_cpu_t;

typedef struct {
    const char *name;
    const char *mode; /* wrk script mode, the same for both sides */
    const char *path; /* URL path (static and post modes) */
    double min_ratio; /* 0: no target (/ping, shown for reference) */
    int runs;         /* rounds completed */
    wrk_result_t floor[CASES_MAX_ROUNDS], target[CASES_MAX_ROUNDS];
    run_cpu_t floor_cpu[CASES_MAX_ROUNDS], target_cpu[CASES_MAX_ROUNDS];
    double others; /* the most CPU other processes took during a run, % */
} bench_case_t;

/* The values of one double field over n records of the given size (an
   array of wrk_result_t or run_cpu_t); offset is the field's offsetof. */
static void
s_field (const void *records, size_t size, int n, size_t offset, double *values)
{
    for (int i = 0; i < n; i++)
        values[i] = *(const double *)((const char *)records + (size_t)i * size + offset);
}

#define S_MEDIAN(records, n, type, field)                                                          \
    s_median_field (records, sizeof (type), n, offsetof (type, field))

static double
s_median_field (const void *records, size_t size, int n, size_t offset)
{
    double values[CASES_MAX_ROUNDS];
    s_field (records, size, n, offset, values);
    return harness_median (values, n);
}

/* (max - min) / median of the floor's req/s, in percent. */
static double
s_spread_rps (const wrk_result_t *runs, int n)
{
    double values[CASES_MAX_ROUNDS];
    s_field (runs, sizeof *runs, n, offsetof (wrk_result_t, rps), values);
    double median = harness_median (values, n);
    return median > 0 ? 100.0 * (values[n - 1] - values[0]) / median : 0;
}

static void
s_print_row (const bench_case_t *c)
{
    if (c->runs == 0) {
        printf ("%-18s (not run)\n", c->name);
        return;
    }
    int n = c->runs;
    double ratios[CASES_MAX_ROUNDS];
    long errors = 0;
    for (int i = 0; i < n; i++) {
        ratios[i] = c->floor[i].rps > 0 ? c->target[i].rps / c->floor[i].rps : 0;
        errors += c->target[i].socket_errors + c->target[i].status_errors;
    }
    double ratio = harness_median (ratios, n);
    double rps = S_MEDIAN (c->target, n, wrk_result_t, rps);
    double p50 = S_MEDIAN (c->target, n, wrk_result_t, p50_ms);
    double p99 = S_MEDIAN (c->target, n, wrk_result_t, p99_ms);
    double floor_rps = S_MEDIAN (c->floor, n, wrk_result_t, rps);
    double floor_p99 = S_MEDIAN (c->floor, n, wrk_result_t, p99_ms);
    double spread = s_spread_rps (c->floor, n);
    char target[40] = "-";
    const char *verdict = "";
    if (c->min_ratio > 0) {
        snprintf (target, sizeof target, ">=%.1fx, p99<=%.0fms", c->min_ratio, CASES_P99_TARGET_MS);
        bool pass = ratio >= c->min_ratio && p99 <= CASES_P99_TARGET_MS && errors == 0;
        verdict = pass ? "PASS" : "MISS";
    }
    printf ("%-18s %9.0f %7.3f %6.0f%% %9.0f %7.3f %7.3f %6.2f %6ld %5.0f%%  %-18s %s\n", c->name,
            floor_rps, floor_p99, spread, rps, p50, p99, ratio, errors, c->others, target, verdict);
}

/* The case's row of the CPU table. */
static void
s_print_cpu_row (const bench_case_t *c)
{
    int n = c->runs;
    if (n == 0)
        return;
    double f_server = S_MEDIAN (c->floor_cpu, n, run_cpu_t, server_us);
    double f_client = S_MEDIAN (c->floor_cpu, n, run_cpu_t, client_us);
    double f_busy = S_MEDIAN (c->floor_cpu, n, run_cpu_t, busy);
    double t_server = S_MEDIAN (c->target_cpu, n, run_cpu_t, server_us);
    double t_client = S_MEDIAN (c->target_cpu, n, run_cpu_t, client_us);
    double t_busy = S_MEDIAN (c->target_cpu, n, run_cpu_t, busy);
    double bound = t_server + t_client > 0 ? (f_server + f_client) / (t_server + t_client) : 0;
    printf ("%-18s %10.1f %7.1f %5.0f%% %11.1f %7.1f %5.0f%%   %8.2f\n", c->name, f_server,
            f_client, f_busy, t_server, t_client, t_busy, bound);
}

static void
s_print_cpu_table (const bench_case_t *cases, int count, bool self_check)
{
    printf ("\n%-18s %10s %7s %6s %11s %7s %6s   %8s\n", "CPU per request", "floor us", "wrk us",
            "busy", self_check ? "floor-b us" : "gateway us", "wrk us", "busy", "cpu-bound");
    for (int i = 0; i < count; i++)
        s_print_cpu_row (&cases[i]);
    const char *target = self_check ? "floor-b" : "gateway";
    printf ("floor us, %s us: CPU time (user + system, all threads) per request of the server "
            "side%s; wrk us: of wrk.\nbusy: the share of all cores in use during the run. "
            "cpu-bound = (floor us + wrk us) / (%s us + wrk us): the ratio if both\nruns kept "
            "the cores equally busy, the most this CPU per request allows here (ratio ~ "
            "cpu-bound x busy / the floor's busy).\n",
            target, self_check ? "" : " (gateway us: herald-gateway and herald-store together)",
            target);
}

static void
s_print_table (const bench_case_t *cases, int count, int rounds)
{
    printf ("\n%-18s %9s %7s %7s %9s %7s %7s %6s %6s %6s  %-18s %s\n", "case", "floor/s", "fl p99",
            "spread", "req/s", "p50 ms", "p99 ms", "ratio", "errors", "others", "target",
            "verdict");
    for (int i = 0; i < count; i++)
        s_print_row (&cases[i]);
    printf ("floor/s, fl p99: the floor under the same wrk load, run just before the case; "
            "spread: (max-min)/median of the floor's req/s over the rounds.\n"
            "Figures are medians over %d round%s; ratio = median of req/s / floor req/s per "
            "pair; errors = socket errors + HTTP >= 400;\nothers: the most CPU (%% of all "
            "cores) other processes on the machine took during one of the case's runs.\n",
            rounds, rounds == 1 ? "" : "s");
}

/* One wrk run: a warm-up (discarded) then the measured run, during which
   where the CPU went is measured into *cpu; server names the processes of
   the side under load. */
static int
s_measure (const cases_config_t *cfg, const wrk_config_t *wrk, const char *mode, const char *url,
           const pid_t *server, int nserver, wrk_result_t *out, run_cpu_t *cpu)
{
    wrk_result_t warm;
    if (cfg->warmup_s > 0 && wrk_run (wrk, mode, url, cfg->warmup_s, NULL, NULL, &warm) != 0)
        return -1;
    cpu_sample_t before, after;
    cpu_sample (&before, cfg->pids, cfg->npids, server, nserver);
    int rc = wrk_run (wrk, mode, url, cfg->duration_s, NULL, NULL, out);
    cpu_sample (&after, cfg->pids, cfg->npids, server, nserver);
    cpu->others = cpu_others_pct (&before, &after);
    cpu->busy = cpu_busy_pct (&before, &after);
    cpu->server_us = cpu_us_per_request (after.server - before.server, out->requests);
    cpu->client_us = cpu_us_per_request (after.children - before.children, out->requests);
    return rc;
}

int
cases_run (const cases_config_t *cfg, const wrk_config_t *wrk, const char *floor_url,
           const char *target_url)
{
    bool sc = cfg->self_check;
    bench_case_t cases[] = {
        { .name = sc ? "floor-b GET /ping" : "GET /ping", .mode = "static", .path = "/ping" },
        { .name = sc ? "floor-b GET ids" : "GET /events/{id}",
          .mode = "get",
          .path = "/",
          .min_ratio = 0.6 },
        { .name = sc ? "floor-b POST" : "POST /events",
          .mode = "post",
          .path = "/events",
          .min_ratio = 0.5 },
    };
    int count = (int)(sizeof cases / sizeof cases[0]);
    printf ("wrk: %d thread(s), %d connections; per run %d s warm-up + %d s; %d round%s of "
            "%d floor/target pairs\n",
            wrk->threads, wrk->connections, cfg->warmup_s, cfg->duration_s, cfg->rounds,
            cfg->rounds == 1 ? "" : "s", count);
    int rc = 0;
    for (int round = 0; round < cfg->rounds && rc == 0; round++)
        for (int i = 0; i < count && rc == 0; i++) {
            bench_case_t *c = &cases[i];
            char floor[256], target[256];
            snprintf (floor, sizeof floor, "%s%s", floor_url, c->path);
            snprintf (target, sizeof target, "%s%s", target_url, c->path);
            wrk_result_t *f = &c->floor[c->runs], *t = &c->target[c->runs];
            run_cpu_t *fc = &c->floor_cpu[c->runs], *tc = &c->target_cpu[c->runs];
            if (s_measure (cfg, wrk, c->mode, floor, cfg->floor_pids, cfg->nfloor, f, fc) != 0
                || s_measure (cfg, wrk, c->mode, target, cfg->target_pids, cfg->ntarget, t, tc) != 0
                || *wrk->interrupted) {
                rc = -1;
                break;
            }
            c->runs++;
            if (fc->others > c->others)
                c->others = fc->others;
            if (tc->others > c->others)
                c->others = tc->others;
            printf ("  round %d  %-18s floor %6.0f req/s p99 %7.3f ms (others %.0f%%) | %6.0f "
                    "req/s p50 %.3f ms p99 %.3f ms, %ld errors (others %.0f%%)\n",
                    round + 1, c->name, f->rps, f->p99_ms, fc->others, t->rps, t->p50_ms, t->p99_ms,
                    t->socket_errors + t->status_errors, tc->others);
            fflush (stdout);
        }
    s_print_table (cases, count, cfg->rounds);
    s_print_cpu_table (cases, count, sc);
    return rc;
}
