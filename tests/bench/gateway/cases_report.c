/*
 * cases_report — see cases_report.h. Every figure is a median over the
 * rounds a case completed; every ratio is the median of the per-round
 * ratios (each taken between runs of the same round), not a ratio of
 * medians, so a round the machine was busy moves both of its sides.
 */
#include "cases_report.h"

#include "harness.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

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

/* Median over the rounds of a / b, a and b a double field of two sides'
   records (offset: its offsetof; both records of the same type); rounds
   where b is not positive are left out. -1 when none is left. */
static double
s_median_ratio (const void *a, const void *b, size_t size, int n, size_t offset)
{
    double num[CASES_MAX_ROUNDS], den[CASES_MAX_ROUNDS], ratios[CASES_MAX_ROUNDS];
    s_field (a, size, n, offset, num);
    s_field (b, size, n, offset, den);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (den[i] > 0 && num[i] >= 0)
            ratios[k++] = num[i] / den[i];
    return k > 0 ? harness_median (ratios, k) : -1;
}

static long
s_errors (const wrk_result_t *runs, int n)
{
    long errors = 0;
    for (int i = 0; i < n; i++)
        errors += runs[i].socket_errors + runs[i].status_errors;
    return errors;
}

const char *
cases_side_name (int side, bool self_check)
{
    static const char *names[CASES_SIDES] = { "floor", "gateway", "webdis", "nginx" };
    if (side == CASES_TARGET && self_check)
        return "floor-b";
    return side >= 0 && side < CASES_SIDES ? names[side] : "?";
}

static void
s_print_row (const bench_case_t *c)
{
    if (c->runs == 0) {
        printf ("%-18s (not run)\n", c->name);
        return;
    }
    int n = c->runs;
    const wrk_result_t *floor = c->result[CASES_FLOOR], *target = c->result[CASES_TARGET];
    double ratio = s_median_ratio (target, floor, sizeof *floor, n, offsetof (wrk_result_t, rps));
    long errors = s_errors (target, n);
    double rps = S_MEDIAN (target, n, wrk_result_t, rps);
    double p50 = S_MEDIAN (target, n, wrk_result_t, p50_ms);
    double p99 = S_MEDIAN (target, n, wrk_result_t, p99_ms);
    double floor_rps = S_MEDIAN (floor, n, wrk_result_t, rps);
    double floor_p99 = S_MEDIAN (floor, n, wrk_result_t, p99_ms);
    double spread = s_spread_rps (floor, n);
    printf ("%-18s %9.0f %7.3f %6.0f%% %9.0f %7.3f %7.3f %6.2f %6ld %5.0f%%\n", c->name, floor_rps,
            floor_p99, spread, rps, p50, p99, ratio, errors, c->others);
}

void
cases_report_floor (const bench_case_t *cases, int count, int rounds)
{
    printf ("\n%-18s %9s %7s %7s %9s %7s %7s %6s %6s %6s\n", "case", "floor/s", "fl p99", "spread",
            "req/s", "p50 ms", "p99 ms", "ratio", "errors", "others");
    for (int i = 0; i < count; i++)
        s_print_row (&cases[i]);
    printf ("floor/s, fl p99: the floor under the same wrk load, run just before the case; "
            "spread: (max-min)/median of the floor's req/s over the rounds.\n"
            "Figures are medians over %d round%s; ratio = median of req/s / floor req/s per "
            "round; errors = socket errors + HTTP >= 400;\nothers: the most CPU (%% of all "
            "cores) other processes on the machine took during one of the case's runs (any "
            "side).\nThe floor is the reference a request cannot beat, not a target (issue 15 "
            "retired issue 3's 0.6x / 0.5x of it: forwarding costs any server about half of the "
            "floor's rate, see nginx's below).\n",
            rounds, rounds == 1 ? "" : "s");
}

/* The case's row of the CPU table. */
static void
s_print_cpu_row (const bench_case_t *c)
{
    int n = c->runs;
    if (n == 0)
        return;
    const run_cpu_t *floor = c->cpu[CASES_FLOOR], *target = c->cpu[CASES_TARGET];
    double f_server = S_MEDIAN (floor, n, run_cpu_t, server_us);
    double f_client = S_MEDIAN (floor, n, run_cpu_t, client_us);
    double f_busy = S_MEDIAN (floor, n, run_cpu_t, busy);
    double t_server = S_MEDIAN (target, n, run_cpu_t, server_us);
    double t_client = S_MEDIAN (target, n, run_cpu_t, client_us);
    double t_busy = S_MEDIAN (target, n, run_cpu_t, busy);
    double bound = t_server + t_client > 0 ? (f_server + f_client) / (t_server + t_client) : 0;
    /* The target's stores (every process but its gateway): their share of
       t_server. */
    char store[16] = "-";
    bool known = true;
    for (int i = 0; i < n; i++)
        known &= target[i].first_us >= 0;
    if (known)
        snprintf (store, sizeof store, "%.1f", S_MEDIAN (target, n, run_cpu_t, first_us));
    printf ("%-18s %10.1f %7.1f %5.0f%% %11.1f %9s %7.1f %5.0f%%   %8.2f\n", c->name, f_server,
            f_client, f_busy, t_server, store, t_client, t_busy, bound);
}

