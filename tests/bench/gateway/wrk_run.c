/*
 * wrk_run — one wrk process per benchmark case. wrk writes its usual report
 * and the HERALD_WRK line into a file under the run's scratch directory; we
 * poll for its exit with a deadline (the case's duration plus a margin),
 * calling the caller's tick each second so it can sample the server while
 * the load is on, then parse the line. Parsing the Lua hook's line rather
 * than wrk's human report keeps units fixed (microseconds) and gives the
 * error counters wrk only prints when they are non-zero.
 */
#include "wrk_run.h"

#include "clock.h"
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WRK_GRACE_MS 30000 /* beyond the duration before wrk is killed */
#define WRK_POLL_MS 20
#define WRK_LINE_MAX 512

static void
s_nap_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

/* Finds the HERALD_WRK line in path and parses it. Returns 0 or -1. */
static int
s_parse (const char *path, wrk_result_t *out)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line[WRK_LINE_MAX];
    int rc = -1;
    while (fgets (line, sizeof line, file)) {
        long requests, duration_us, p50, p90, p99, max, connect, rd, wr, status, timeout;
        if (sscanf (line,
                    "HERALD_WRK requests=%ld duration_us=%ld p50_us=%ld p90_us=%ld p99_us=%ld "
                    "max_us=%ld connect=%ld read=%ld write=%ld status=%ld timeout=%ld",
                    &requests, &duration_us, &p50, &p90, &p99, &max, &connect, &rd, &wr, &status,
                    &timeout)
            != 11)
            continue;
        if (duration_us <= 0)
            break;
        out->requests = requests;
        out->duration_s = (double)duration_us / 1e6;
        out->rps = (double)requests / out->duration_s;
        out->p50_ms = (double)p50 / 1000.0;
        out->p90_ms = (double)p90 / 1000.0;
        out->p99_ms = (double)p99 / 1000.0;
        out->max_ms = (double)max / 1000.0;
        out->socket_errors = connect + rd + wr + timeout;
        out->status_errors = status;
        rc = 0;
        break;
    }
    fclose (file);
    return rc;
}

int
wrk_run (const wrk_config_t *cfg, const char *mode, const char *url, int seconds, wrk_tick_fn *tick,
         void *tick_arg, wrk_result_t *out)
{
    static int run_count = 0;
    char out_path[1024], threads[16], connections[16], duration[24], env_mode[64], env_ids[1100];
    snprintf (out_path, sizeof out_path, "%s/wrk-%02d-%s.out", cfg->out_dir, ++run_count, mode);
    snprintf (threads, sizeof threads, "%d", cfg->threads);
    snprintf (connections, sizeof connections, "%d", cfg->connections);
    snprintf (duration, sizeof duration, "%ds", seconds);
    snprintf (env_mode, sizeof env_mode, "HERALD_BENCH_MODE=%s", mode);
    snprintf (env_ids, sizeof env_ids, "HERALD_BENCH_IDS=%s", cfg->ids_path ? cfg->ids_path : "");
    const char *argv[] = { cfg->wrk,    "-t", threads, "-c",        connections, "-d", duration,
                           "--timeout", "5s", "-s",    cfg->script, url,         NULL };
    const char *env[] = { env_mode, env_ids, NULL };
    unlink (out_path);
    pid_t pid = harness_spawn (argv, env, out_path, out_path);
    if (pid < 0) {
        fprintf (stderr, "bench: cannot start %s: %s\n", cfg->wrk, strerror (errno));
        return -1;
    }
    int64_t start = clock_mono_ms ();
    int64_t deadline = start + (int64_t)seconds * 1000 + WRK_GRACE_MS;
    int ticked = 0, status = 0;
    bool exited = false;
    while (clock_mono_ms () < deadline && !*cfg->interrupted) {
        pid_t r = waitpid (pid, &status, WNOHANG);
        if (r == pid || r < 0) {
            exited = r == pid;
            break;
        }
        int elapsed = (int)((clock_mono_ms () - start) / 1000);
        if (tick && elapsed > ticked && elapsed <= seconds) {
            ticked = elapsed;
            tick (elapsed, tick_arg);
        }
        s_nap_ms (WRK_POLL_MS);
    }
    if (!exited) {
        fprintf (stderr, "bench: stopping wrk (pid %d): %s\n", (int)pid,
                 *cfg->interrupted ? "interrupted" : "past its deadline");
        harness_stop (pid, SIGTERM, 2000);
        return -1;
    }
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || s_parse (out_path, out) != 0) {
        fprintf (stderr, "bench: wrk failed (status %d); its output: %s\n", status, out_path);
        return -1;
    }
    return 0;
}
