/*
 * herald-gateway — the HTTP API of docs/ARCHITECTURE.md §2 over the store.
 * This file reads the settings and starts --threads event loops (server.c;
 * each binds the same address with SO_REUSEPORT). On SIGINT/SIGTERM
 * (common/stop.h) every loop stops accepting, answers what is in flight and
 * returns; main joins them.
 * SIGHUP reloads the API tokens file (auth.h). With --shard-map each loop
 * routes to the store shards itself (backend.h) and reloads the map file
 * when a shard says it is stale; without it there is one store.
 */
#include "auth.h"
#include "check.h"
#include "herald_version.h"
#include "io_sched.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "server.h"
#include "shard_map.h"
#include "stop.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define S_THREADS_MAX 64
#define S_CHECK_TIMEOUT_MS 2000
#define S_HUP_TICK_NS (200 * 1000000L) /* main looks at the stop flag this often */

static option_t s_options[] = {
    OPTION_S ("listen", "HERALD_HTTP_LISTEN", "127.0.0.1:8000", "HOST:PORT",
              "HTTP listen address (several gateways may share it: SO_REUSEPORT)"),
    OPTION_SC ("store-endpoint", "HERALD_STORE_ENDPOINT", "tcp://127.0.0.1:5555", "EP",
               "store request endpoint", options_check_endpoint),
    OPTION_S ("shard-map", "HERALD_SHARD_MAP", NULL, "FILE",
              "a shard map (proto/PROTOCOL.md §9): route each request to the store shard that "
              "owns it, reloading the file when a shard answers `moved`; unset = one store at "
              "--store-endpoint"),
    OPTION_S ("curve-key", "HERALD_CURVE_KEY", NULL, "FILE",
              "this gateway's CURVE secret certificate (herald-keygen), for a store with keys"),
    OPTION_S ("store-public-key", "HERALD_STORE_PUBLIC_KEY", NULL, "FILE",
              "the store's CURVE public certificate (its NAME.key)"),
    OPTION_I ("timeout-ms", "HERALD_STORE_TIMEOUT_MS", "2000", 10, 600000, "N",
              "store round trip before a request is answered 504"),
    OPTION_I ("max-body", "HERALD_MAX_BODY", "65536", 64, 16777216, "N",
              "request body bytes before 413"),
    OPTION_I ("max-header-size", "HERALD_MAX_HEADER_SIZE", "8192", 4096, 1048576, "N",
              "memory per connection for the request line and headers and the answer's "
              "headers: a request head that leaves less than 1024 bytes of it (each header "
              "field counting 64 more) is refused (431)"),
    OPTION_I ("max-connections", "HERALD_MAX_CONNECTIONS", "1024", 1, 1000000, "N",
              "open HTTP connections (all loops together); more are refused"),
    OPTION_I ("max-connections-per-client", "HERALD_MAX_CONNECTIONS_PER_CLIENT", "256", 1, 1000000,
              "N", "open HTTP connections from one client address; more are refused"),
    OPTION_I ("request-timeout", "HERALD_HTTP_REQUEST_TIMEOUT", "30", 1, 3600, "S",
              "seconds a client has to send a whole request (headers and body), from its "
              "connection or its previous response; a slower one is disconnected"),
    OPTION_I ("max-inflight", "HERALD_MAX_INFLIGHT", "1024", 1, 1048576, "N",
              "store requests in flight per loop before 503"),
    OPTION_I ("store-batch", "HERALD_STORE_BATCH", "32", 1, 128, "N",
              "most requests one loop pass sends the store as one message (a batch, "
              "proto/PROTOCOL.md §3.1), a full one at once; 1 = one message each"),
    OPTION_I ("idle-timeout", "HERALD_HTTP_IDLE_TIMEOUT", "30", 1, 3600, "S",
              "seconds an idle or half-sent connection is kept"),
    OPTION_I ("threads", "HERALD_GATEWAY_THREADS", "1", 1, S_THREADS_MAX, "N",
              "event loops, each with its own HTTP daemon and store socket"),
    OPTION_C ("io-sched", "HERALD_IO_SCHED", "batch", "batch|normal", IO_SCHED_OPTION_HELP),
    OPTION_S ("tokens-file", "HERALD_TOKENS_FILE", NULL, "PATH",
              "API tokens (NAME SCOPES SHA256 lines, herald-token makes them); reloaded on "
              "SIGHUP. Without it: protected mode (loopback only)"),
    OPTION_FE ("insecure", "HERALD_INSECURE",
               "no tokens file and a non-loopback --listen: serve every client without "
               "authentication"),
    OPTION_END,
};

/* A loop that fails takes the others down with it: the gateway then exits
   1 instead of serving on with fewer loops than it was told. */
static void *
s_loop (void *arg)
{
    if (server_run (arg) != 0) {
        stop_request ();
        return arg;
    }
    return NULL;
}

