/*
 * herald-bench-gateway — the gateway's throughput, latency and CPU per
 * request against the floor and against the peers a user would pick
 * instead, in one run on one machine (docs/ARCHITECTURE.md §8, issue 3
 * item 7, issue 15).
 *
 * Starts, on free loopback ports: herald-bench-floor (a libmicrohttpd
 * server answering a fixed event-sized JSON body), herald-store and
 * herald-gateway (default flags, plus whatever follows `--`). Seeds --events
 * events through POST /events, keeping their ids in a file. Then the peers
 * (--no-peers skips them): webdis + a private redis-server, the same ids
 * seeded as keys holding the event (peer_webdis.h), and nginx proxying to
 * the floor (peer_nginx.h), --peer-threads each (webdis's HTTP threads,
 * nginx's workers; by default the gateway's --threads). A peer whose
 * package is missing is skipped with a message; Herald's figures never
 * are. Then runs each case with Debian's wrk (--wrk-threads threads,
 * --connections connections, a --warmup run then a --duration run):
 *   GET /ping         static request (webdis: GET /PING)
 *   GET /readyz       static request, a ping to the store each, to every
 *                     shard under --shards (webdis: GET /PING, a round
 *                     trip to Redis)
 *   GET /events/{id}  cycling over the seeded ids (a Lua request() hook;
 *                     webdis: GET /GET/<id>)
 *   POST /events      JSON body with Content-Type (webdis: PUT /SET/<key>,
 *                     the event as the body)
 * Each case runs on every side back to back under the same wrk load (same
 * script mode: wrk's own per-request cost is then the same everywhere): the
 * floor, the gateway, webdis, nginx (cases.h). --rounds repeats them all;
 * the tables (cases_report.h) show medians over the rounds, the median of
 * the per-round ratios gateway/floor with the floor's spread, the errors,
 * CPU per request, the peers' figures with the gateway's ratios to webdis,
 * and PASS/MISS against issue 15's targets against webdis + Redis: GET
 * and POST >= 1.25 x its req/s, p99 <= its p99, CPU per request <= 0.8 x
 * its. The floor is a reference, no longer a target (issue 15 retired
 * issue 3's 0.6x / 0.5x of it). It prints verdicts; it asserts nothing
 * (this is not a CTest test).
 *
 * Then the fsync columns (fsync_cases.h): POST /events against a fresh
 * herald-store + herald-gateway per run, the store in each mode of
 * --fsync-modes (off = no journal, no, everysec, always; `none` skips
 * them), --rounds rounds interleaved, ratios to off beside the issue 12
 * targets (everysec >= 0.9 x off, always >= 0.5 x off), the mean
 * group-commit batch and fdatasync latency from the store's stats, and
 * this disk's own fdatasync latency sampled between the runs. Data dirs go
 * under --data-root (default: the build directory, the disk under test)
 * and are removed after each run.
 *
 * --soak SECONDS instead keeps a mixed load on the gateway (creates, reads,
 * updates, lists, /ping, 404s and 422s) for that long, samples the gateway's
 * VmRSS every second, and prints the RSS after --soak-warmup seconds and at
 * the end, and the growth between them (memory must stay flat under load).
 *
 * --self-check runs the cases with a second floor standing in for the
 * gateway (no store, no gateway, synthetic ids): every ratio to the floor
 * should be near 1, which checks the driver, the wrk modes and the ratio
 * arithmetic; the peers run too (seeded with the synthetic ids).
 *
 * Usage: herald-bench-gateway [options] [-- herald-gateway flags...]
 *   e.g. herald-bench-gateway --rounds 2 -- --threads 2
 *        herald-bench-gateway --soak 60
 * wrk's script, herald-bench-gateway.lua, is read from the directory of
 * this binary (the build copies it into bin/). The store runs with
 * --feed-max 100000000: nothing acknowledges its change feed here, and the
 * default would refuse writes (503) after 100000 creates. Every child (the
 * peers' too) is stopped by PID at the end, on failure and on
 * SIGINT/SIGTERM.
 */
#include "cases.h"
#include "cpu.h"
#include "data_dir.h"
#include "fsync_cases.h"
#include "harness.h"
#include "peer_bin.h"
#include "peer_sides.h"
#include "seed.h"
#include "shard_map.h"
#include "stop.h"
#include "wrk_run.h"