void
cases_report_cpu (const bench_case_t *cases, int count, bool self_check)
{
    printf ("\n%-18s %10s %7s %6s %11s %9s %7s %6s   %8s\n", "CPU per request", "floor us",
            "wrk us", "busy", self_check ? "floor-b us" : "gateway us", "store us", "wrk us",
            "busy", "cpu-bound");
    for (int i = 0; i < count; i++)
        s_print_cpu_row (&cases[i]);
    const char *target = self_check ? "floor-b" : "gateway";
    printf ("floor us, %s us: CPU time (user + system, all threads) per request of the server "
            "side%s; wrk us: of wrk.\nbusy: the share of all cores in use during the run. "
            "cpu-bound = (floor us + wrk us) / (%s us + wrk us): the ratio if both\nruns kept "
            "the cores equally busy, the most this CPU per request allows here (ratio ~ "
            "cpu-bound x busy / the floor's busy).\n",
            target,
            self_check ? ""
                       : " (gateway us: herald-gateway and herald-store together; store us: "
                         "the part of it herald-store's processes took)",
            target);
}

/* A peer's four columns (req/s, p99, CPU us per request, errors) into buf,
   or its reason for not running. */
static void
s_peer_columns (char *buf, size_t size, const bench_case_t *c, int side, const cases_side_t *cfg)
{
    int n = c->runs;
    if (!cfg->url || n == 0) {
        snprintf (buf, size, "%-32s", "skipped");
        return;
    }
    const wrk_result_t *r = c->result[side];
    snprintf (buf, size, "%9.0f %7.3f %7.1f %6ld", S_MEDIAN (r, n, wrk_result_t, rps),
              S_MEDIAN (r, n, wrk_result_t, p99_ms),
              S_MEDIAN (c->cpu[side], n, run_cpu_t, server_us), s_errors (r, n));
}

/* Median over n rounds of side's CPU per request / case c's webdis CPU
   per request in the same round (side: any case's records of any side,
   e.g. c's own target for its `cpu x wd`); -1 when none can be taken. */
static double
s_cpu_x_webdis (const run_cpu_t *side, const bench_case_t *c, int n)
{
    return s_median_ratio (side, c->cpu[CASES_WEBDIS], sizeof (run_cpu_t), n,
                           offsetof (run_cpu_t, server_us));
}

/* The target against webdis: ratio columns and the verdict, into buf. */
static void
s_webdis_columns (char *buf, size_t size, const bench_case_t *c, bool webdis_ran)
{
    int n = c->runs;
    if (!webdis_ran || n == 0) {
        snprintf (buf, size, "%8s %8s %8s  %-28s %s", "-", "-", "-", "-", "");
        return;
    }
    const wrk_result_t *t = c->result[CASES_TARGET], *w = c->result[CASES_WEBDIS];
    double rps = s_median_ratio (t, w, sizeof *t, n, offsetof (wrk_result_t, rps));
    double p99 = S_MEDIAN (t, n, wrk_result_t, p99_ms);
    double w_p99 = S_MEDIAN (w, n, wrk_result_t, p99_ms);
    double cpu = s_cpu_x_webdis (c->cpu[CASES_TARGET], c, n);
    char goal[40] = "-", verdict[48] = "";
    if (c->peer_target) {
        snprintf (goal, sizeof goal, ">=%.2fx, p99<=wd, cpu<=%.1fx", CASES_WEBDIS_MIN_RATIO,
                  CASES_WEBDIS_MAX_CPU_RATIO);
        bool ok_rps = rps >= CASES_WEBDIS_MIN_RATIO, ok_p99 = p99 <= w_p99;
        bool ok_cpu = cpu >= 0 && cpu <= CASES_WEBDIS_MAX_CPU_RATIO;
        bool ok_errors = s_errors (t, n) == 0;
        if (ok_rps && ok_p99 && ok_cpu && ok_errors)
            snprintf (verdict, sizeof verdict, "PASS");
        else
            snprintf (verdict, sizeof verdict, "MISS:%s%s%s%s", ok_rps ? "" : " req/s",
                      ok_p99 ? "" : " p99", ok_cpu ? "" : " cpu", ok_errors ? "" : " errors");
    }
    snprintf (buf, size, "%8.2f %8.3f %8.2f  %-28s %s", rps, p99, cpu, goal, verdict);
}

