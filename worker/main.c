/*
 * herald-worker — consumes herald.notifications, prints one line per
 * notification on stdout and marks the event processed through the gateway
 * (DESIGN §4). This file parses flags and environment and runs the consumer.
 * stdout carries only notification lines; logs go to stderr.
 */
#include "broker.h"
#include "config.h"
#include "consumer.h"
#include "herald_version.h"
#include "log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int sig)
{
    s_stop = 1;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: herald-worker [options]\n"
             "Consumes " BROKER_QUEUE ", prints each notification and marks it processed.\n\n"
             "  --amqp-url URL         broker (HERALD_AMQP_URL, " BROKER_URL_DEFAULT ")\n"
             "  --gateway-url URL      gateway (HERALD_GATEWAY_URL, http://127.0.0.1:8000)\n"
             "  --prefetch N           unacked deliveries, 1..65535 (HERALD_WORKER_PREFETCH, 32)\n"
             "  --max-attempts N       gateway attempts before dead-lettering "
             "(HERALD_WORKER_MAX_ATTEMPTS, 8)\n"
             "  --http-timeout-ms N    per HTTP request (HERALD_WORKER_HTTP_TIMEOUT_MS, 5000)\n"
             "  --retry-initial-ms N   first retry delay ceiling (HERALD_WORKER_RETRY_INITIAL_MS, "
             "1000)\n"
             "  --retry-max-ms N       retry delay ceiling (HERALD_WORKER_RETRY_MAX_MS, 15000)\n"
             "  --heartbeat S          AMQP heartbeat seconds (HERALD_AMQP_HEARTBEAT, %d)\n"
             "  --log-level L          debug|info|warn|error (HERALD_LOG_LEVEL, info)\n"
             "  --check                validate the configuration and exit\n"
             "  --help, --version\n"
             "With the defaults a message is retried for at least 30 s before it is\n"
             "dead-lettered to " BROKER_DEAD_QUEUE ".\n",
             BROKER_HEARTBEAT_DEFAULT);
}

int
main (int argc, char *argv[])
{
    enum {
        O_URL = 256,
        O_GW,
        O_PREFETCH,
        O_ATTEMPTS,
        O_TIMEOUT,
        O_RINIT,
        O_RMAX,
        O_HB,
        O_LOG,
        O_CHECK
    };
    static const struct option options[] = {
        { "amqp-url", required_argument, NULL, O_URL },
        { "gateway-url", required_argument, NULL, O_GW },
        { "prefetch", required_argument, NULL, O_PREFETCH },
        { "max-attempts", required_argument, NULL, O_ATTEMPTS },
        { "http-timeout-ms", required_argument, NULL, O_TIMEOUT },
        { "retry-initial-ms", required_argument, NULL, O_RINIT },
        { "retry-max-ms", required_argument, NULL, O_RMAX },
        { "heartbeat", required_argument, NULL, O_HB },
        { "log-level", required_argument, NULL, O_LOG },
        { "check", no_argument, NULL, O_CHECK },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *flag[O_CHECK + 1] = { NULL };
    bool check = false;
    int opt;
    while ((opt = getopt_long (argc, argv, "hV", options, NULL)) != -1) {
        if (opt == 'h') {
            s_usage (stdout);
            return 0;
        }
        if (opt == 'V') {
            printf ("herald-worker %s\n", HERALD_VERSION);
            return 0;
        }
        if (opt == O_CHECK)
            check = true;
        else if (opt >= O_URL && opt < O_CHECK)
            flag[opt] = optarg;
        else {
            s_usage (stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "herald-worker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    consumer_config_t config;
    int64_t prefetch, attempts, timeout, rinit, rmax, hb;
    log_level_t level = LOG_LEVEL_INFO;
    const char *level_text = config_str (flag[O_LOG], "HERALD_LOG_LEVEL", "info");
    config.amqp_url = config_str (flag[O_URL], "HERALD_AMQP_URL", BROKER_URL_DEFAULT);
    config.gateway_url = config_str (flag[O_GW], "HERALD_GATEWAY_URL", "http://127.0.0.1:8000");
    if (log_level_parse (level_text, &level) != 0) {
        fprintf (stderr, "log-level: invalid value '%s'\n", level_text);
        return 2;
    }
    if (config_int (flag[O_PREFETCH], "HERALD_WORKER_PREFETCH", 32, 1, 65535, "prefetch", &prefetch)
        || config_int (flag[O_ATTEMPTS], "HERALD_WORKER_MAX_ATTEMPTS", 8, 1, 1000, "max-attempts",
                       &attempts)
        || config_int (flag[O_TIMEOUT], "HERALD_WORKER_HTTP_TIMEOUT_MS", 5000, 10, 60000,
                       "http-timeout-ms", &timeout)
        || config_int (flag[O_RINIT], "HERALD_WORKER_RETRY_INITIAL_MS", 1000, 1, 600000,
                       "retry-initial-ms", &rinit)
        || config_int (flag[O_RMAX], "HERALD_WORKER_RETRY_MAX_MS", 15000, 1, 3600000,
                       "retry-max-ms", &rmax)
        || config_int (flag[O_HB], "HERALD_AMQP_HEARTBEAT", BROKER_HEARTBEAT_DEFAULT, 0, 3600,
                       "heartbeat", &hb))
        return 2;
    char err[256];
    if (broker_url_check (config.amqp_url, err, sizeof err) != 0) {
        fprintf (stderr, "amqp-url: %s\n", err);
        return 2;
    }
    if (strncmp (config.gateway_url, "http://", 7) != 0
        && strncmp (config.gateway_url, "https://", 8) != 0) {
        fprintf (stderr, "gateway-url: '%s' is not an http:// URL\n", config.gateway_url);
        return 2;
    }
    if (rmax < rinit) {
        fprintf (stderr, "retry-max-ms: must be >= retry-initial-ms\n");
        return 2;
    }
    if (hb > 0 && timeout >= hb * 1000 / 2) {
        fprintf (stderr, "http-timeout-ms: must stay below half the heartbeat (%lld s)\n",
                 (long long)hb);
        return 2;
    }
    config.prefetch = (int)prefetch;
    config.max_attempts = (int)attempts;
    config.http_timeout_ms = (int)timeout;
    config.retry_initial_ms = (int)rinit;
    config.retry_max_ms = (int)rmax;
    config.heartbeat_s = (int)hb;
    if (check) {
        printf ("herald-worker: configuration ok\n");
        return 0;
    }

    log_init ("herald-worker", level);
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    return consumer_run (&config, &s_stop) == 0 ? 0 : 1;
}