#include <curl/curl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHARDS_MAX 4 /* --shards: herald-store processes behind the gateway */
#define MAX_CHILDREN (2 + SHARDS_MAX)
#define MAX_PIDS (MAX_CHILDREN + PEER_SIDES_MAX_PIDS)
#define MAX_GATEWAY_ARGS 32
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 10000

typedef struct {
    int duration, warmup, connections, wrk_threads, events, floor_threads;
    int soak, soak_warmup, rounds, fsync_samples;
    int peer_threads; /* 0: the gateway's --threads */
    int shards;       /* 0: one store, no map; N: N shards of one map (issue 17) */
    bool self_check, no_peers;
    store_mode_t modes[STORE_MODE_COUNT];
    int nmodes; /* 0: no fsync columns */
    char data_root[1024];
    const char *gateway_args[MAX_GATEWAY_ARGS];
    int gateway_argc;
} options_t;

static volatile sig_atomic_t *s_interrupted; /* stop_on_signals () */
static pid_t s_children[MAX_CHILDREN];
static int s_child_count;
static peer_sides_t s_peers; /* stopped with the children */

/* Stops every child this program started, newest first, by PID. */
static void
s_stop_children (void)
{
    peer_sides_stop (&s_peers);
    while (s_child_count > 0) {
        pid_t pid = s_children[--s_child_count];
        harness_stop (pid, SIGTERM, STOP_TIMEOUT_MS);
    }
}

/* True while the child runs; once it has exited (and been reaped) it is
   dropped from the list, so its PID is never signalled again. */
static bool
s_child_alive (pid_t pid)
{
    if (harness_alive (pid))
        return true;
    for (int i = 0; i < s_child_count; i++)
        if (s_children[i] == pid) {
            s_children[i] = s_children[--s_child_count];
            break;
        }
    return false;
}

/* Starts a child whose output goes to <tmpdir>/<name>.log and waits until
   it accepts TCP on port. Returns its PID or -1. */
static pid_t
s_start (const char *name, const char *const argv[], int port)
{
    char log[1024];
    snprintf (log, sizeof log, "%s/%s.log", harness_tmpdir (), name);
    pid_t pid = harness_spawn (argv, NULL, log, log);
    if (pid < 0)
        return -1;
    s_children[s_child_count++] = pid;
    if (harness_wait_tcp (port, START_TIMEOUT_MS) != 0 || !s_child_alive (pid)) {
        fprintf (stderr, "bench: %s did not start on port %d; see %s\n", argv[0], port, log);
        return -1;
    }
    return pid;
}

/* The soak's per-second RSS samples of the gateway. */
typedef struct {
    pid_t pid;
    int warmup_s;
    long warm_kib, last_kib, peak_kib, first_kib;
} soak_t;

static void
s_soak_tick (int elapsed, void *arg)
{
    soak_t *soak = arg;
    long kib = harness_rss_kib (soak->pid);
    if (kib < 0)
        return;
    if (soak->first_kib < 0)
        soak->first_kib = kib;
    if (elapsed == soak->warmup_s)
        soak->warm_kib = kib;
    if (elapsed >= soak->warmup_s && kib > soak->peak_kib)
        soak->peak_kib = kib;
    soak->last_kib = kib;
    if (elapsed % 10 == 0 || elapsed == soak->warmup_s)
        printf ("  %4d s  gateway VmRSS %8ld KiB\n", elapsed, kib);
    fflush (stdout);
}

