/*
 * herald-worker — consumes herald.notifications, prints one line per
 * notification on stdout and marks the event processed through the gateway
 * (docs/ARCHITECTURE.md §4). This file reads the settings (common/options.h:
 * flag, else HERALD_* environment, else default), reads the gateway token
 * from its file (never argv) and runs the consumer.
 * stdout carries only notification lines; logs go to stderr.
 */
#include "broker.h"
#include "consumer.h"
#include "gateway_client.h"
#include "health.h"
#include "log.h"
#include "options.h"
#include "secret.h"
#include "stop.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static option_t s_options[] = {
    BROKER_OPTION_URL,
    BROKER_OPTION_PASSWORD_FILE,
    OPTION_SC ("gateway-url", "HERALD_GATEWAY_URL", "http://127.0.0.1:8000", "URL", "gateway",
               options_check_http_url),
    OPTION_S ("gateway-token-file", "HERALD_GATEWAY_TOKEN_FILE", NULL, "PATH",
              "file holding this worker's API token (scopes read,write), sent as "
              "Authorization: Bearer; unset sends none (a gateway in protected mode)"),
    OPTION_I ("prefetch", "HERALD_WORKER_PREFETCH", "256", 1, 65535, "N",
              "unacked deliveries held at once (RabbitMQ's basic.qos)"),
    OPTION_I ("http-connections", "HERALD_WORKER_HTTP_CONNECTIONS", "64", 1, 65535, "N",
              "requests to the gateway in flight at most, each on a kept-alive connection of "
              "its own (the gateway's --max-connections-per-client counts them); deliveries "
              "beyond wait their turn"),
    OPTION_I ("max-attempts", "HERALD_WORKER_MAX_ATTEMPTS", "8", 1, 1000, "N",
              "gateway attempts before dead-lettering"),
    OPTION_I ("http-timeout-ms", "HERALD_WORKER_HTTP_TIMEOUT_MS", "5000", 10, 60000, "N",
              "per HTTP request"),
    OPTION_I ("retry-initial-ms", "HERALD_WORKER_RETRY_INITIAL_MS", "1000", 1, 600000, "N",
              "first retry delay ceiling"),
    OPTION_I ("retry-max-ms", "HERALD_WORKER_RETRY_MAX_MS", "15000", 1, 3600000, "N",
              "retry delay ceiling"),
    BROKER_OPTION_HEARTBEAT,
    BROKER_OPTION_QUEUE_MAX,
    BROKER_OPTION_QUEUE_TYPE,
    BROKER_OPTION_DELIVERY_LIMIT,
    OPTION_S ("health-file", "HERALD_HEALTH_FILE", "/tmp/herald-worker.health", "PATH",
              "touched every second while consuming from RabbitMQ"),
    METRICS_HTTP_OPTION,
    OPTION_END,
};

int
main (int argc, char *argv[])
{
    options_t opts = {
        .program = "herald-worker",
        .summary = "Consumes " BROKER_QUEUE ", prints each notification and marks it processed.\n"
                   "With the defaults a message is retried for at least 30 s before it is\n"
                   "dead-lettered to " BROKER_DEAD_QUEUE ".",
        .check_help = "exit 0 if the running worker touched --health-file in the last 10 s "
                      "(connected, consuming), else 1",
        .options = s_options
    };
    int rc = options_start (&opts, argc, argv);
    if (rc != OPTIONS_RUN)
        return rc;
    consumer_config_t config = {
        .gateway_url = options_get (&opts, "gateway-url")->str,
        .prefetch = (int)options_get (&opts, "prefetch")->num,
        .http_connections = (int)options_get (&opts, "http-connections")->num,
        .max_attempts = (int)options_get (&opts, "max-attempts")->num,
        .http_timeout_ms = (int)options_get (&opts, "http-timeout-ms")->num,
        .heartbeat_s = (int)options_get (&opts, "heartbeat")->num,
        .queue = broker_queue_args_from_options (&opts),
        .retry_initial_ms = (int)options_get (&opts, "retry-initial-ms")->num,
        .retry_max_ms = (int)options_get (&opts, "retry-max-ms")->num,
        .health_file = options_get (&opts, "health-file")->str,
    };
    if (config.retry_max_ms < config.retry_initial_ms) {
        fprintf (stderr, "herald-worker: --retry-max-ms: must be >= --retry-initial-ms\n");
        return 2;
    }
    if (opts.check)
        return health_check (config.health_file, HEALTH_MAX_AGE_MS) == 0 ? 0 : 1;
    static char amqp_url[BROKER_URL_LIST_MAX];
    if (!(config.broker_url = broker_url_from_options (&opts, amqp_url, sizeof amqp_url)))
        return 2;

    char err[512];
    const char *token_file = options_get (&opts, "gateway-token-file")->str;
    char token[GATEWAY_TOKEN_MAX + 1];
    if (token_file) {
        bool world_readable = false;
        if (secret_file_read (token_file, token, sizeof token, &world_readable, err, sizeof err)
            != 0) {
            fprintf (stderr, "herald-worker: --gateway-token-file: %s\n", err);
            return 2;
        }
        if (world_readable)
            log_warn ("%s is readable by every user: chmod o-r it, it holds a secret", token_file);
        config.gateway_token = token;
    }
    worker_metrics_t metrics = { 0 };
    config.metrics = &metrics;
    if (metrics_http_from_options (&opts, worker_metrics_render, &metrics, &config.metrics_http)
        != 0)
        return 1;
    rc = consumer_run (&config, stop_on_signals ()) == 0 ? 0 : 1;
    metrics_http_destroy (&config.metrics_http);
    return rc;
}
