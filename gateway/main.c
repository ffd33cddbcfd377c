/*
 * herald-gateway — the HTTP API of docs/ARCHITECTURE.md §2 over the store.
 * This file reads the settings, starts --threads event loops (server.c; each
 * binds the same address with SO_REUSEPORT) and waits for SIGINT/SIGTERM, on
 * which every loop stops accepting, answers what is in flight and returns.
 * SIGHUP reloads the API tokens file (auth.h).
 */
#include "auth.h"
#include "check.h"
#include "herald_version.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "server.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_THREADS_MAX 64
#define S_CHECK_TIMEOUT_MS 2000

static option_t s_options[] = {
    OPTION_S ("listen", "HERALD_HTTP_LISTEN", "127.0.0.1:8000", "HOST:PORT",
              "HTTP listen address (several gateways may share it: SO_REUSEPORT)"),
    OPTION_S ("store-endpoint", "HERALD_STORE_ENDPOINT", "tcp://127.0.0.1:5555", "EP",
              "store request endpoint"),
    OPTION_I ("timeout-ms", "HERALD_STORE_TIMEOUT_MS", "2000", 10, 600000, "N",
              "store round trip before a request is answered 504"),
    OPTION_I ("max-body", "HERALD_MAX_BODY", "65536", 64, 16777216, "N",
              "request body bytes before 413"),
    OPTION_I ("max-connections", "HERALD_MAX_CONNECTIONS", "1024", 1, 1000000, "N",
              "open HTTP connections (all loops together); more are refused"),
    OPTION_I ("max-inflight", "HERALD_MAX_INFLIGHT", "4096", 1, 1048576, "N",
              "store requests in flight per loop before 503"),
    OPTION_I ("idle-timeout", "HERALD_HTTP_IDLE_TIMEOUT", "30", 1, 3600, "S",
              "seconds an idle or half-sent connection is kept"),
    OPTION_I ("threads", "HERALD_GATEWAY_THREADS", "1", 1, S_THREADS_MAX, "N",
              "event loops, each with its own HTTP daemon and store socket"),
    OPTION_S ("tokens-file", "HERALD_TOKENS_FILE", NULL, "PATH",
              "API tokens (NAME SCOPES SHA256 lines, herald-token makes them); reloaded on "
              "SIGHUP. Without it: protected mode (loopback only)"),
    OPTION_F ("insecure", "no tokens file and a non-loopback --listen: serve every client "
                          "without authentication (also HERALD_INSECURE=1)"),
    OPTION_F ("check", "probe http://<listen>/readyz as a client; exit 0 if it answers 200 "
                       "within 2 s, else 1"),
    OPTION_END,
};

static void *
s_loop (void *arg)
{
    server_run (arg);
    return NULL;
}

int
main (int argc, char *argv[])
{
    options_t opts = { "herald-gateway",
                       "Serves Herald's HTTP/JSON API (docs/ARCHITECTURE.md §2) and forwards\n"
                       "each request to the store over ZeroMQ. API docs at /docs, metrics at\n"
                       "/metrics.",
                       s_options, LOG_LEVEL_INFO };
    int rc = options_parse (&opts, argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    log_init ("herald-gateway", opts.log_level);
    const char *listen = options_get (&opts, "listen")->str;
    if (options_get (&opts, "check")->set)
        return check_gateway (listen, S_CHECK_TIMEOUT_MS) == 0 ? 0 : 1;

    int threads = (int)options_get (&opts, "threads")->num;
    server_config_t config = {
        .listen = listen,
        .store_endpoint = options_get (&opts, "store-endpoint")->str,
        .timeout_ms = (int)options_get (&opts, "timeout-ms")->num,
        .max_body = (size_t)options_get (&opts, "max-body")->num,
        .max_connections =
            (unsigned)((options_get (&opts, "max-connections")->num + threads - 1) / threads),
        .max_inflight = (size_t)options_get (&opts, "max-inflight")->num,
        .idle_timeout_s = (unsigned)options_get (&opts, "idle-timeout")->num,
    };
    if (proto_limits_from_env (&config.limits) != 0)
        return 2;
    const char *insecure_env = getenv ("HERALD_INSECURE");
    bool insecure =
        options_get (&opts, "insecure")->set || (insecure_env && strcmp (insecure_env, "1") == 0);
    auth_t *auth = auth_new (options_get (&opts, "tokens-file")->str, insecure);
    if (!auth)
        return 2;
    config.auth = auth;

    /* Signals are taken by sigwait below, never by a loop thread. */
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    signal (SIGPIPE, SIG_IGN);

    rc = 1;
    metrics_t *metrics = metrics_new ();
    void *ctx = zmq_ctx_new ();
    server_t *servers[S_THREADS_MAX] = { NULL };
    pthread_t tids[S_THREADS_MAX];
    int started = 0;
    if (!metrics || !ctx)
        goto cleanup;
    for (int i = 0; i < threads; i++)
        if (!(servers[i] = server_new (&config, metrics, ctx)))
            goto cleanup;
    for (; started < threads; started++)
        if (pthread_create (&tids[started], NULL, s_loop, servers[started]) != 0) {
            log_error ("cannot start loop thread %d", started);
            break;
        }
    if (started == threads) {
        log_info ("listening on http://%s (%d loop%s), store %s, timeout %d ms, version %s", listen,
                  threads, threads > 1 ? "s" : "", config.store_endpoint, config.timeout_ms,
                  HERALD_VERSION);
        int sig = 0;
        while (sigwait (&signals, &sig) == 0 && sig == SIGHUP)
            auth_reload (auth);
        log_info ("%s received, finishing requests in flight",
                  sig == SIGINT ? "SIGINT" : "SIGTERM");
        rc = 0;
    }
cleanup:
    for (int i = 0; i < started; i++)
        server_stop (servers[i]);
    for (int i = 0; i < started; i++)
        pthread_join (tids[i], NULL);
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
