/*
 * wrk_run — runs Debian's wrk as a child process for one benchmark case and
 * reads back the one machine-readable line herald-bench-gateway.lua's done()
 * hook prints (wrk itself is found with peer_bin.h).
 */
#ifndef HERALD_BENCH_WRK_RUN_H
#define HERALD_BENCH_WRK_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    long requests;
    double duration_s;
    double rps;
    double p50_ms, p90_ms, p99_ms, max_ms;
    long socket_errors; /* connect + read + write + timeout */
    long status_errors; /* responses with status >= 400 */
} wrk_result_t;

typedef struct {
    const char *wrk;                    /* absolute path of the wrk binary */
    const char *script;                 /* herald-bench-gateway.lua */
    const char *ids_path;               /* event ids, one per line (modes get, mixed) */
    const char *out_dir;                /* where wrk's output files go */
    int threads;                        /* wrk -t */
    int connections;                    /* wrk -c */
    volatile sig_atomic_t *interrupted; /* set by a signal: stop early */
} wrk_config_t;

/* Called about once a second while wrk runs, with the whole seconds
   elapsed since it started. */
typedef void (wrk_tick_fn) (int elapsed_s, void *arg);

/* Runs wrk against url (e.g. "http://127.0.0.1:8000/ping") for seconds in
   the script's mode ("static", "get", "post", "mixed"), calling tick (may be
   NULL) each second. Blocks for about `seconds`; wrk is killed if it is
   still running 30 s past that or when *interrupted is set. Fills out and
   returns 0, or -1 when wrk failed or printed no result line (its output
   file is named on stderr). */
int wrk_run (const wrk_config_t *cfg, const char *mode, const char *url, int seconds,
             wrk_tick_fn *tick, void *tick_arg, wrk_result_t *out);

#endif