/* "%.2fx", or "-" when the ratio could not be taken (-1). */
static const char *
s_ratio_text (char *buf, size_t size, double ratio)
{
    if (ratio < 0)
        snprintf (buf, size, "-");
    else
        snprintf (buf, size, "%.2fx", ratio);
    return buf;
}

/* The round trip case's CPU per request against each judged case's webdis
   CPU, as the judged case's own `cpu x wd` is (the median of per-round
   ratios). Within a round the round trip ran a few runs before the judged
   case's webdis run (about a minute and a half at the defaults), not right
   beside it as the other ratios' sides are. Printed for one store only:
   under --shards /readyz pings every shard where a GET or POST reaches
   one. Under --self-check the target has no store: nothing to print.
   Information, not a verdict. */
static void
s_print_round_trip (const bench_case_t *cases, int count, const cases_config_t *cfg,
                    const char *target)
{
    const bench_case_t *rt = NULL;
    for (int i = 0; i < count; i++)
        if (cases[i].round_trip && cases[i].runs > 0)
            rt = &cases[i];
    if (!rt || cfg->self_check || cfg->shards > 1)
        return;
    printf ("\nround trip: %s costs %s %.1f us per request (a ping to the store, a fixed answer)",
            rt->name, target, S_MEDIAN (rt->cpu[CASES_TARGET], rt->runs, run_cpu_t, server_us));
    if (!cfg->sides[CASES_WEBDIS].url) {
        printf ("\n");
        return;
    }
    printf ("; webdis + Redis's PING %.1f us. Against each judged case's webdis CPU:\n",
            S_MEDIAN (rt->cpu[CASES_WEBDIS], rt->runs, run_cpu_t, server_us));
    for (int i = 0; i < count; i++) {
        const bench_case_t *c = &cases[i];
        if (!c->peer_target || c->runs == 0)
            continue;
        int n = c->runs < rt->runs ? c->runs : rt->runs;
        double alone = s_cpu_x_webdis (rt->cpu[CASES_TARGET], c, n);
        double whole = s_cpu_x_webdis (c->cpu[CASES_TARGET], c, c->runs);
        char a[16], w[16];
        printf ("  %-18s the round trip alone %s, the whole request %s (target <= %.1fx)%s\n",
                c->name, s_ratio_text (a, sizeof a, alone), s_ratio_text (w, sizeof w, whole),
                CASES_WEBDIS_MAX_CPU_RATIO,
                alone > CASES_WEBDIS_MAX_CPU_RATIO ? ": the round trip alone is already above it"
                                                   : "");
    }
}

void
cases_report_peers (const bench_case_t *cases, int count, const cases_config_t *cfg)
{
    const cases_side_t *webdis = &cfg->sides[CASES_WEBDIS], *nginx = &cfg->sides[CASES_NGINX];
    if (!webdis->url && !nginx->url) {
        printf ("\npeers: webdis+redis %s; nginx %s\n", webdis->skip ? webdis->skip : "skipped",
                nginx->skip ? nginx->skip : "skipped");
        return;
    }
    const char *target = cases_side_name (CASES_TARGET, cfg->self_check);
    printf ("\n%-18s %9s %7s %7s %6s %9s %7s %7s %6s %8s %8s %8s  %-28s %s\n", "peers", "webdis/s",
            "wd p99", "wd us", "errors", "nginx/s", "ng p99", "ng us", "errors", "x webdis",
            "p99 ms", "cpu x wd", "target (vs webdis)", "verdict");
    for (int i = 0; i < count; i++) {
        const bench_case_t *c = &cases[i];
        char wd[64], ng[64], vs[160];
        s_peer_columns (wd, sizeof wd, c, CASES_WEBDIS, webdis);
        s_peer_columns (ng, sizeof ng, c, CASES_NGINX, nginx);
        s_webdis_columns (vs, sizeof vs, c, webdis->url != NULL);
        printf ("%-18s %s %s %s\n", c->name, wd, ng, vs);
    }
    printf ("webdis+redis: the same operation through webdis (GET /PING; GET /GET/<id> over the "
            "same ids, each holding the event;\nPUT /SET/<key> with the event as the body; GET "
            "/readyz against PING); "
            "wd us: CPU per request of webdis and redis-server together.\nnginx: nginx proxying "
            "to the floor, the same requests as the floor's; ng us: nginx's master and workers "
            "(the floor behind it\nis not counted: see floor us above). x webdis, cpu x wd: "
            "medians of the per-round ratios %s / webdis (req/s; CPU per\nrequest, %s us / wd "
            "us); p99 ms: %s's, against wd p99. Target: issue 15; PASS/MISS, not asserted.\n",
            target, target, target);
    s_print_round_trip (cases, count, cfg, target);
    if (!webdis->url)
        printf ("webdis+redis: %s\n", webdis->skip ? webdis->skip : "skipped");
    if (!nginx->url)
        printf ("nginx: %s\n", nginx->skip ? nginx->skip : "skipped");
}