int
main (int argc, char *argv[])
{
    options_t opts = { .program = "herald-gateway",
                       .summary =
                           "Serves Herald's HTTP/JSON API (docs/ARCHITECTURE.md §2) and forwards\n"
                           "each request to the store over ZeroMQ. API docs at /docs, metrics at\n"
                           "/metrics.",
                       .check_help =
                           "probe http://<listen>/readyz as a client; exit 0 if it answers 200 "
                           "within 2 s, else 1",
                       .options = s_options };
    int rc = options_start (&opts, argc, argv);
    if (rc != OPTIONS_RUN)
        return rc;
    const char *listen = options_get (&opts, "listen")->str;
    if (opts.check)
        return check_gateway (listen, S_CHECK_TIMEOUT_MS) == 0 ? 0 : 1;

    int threads = (int)options_get (&opts, "threads")->num;
    server_config_t config = {
        .listen = listen,
        .store_endpoint = options_get (&opts, "store-endpoint")->str,
        .shard_map = options_get (&opts, "shard-map")->str,
        .timeout_ms = (int)options_get (&opts, "timeout-ms")->num,
        .max_body = (size_t)options_get (&opts, "max-body")->num,
        .max_header_size = (size_t)options_get (&opts, "max-header-size")->num,
        .max_connections =
            (unsigned)((options_get (&opts, "max-connections")->num + threads - 1) / threads),
        .max_inflight = (size_t)options_get (&opts, "max-inflight")->num,
        .store_batch = (size_t)options_get (&opts, "store-batch")->num,
        .idle_timeout_s = (unsigned)options_get (&opts, "idle-timeout")->num,
        .max_per_client =
            (unsigned)((options_get (&opts, "max-connections-per-client")->num + threads - 1)
                       / threads),
        .request_timeout_s = (unsigned)options_get (&opts, "request-timeout")->num,
    };
    if (proto_limits_from_env (&config.limits) != 0)
        return 2;
    char err[512];
    char stores[64] = "";
    if (config.shard_map) {
        /* Read here first so that a broken map stops the start with its
           message; every loop then reads it for itself (backend.h). */
        shard_map_t *map = shard_map_load (config.shard_map, err, sizeof err);
        if (!map) {
            fprintf (stderr, "herald-gateway: --shard-map: %s\n", err);
            return 2;
        }
        snprintf (stores, sizeof stores, "%zu shards (map epoch %llu)", shard_map_shards (map),
                  (unsigned long long)shard_map_epoch (map));
        shard_map_destroy (&map);
    }
    curve_client_t curve;
    rc = curve_load_client (options_get (&opts, "curve-key")->str,
                            options_get (&opts, "store-public-key")->str, &curve, err, sizeof err);
    if (rc < 0) {
        fprintf (stderr, "herald-gateway: --curve-key / --store-public-key: %s\n", err);
        return 2;
    }
    config.curve = rc == 1 ? &curve : NULL;
    auth_t *auth =
        auth_new (options_get (&opts, "tokens-file")->str, options_get (&opts, "insecure")->set);
    if (!auth)
        return 2;
    config.auth = auth;

    /* Every loop polls the stop descriptor: a signal may land in any
       thread. SIGHUP is main's alone (blocked before the loops start, so
       they inherit the block): it reloads the tokens. */
    sigset_t hup;
    sigemptyset (&hup);
    sigaddset (&hup, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &hup, NULL);
    volatile sig_atomic_t *stop = stop_on_signals ();
    config.stop_fd = stop_fd ();
    if (config.stop_fd < 0) {
        log_error ("cannot make the stop descriptor: %s", strerror (errno));
        auth_destroy (&auth);
        return 1;
    }

    rc = 1;
    metrics_t *metrics = metrics_new ();
    void *ctx = zmq_ctx_new ();
    server_t *servers[S_THREADS_MAX] = { NULL };
    pthread_t tids[S_THREADS_MAX];
    int started = 0;
    if (!metrics || !ctx)
        goto cleanup;
    int policy = io_sched_policy (options_get (&opts, "io-sched")->num == 0);
    config.yield_to_io = policy >= 0 && zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, policy) == 0;
    if (policy >= 0 && !config.yield_to_io)
        log_warn ("--io-sched: %s", zmq_strerror (errno));
    for (int i = 0; i < threads; i++)
        if (!(servers[i] = server_new (&config, metrics, ctx)))
            goto cleanup;
    for (; started < threads; started++)
        if (pthread_create (&tids[started], NULL, s_loop, servers[started]) != 0) {
            log_error ("cannot start loop thread %d", started);
            stop_request ();
            break;
        }
    if (started == threads) {
        log_info ("listening on http://%s (%d loop%s), store %s, timeout %d ms, version %s", listen,
                  threads, threads > 1 ? "s" : "", stores[0] ? stores : config.store_endpoint,
                  config.timeout_ms, HERALD_VERSION);
        while (!*stop) {
            struct timespec tick = { 0, S_HUP_TICK_NS };
            if (sigtimedwait (&hup, NULL, &tick) == SIGHUP)
                auth_reload (auth);
        }
        rc = 0;
    }
cleanup:
    for (int i = 0; i < started; i++) {
        void *failed = NULL;
        pthread_join (tids[i], &failed);
        if (failed)
            rc = 1;
    }
    if (stop_reason ())
        log_info ("stopping on %s: requests in flight were answered", stop_reason ());
    for (int i = 0; i < threads; i++)
        server_destroy (&servers[i]);
    if (ctx)
        zmq_ctx_term (ctx);
    metrics_destroy (&metrics);
    auth_destroy (&auth);
    if (rc == 0)
        log_info ("stopped");
    return rc;
}
