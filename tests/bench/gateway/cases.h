/*
 * cases — the benchmark cases of herald-bench-gateway. Each case (GET
 * /ping, GET /readyz, GET /events/{id}, POST /events) runs on every side, back to back
 * in each round: the floor, the target (herald-gateway + herald-store, or
 * a second floor under --self-check), then the peers a user would pick
 * instead (issue 15): webdis + Redis doing the same operation, and nginx
 * proxying to the floor. Every side gets the same wrk load in the same
 * script mode (static or Lua-per-request), so wrk's own per-request cost is
 * the same on all of them. Rounds repeat the whole sequence; ratios are
 * taken within each round and their median over the rounds is what the
 * tables judge (cases_report.h prints them). Each run also reports how much
 * CPU other processes on the machine took meanwhile, and where each side's
 * CPU went per request.
 */
#ifndef HERALD_BENCH_CASES_H
#define HERALD_BENCH_CASES_H

#include "wrk_run.h"

#include <stdbool.h>
#include <sys/types.h>

#define CASES_MAX_ROUNDS 10
/* Issue 15's targets against webdis + Redis (GET /events/{id} and POST
   /events): req/s >= 1.25 x webdis's, p99 <= webdis's, server CPU per
   request <= 0.8 x webdis + redis-server's. */
#define CASES_WEBDIS_MIN_RATIO 1.25
#define CASES_WEBDIS_MAX_CPU_RATIO 0.8

/* The sides of every case, in the order each round runs them. */
typedef enum {
    CASES_FLOOR,  /* herald-bench-floor */
    CASES_TARGET, /* herald-gateway + herald-store (or floor-b) */
    CASES_WEBDIS, /* webdis + redis-server (peer_webdis.h) */
    CASES_NGINX,  /* nginx proxying to the floor (peer_nginx.h) */
    CASES_SIDES
} cases_side_id_t;

typedef struct {
    const char *url;   /* base URL, "http://127.0.0.1:PORT"; NULL: not run */
    const char *skip;  /* when url is NULL: why, shown in its columns */
    const pid_t *pids; /* the side's server processes, for its CPU per request; the
                          target's herald-store(s) first and its gateway last: the
                          stores' share is shown apart */
    int npids;
} cases_side_t;

typedef struct {
    int rounds;        /* 1..CASES_MAX_ROUNDS */
    int warmup_s;      /* per run, 0 = none */
    int duration_s;    /* per measured run */
    bool self_check;   /* the target is a second floor */
    int shards;        /* stores behind the gateway under --shards, 0 = one, no map */
    const pid_t *pids; /* every process the benchmark started (nginx's
                          workers too), for "others" */
    int npids;
    cases_side_t sides[CASES_SIDES]; /* the floor and the target always run */
} cases_config_t;

/* Runs every case for cfg->rounds rounds on every side that has a URL and
   prints the tables. Blocks for about sides x cases x rounds x (warmup +
   duration) seconds. Returns 0, or -1 if a wrk run failed or
   *wrk->interrupted was set (the tables then show what ran). */
int cases_run (const cases_config_t *cfg, const wrk_config_t *wrk);

#endif
