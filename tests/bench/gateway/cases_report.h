/*
 * cases_report — the tables herald-bench-gateway prints after its cases
 * (cases.h): the target against the floor (req/s, latency, the median of
 * the per-round ratios, errors, PASS/MISS against issue 3's targets), where
 * the CPU went per request, and the peers (webdis + Redis, nginx → floor)
 * with the target's ratios to webdis and PASS/MISS against issue 15's.
 * Nothing is asserted: a benchmark reports, the reader judges, and the
 * figures are only as steady as the machine (the spread and others columns
 * say how steady it was). Also the per-run records the tables are made of,
 * which cases.c fills.
 */
#ifndef HERALD_BENCH_CASES_REPORT_H
#define HERALD_BENCH_CASES_REPORT_H

#include "cases.h"

/* Where the CPU went during one measured run. */
typedef struct {
    double server_us; /* CPU per request of the side's server processes, microseconds */
    double first_us;  /* of which all its processes but the last (the target's stores); -1
                         when the side has one process or one could not be read */
    double client_us; /* CPU per request of wrk */
    double busy;      /* percent of all cores busy, every process counted */
    double others;    /* percent of all cores other processes took */
} run_cpu_t;

/* What wrk sends one side: its script mode and the URL's path. */
typedef struct {
    const char *mode; /* herald-bench-gateway.lua's mode */
    const char *path; /* appended to the side's base URL */
} cases_load_t;

typedef struct {
    const char *name;
    cases_load_t load;        /* the floor, the target and nginx */
    cases_load_t webdis_load; /* the same operation on webdis */
    bool peer_target;         /* judged against webdis (issue 15) */
    bool round_trip;          /* the store round trip alone (GET /readyz): a rough
                                 lower bound of the judged cases' cost */
    int runs;                 /* rounds completed */
    wrk_result_t result[CASES_SIDES][CASES_MAX_ROUNDS];
    run_cpu_t cpu[CASES_SIDES][CASES_MAX_ROUNDS];
    double others; /* the most CPU other processes took during a run, % */
} bench_case_t;

/* The side's name in the output: "floor", "gateway" ("floor-b" under
   --self-check), "webdis", "nginx". */
const char *cases_side_name (int side, bool self_check);

/* The target against the floor, one row per case. */
void cases_report_floor (const bench_case_t *cases, int count, int rounds);

/* CPU per request of the floor, the target and wrk. */
void cases_report_cpu (const bench_case_t *cases, int count, bool self_check);

/* The peers' req/s, p99 and CPU per request, and the target's ratios to
   webdis; a peer that did not run shows cfg's reason instead. */
void cases_report_peers (const bench_case_t *cases, int count, const cases_config_t *cfg);

#endif