static int
s_soak (const options_t *opts, const wrk_config_t *wrk, const char *gateway_url, pid_t gateway)
{
    soak_t soak = { gateway, opts->soak_warmup, -1, -1, -1, -1 };
    long before = harness_rss_kib (gateway);
    printf ("soak: mixed load on the gateway for %d s (%d connections), RSS before load %ld "
            "KiB\n",
            opts->soak, opts->connections, before);
    wrk_result_t result;
    cpu_sample_t cpu_before, cpu_after;
    cpu_sample (&cpu_before, s_children, s_child_count, NULL, 0);
    if (wrk_run (wrk, "mixed", gateway_url, opts->soak, s_soak_tick, &soak, &result) != 0)
        return -1;
    cpu_sample (&cpu_after, s_children, s_child_count, NULL, 0);
    long after = harness_rss_kib (gateway);
    if (after >= 0) {
        soak.last_kib = after;
        if (after > soak.peak_kib)
            soak.peak_kib = after;
    }
    printf ("soak: %.0f req/s, p50 %.3f ms, p99 %.3f ms, max %.2f ms, %ld socket errors, "
            "%ld HTTP >= 400 (the mix includes a 404 and a 422 in every 8); other processes "
            "took %.0f%% of the CPUs\n",
            result.rps, result.p50_ms, result.p99_ms, result.max_ms, result.socket_errors,
            result.status_errors, cpu_others_pct (&cpu_before, &cpu_after));
    if (soak.warm_kib < 0) {
        fprintf (stderr, "bench: no RSS sample at %d s\n", opts->soak_warmup);
        return -1;
    }
    long growth = soak.last_kib - soak.warm_kib;
    printf ("soak: gateway VmRSS %ld KiB at %d s (after warm-up), %ld KiB at the end, peak %ld "
            "KiB: growth %+ld KiB (%+.2f%%)\n",
            soak.warm_kib, opts->soak_warmup, soak.last_kib, soak.peak_kib, growth,
            100.0 * (double)growth / (double)soak.warm_kib);
    return s_child_alive (gateway) ? 0 : -1;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: herald-bench-gateway [options] [-- herald-gateway flags...]\n"
                  "Benchmarks herald-gateway against a bare libmicrohttpd floor, webdis + Redis\n"
                  "and nginx proxying to the floor, with wrk, in one run.\n\n"
                  "  --duration S       seconds per measured run (10)\n"
                  "  --warmup S         seconds of warm-up load before each run, 0 = none (2)\n"
                  "  --rounds N         rounds of all cases on all sides, medians reported (1)\n"
                  "  --connections N    wrk connections (64)\n"
                  "  --wrk-threads N    wrk threads (1: fairest on 2 cores)\n"
                  "  --events N         events seeded for GET /events/{id} (10000)\n"
                  "  --floor-threads N  herald-bench-floor polling threads (1)\n"
                  "  --soak S           instead of the cases: S seconds of mixed load, gateway\n"
                  "                     RSS sampled every second (0 = off)\n"
                  "  --soak-warmup S    the soak's RSS baseline is taken at S seconds (10)\n"
                  "  --self-check       a second floor stands in for the gateway (ratios ~1)\n"
                  "  --no-peers         no webdis + Redis, no nginx: the floor and the gateway\n"
                  "  --peer-threads N   webdis's HTTP threads and nginx's worker processes\n"
                  "                     (the gateway's --threads, or 1)\n"
                  "  --fsync-modes LIST POST /events per store mode, comma-separated, or none\n"
                  "                     (" STORE_MODES_DEFAULT ")\n"
                  "  --fsync-samples N  this disk's fdatasync samples, over all rounds (300)\n"
                  "  --data-root DIR    where the stores' data dirs go (the build directory)\n"
                  "  --shards N         the gateway routes to N herald-store shards of one map\n"
                  "                     (1..4; 0, the default: one store, no map); the fsync\n"
                  "                     columns keep one store\n"
                  "  --help\n"
                  "Flags after -- go to herald-gateway (e.g. -- --threads 2).\n"
                  "Targets (printed as PASS/MISS, not asserted): GET /events/{id} and\n"
                  "POST /events >= 1.25 x webdis + Redis, p99 <= its, CPU/request <= 0.8 x its;\n"
                  "POST /events with --fsync everysec >= 0.9 x off, always >= 0.5 x off.\n"
                  "Needs wrk on PATH; the peers need webdis, redis-server and nginx(-light),\n"
                  "each skipped with a message when missing.\n"
                  "Logs and wrk output: $TMPDIR/herald-test-herald-bench-gateway-PID/.\n");
}

static int
s_parse_options (int argc, char *argv[], options_t *opts)
{
    static const struct option options[] = {
        { "duration", required_argument, NULL, 'd' },
        { "warmup", required_argument, NULL, 'w' },
        { "connections", required_argument, NULL, 'c' },
        { "wrk-threads", required_argument, NULL, 't' },
        { "events", required_argument, NULL, 'n' },
        { "floor-threads", required_argument, NULL, 'f' },
        { "soak", required_argument, NULL, 's' },
        { "soak-warmup", required_argument, NULL, 'W' },
        { "rounds", required_argument, NULL, 'r' },
        { "self-check", no_argument, NULL, 'S' },
        { "fsync-modes", required_argument, NULL, 'm' },
        { "fsync-samples", required_argument, NULL, 'F' },
        { "data-root", required_argument, NULL, 'D' },
        { "no-peers", no_argument, NULL, 'P' },
        { "peer-threads", required_argument, NULL, 'T' },
        { "shards", required_argument, NULL, 'X' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "d:w:c:t:n:f:s:W:r:Sh", options, NULL)) != -1) {
        if (opt == 'S' || opt == 'P') {
            *(opt == 'S' ? &opts->self_check : &opts->no_peers) = true;
            continue;
        }
        if (opt == 'm') {
            opts->nmodes = strcmp (optarg, "none") == 0
                               ? 0
                               : store_mode_parse_list (optarg, opts->modes, STORE_MODE_COUNT);
            if (opts->nmodes < 0)
                return 2;
            continue;
        }
        if (opt == 'D') {
            snprintf (opts->data_root, sizeof opts->data_root, "%s", optarg);
            continue;
        }
        if (opt == 'h' || opt == '?') {
            s_usage (opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
        char *end = NULL;
        long value = strtol (optarg, &end, 10);
        if (!end || *end || value < 0 || value > 1000000) {
            fprintf (stderr, "bench: bad value: %s (see --help)\n", optarg);
            return 2;
        }
        int *field = opt == 'd'   ? &opts->duration
                     : opt == 'w' ? &opts->warmup
                     : opt == 'c' ? &opts->connections
                     : opt == 't' ? &opts->wrk_threads
                     : opt == 'n' ? &opts->events
                     : opt == 'f' ? &opts->floor_threads
                     : opt == 's' ? &opts->soak
                     : opt == 'r' ? &opts->rounds
                     : opt == 'F' ? &opts->fsync_samples
                     : opt == 'T' ? &opts->peer_threads
                     : opt == 'X' ? &opts->shards
                                  : &opts->soak_warmup;
        *field = (int)value;
    }
    for (int i = optind; i < argc; i++) {
        if (opts->gateway_argc >= MAX_GATEWAY_ARGS - 1) {
            fprintf (stderr, "bench: too many gateway flags\n");
            return 2;
        }
        opts->gateway_args[opts->gateway_argc++] = argv[i];
    }
    if (opts->duration < 1 || opts->connections < 1 || opts->wrk_threads < 1
        || opts->connections < opts->wrk_threads || opts->events < 1 || opts->floor_threads < 1
        || opts->rounds < 1 || opts->rounds > CASES_MAX_ROUNDS
        || opts->rounds > FSYNC_CASES_MAX_ROUNDS || opts->peer_threads > PEER_NGINX_MAX_WORKERS
        || (opts->soak > 0 && opts->soak <= opts->soak_warmup) || (opts->soak && opts->self_check)
        || opts->shards > SHARDS_MAX || (opts->shards && opts->self_check)) {
        fprintf (stderr, "bench: inconsistent options (see --help)\n");
        return 2;
    }
    return data_dir_root_option (opts->data_root, sizeof opts->data_root) == 0 ? -1 : 2;
}

/* Starts the floor on a free port; returns its port or -1. */
static int
s_start_floor (const char *name, int threads)
{
    int port = harness_free_port ();
    char port_s[16], threads_s[16];
    snprintf (port_s, sizeof port_s, "%d", port);
    snprintf (threads_s, sizeof threads_s, "%d", threads);
    const char *argv[] = {
        harness_bin ("herald-bench-floor"), "--port", port_s, "--threads", threads_s, NULL
    };
    return s_start (name, argv, port) < 0 ? -1 : port;
}

/* Starts herald-store as shard `shard` of map_path (NULL: unsharded) on
   store_port. Returns its PID or -1. */
static pid_t
s_start_store (int store_port, const char *map_path, int shard)
{
    char bind[64], pub[64], id[16], name[32];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", store_port);
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", harness_free_port ());
    snprintf (id, sizeof id, "%d", shard);
    if (map_path)
        snprintf (name, sizeof name, "store%d", shard);
    else
        snprintf (name, sizeof name, "store");
    const char *argv[] = { harness_bin ("herald-store"),
                           "--bind",
                           bind,
                           "--pub-bind",
                           pub,
                           "--feed-max",
                           "100000000",
                           "--log-level",
                           "warn",
                           map_path ? "--shard-map" : NULL,
                           map_path,
                           "--shard-id",
                           id,
                           NULL };
    return s_start (name, argv, store_port);
}

/* Writes a map of n shards on ports, the slots split in n even ranges, to
   path. 0 or -1. */
static int
s_write_map (const char *path, const int *ports, int n)
{
    char text[1024];
    int at = snprintf (text, sizeof text, "epoch 1\n");
    for (int i = 0; i < n; i++)
        at += snprintf (text + at, sizeof text - (size_t)at, "shard tcp://127.0.0.1:%d %d-%d\n",
                        ports[i], i * SHARD_MAP_SLOTS / n, (i + 1) * SHARD_MAP_SLOTS / n - 1);
    return at < (int)sizeof text ? harness_write_file (path, text) : -1;
}

/* Starts herald-store (or opts->shards shards of one map) and
   herald-gateway; returns the gateway's PID or -1. */
static pid_t
s_start_gateway (const options_t *opts, int *port)
{
    char endpoint[64], listen[64], map_path[1024];
    int ports[SHARDS_MAX] = { 0 }, n = opts->shards > 0 ? opts->shards : 1;
    snprintf (map_path, sizeof map_path, "%s/shards.map", harness_tmpdir ());
    for (int i = 0; i < n; i++)
        ports[i] = harness_free_port ();
    if (opts->shards > 0 && s_write_map (map_path, ports, n) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (s_start_store (ports[i], opts->shards > 0 ? map_path : NULL, i) < 0)
            return -1;
    *port = harness_free_port ();
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", ports[0]);
    snprintf (listen, sizeof listen, "127.0.0.1:%d", *port);
    const char *argv[10 + MAX_GATEWAY_ARGS] = { harness_bin ("herald-gateway"),
                                                "--listen",
                                                listen,
                                                "--store-endpoint",
                                                endpoint,
                                                "--log-level",
                                                "warn" };
    int argc = 7;
    if (opts->shards > 0) {
        argv[argc++] = "--shard-map";
        argv[argc++] = map_path;
    }
    for (int i = 0; i < opts->gateway_argc; i++)
        argv[argc++] = opts->gateway_args[i];
    argv[argc] = NULL;
    printf ("herald-gateway");
    for (int i = 1; i < argc; i++)
        printf (" %s", argv[i]);
    printf ("\n");
    return s_start ("gateway", argv, *port);
}

/* The gateway's event loops: --threads N (or --threads=N) among the flags
   after --, else HERALD_GATEWAY_THREADS (the gateway inherits this
   process's environment), else its default, 1. */
static int
s_gateway_threads (const options_t *opts)
{
    const char *value = getenv ("HERALD_GATEWAY_THREADS");
    for (int i = 0; i < opts->gateway_argc; i++) {
        const char *arg = opts->gateway_args[i];
        if (strcmp (arg, "--threads") == 0 && i + 1 < opts->gateway_argc)
            value = opts->gateway_args[++i];
        else if (strncmp (arg, "--threads=", 10) == 0)
            value = arg + 10;
    }
    int threads = value ? atoi (value) : 1;
    return threads >= 1 && threads <= PEER_NGINX_MAX_WORKERS ? threads : 1;
}

/* The cases, on the floor, the target (the children started after the
   floor) and the peers, which are stopped afterwards. Returns 0 or -1. */
static int
s_run_cases (const options_t *opts, const wrk_config_t *wrk, pid_t floor_pid, int floor_port,
             const char *target_url)
{
    char floor_url[64];
    pid_t target_pids[MAX_CHILDREN], all_pids[MAX_PIDS];
    int ntarget = 0;
    for (int i = 0; i < s_child_count; i++) {
        all_pids[i] = s_children[i];
        if (s_children[i] != floor_pid)
            target_pids[ntarget++] = s_children[i];
    }
    snprintf (floor_url, sizeof floor_url, "http://127.0.0.1:%d", floor_port);
    cases_config_t cfg = { .rounds = opts->rounds,
                           .warmup_s = opts->warmup,
                           .duration_s = opts->duration,
                           .self_check = opts->self_check,
                           .shards = opts->shards,
                           .pids = all_pids,
                           .npids = s_child_count,
                           .sides = {
                               [CASES_FLOOR] = { floor_url, NULL, &floor_pid, 1 },
                               [CASES_TARGET] = { target_url, NULL, target_pids, ntarget } } };
    int threads = opts->peer_threads > 0 ? opts->peer_threads : s_gateway_threads (opts);
    peer_sides_start (&s_peers, opts->no_peers, threads, floor_port, opts->connections,
                      wrk->ids_path, &cfg, all_pids);
    int rc = cases_run (&cfg, wrk);
    peer_sides_stop (&s_peers);
    return rc;
}

int
main (int argc, char *argv[])
{
    options_t opts = { .duration = 10,
                       .warmup = 2,
                       .connections = 64,
                       .wrk_threads = 1,
                       .events = 10000,
                       .floor_threads = 1,
                       .soak_warmup = 10,
                       .rounds = 1,
                       .fsync_samples = 300 };
    opts.nmodes = store_mode_parse_list (STORE_MODES_DEFAULT, opts.modes, STORE_MODE_COUNT);
    int parsed = s_parse_options (argc, argv, &opts);
    if (parsed >= 0)
        return parsed;

    char wrk_path[1024], script[1100], exe[1024], ids_path[1024];
    if (peer_bin_find ("wrk", wrk_path, sizeof wrk_path) != 0) {
        fprintf (stderr, "bench: wrk not found on PATH (Debian package wrk)\n");
        return 1;
    }
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return 1;
    exe[len] = '\0';
    snprintf (script, sizeof script, "%s/herald-bench-gateway.lua", dirname (exe));
    snprintf (ids_path, sizeof ids_path, "%s/ids.txt", harness_tmpdir ());

    s_interrupted = stop_on_signals ();
    curl_global_init (CURL_GLOBAL_DEFAULT);

    wrk_config_t wrk = { wrk_path,         script,           ids_path,     harness_tmpdir (),
                         opts.wrk_threads, opts.connections, s_interrupted };
    char floor_url[64], gateway_url[64];
    int rc = 1, floor_port, gateway_port;
    pid_t gateway = -1;
    /* s_children in start order: the floor, then the target's processes
       (herald-store and herald-gateway, or the second floor). */
    if ((floor_port = s_start_floor ("floor", opts.floor_threads)) < 0)
        goto cleanup;
    pid_t floor_pid = s_children[s_child_count - 1];
    snprintf (floor_url, sizeof floor_url, "http://127.0.0.1:%d", floor_port);
    if (opts.self_check) {
        if ((gateway_port = s_start_floor ("floor-b", opts.floor_threads)) < 0
            || seed_fake_ids (opts.events, ids_path) != 0)
            goto cleanup;
        snprintf (gateway_url, sizeof gateway_url, "http://127.0.0.1:%d", gateway_port);
        printf ("self-check: floor-b on %s stands in for the gateway\n", gateway_url);
    } else {
        if ((gateway = s_start_gateway (&opts, &gateway_port)) < 0)
            goto cleanup;
        snprintf (gateway_url, sizeof gateway_url, "http://127.0.0.1:%d", gateway_port);
        if (seed_wait_ready (gateway_url, START_TIMEOUT_MS, s_interrupted) != 0) {
            fprintf (stderr, "bench: %s/readyz never answered 200\n", gateway_url);
            goto cleanup;
        }
        if (seed_events (gateway_url, opts.events, ids_path, s_interrupted) != 0)
            goto cleanup;
        printf ("seeded %d events through POST /events\n", opts.events);
    }
    printf ("floor %s (%d thread%s), gateway %s; logs in %s\n", floor_url, opts.floor_threads,
            opts.floor_threads == 1 ? "" : "s", gateway_url, harness_tmpdir ());
    fflush (stdout);
    if (opts.soak > 0)
        rc = s_soak (&opts, &wrk, gateway_url, gateway) == 0 ? 0 : 1;
    else {
        rc = s_run_cases (&opts, &wrk, floor_pid, floor_port, gateway_url) == 0 ? 0 : 1;
        if (rc == 0 && opts.nmodes > 0 && !opts.self_check) {
            fsync_cases_config_t fsync = { .fsync = { .modes = opts.modes,
                                                      .nmodes = opts.nmodes,
                                                      .rounds = opts.rounds,
                                                      .data_root = opts.data_root,
                                                      .probe_samples = (size_t)opts.fsync_samples,
                                                      .interrupted = s_interrupted },
                                           .warmup_s = opts.warmup,
                                           .duration_s = opts.duration,
                                           .gateway_args = opts.gateway_args,
                                           .gateway_argc = opts.gateway_argc,
                                           .pids = s_children,
                                           .npids = s_child_count };
            rc = fsync_cases_run (&fsync, &wrk) == 0 ? 0 : 1;
        }
    }
    if (gateway > 0 && !s_child_alive (gateway)) {
        fprintf (stderr, "bench: herald-gateway exited during the run\n");
        rc = 1;
    }
cleanup:
    s_stop_children ();
    curl_global_cleanup ();
    return rc;
}
