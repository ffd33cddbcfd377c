/*
 * herald-notifier — relays the store's change feed to RabbitMQ with
 * publisher confirms, acknowledging the feed cursor only behind them
 * (docs/ARCHITECTURE.md §4). This file reads the settings (common/options.h:
 * flag, else HERALD_* environment, else default) and runs the relay.
 */
#include "broker.h"
#include "health.h"
#include "log.h"
#include "options.h"
#include "stop.h"
#include "progress.h"
#include "proto.h"
#include "relay.h"

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static option_t s_options[] = {
    OPTION_SC ("store-endpoint", "HERALD_STORE_ENDPOINT", "tcp://127.0.0.1:5555", "EP",
               "store ROUTER", options_check_endpoint),
    OPTION_SC ("store-pub-endpoint", "HERALD_STORE_PUB_ENDPOINT", "tcp://127.0.0.1:5556", "EP",
               "store's live stream, a wake-up when a change is made (none = poll only)",
               options_check_endpoint_or_none),
    OPTION_S ("curve-key", "HERALD_CURVE_KEY", NULL, "FILE",
              "this notifier's CURVE secret certificate (herald-keygen), for a store with keys"),
    OPTION_S ("store-public-key", "HERALD_STORE_PUBLIC_KEY", NULL, "FILE",
              "the store's CURVE public certificate (its NAME.key)"),
    BROKER_OPTION_URL,
    BROKER_OPTION_PASSWORD_FILE,
    OPTION_I ("batch", "HERALD_NOTIFIER_BATCH", "500", 1, PROTO_FEED_READ_MAX, "N",
              "records per feed read"),
    OPTION_I ("window", "HERALD_NOTIFIER_WINDOW", "2000", 1, 1000000, "N",
              "unconfirmed publishes in flight"),
    BROKER_OPTION_HEARTBEAT,
    BROKER_OPTION_QUEUE_MAX,
    BROKER_OPTION_QUEUE_TYPE,
    BROKER_OPTION_DELIVERY_LIMIT,
    OPTION_I ("poll-ms", "HERALD_NOTIFIER_POLL_MS", "50", 1, 4000, "N",
              "feed poll interval when idle and no change is announced"),
    OPTION_I ("drain-ms", "HERALD_NOTIFIER_DRAIN_MS", "5000", 0, 600000, "N",
              "wait for confirms on shutdown"),
    OPTION_S ("health-file", "HERALD_HEALTH_FILE", "/tmp/herald-notifier.health", "PATH",
              "touched every second while connected to the store and RabbitMQ"),
    OPTION_I ("stall-ms", "HERALD_NOTIFIER_STALL_MS", OPTION_XSTR (PROGRESS_STALL_MS_DEFAULT), 100,
              86400000, "N",
              "changes pending in the feed this long with none relayed: unhealthy (--check)"),
    METRICS_HTTP_OPTION,
    OPTION_END,
};

int
main (int argc, char *argv[])
{
    options_t opts = {
        .program = "herald-notifier",
        .summary =
            "Relays herald-store's change feed to the RabbitMQ exchange " BROKER_EXCHANGE ".",
        .check_help = "exit 0 if the running notifier touched --health-file in the last "
                      "10 s (connected, relaying) and is not stalled (--stall-ms), else 1",
        .options = s_options
    };
    int rc = options_start (&opts, argc, argv);
    if (rc != OPTIONS_RUN)
        return rc;
    relay_config_t config = {
        .store_endpoint = options_get (&opts, "store-endpoint")->str,
        .store_pub_endpoint = options_get (&opts, "store-pub-endpoint")->str,
        .batch = (int)options_get (&opts, "batch")->num,
        .window = (int)options_get (&opts, "window")->num,
        .heartbeat_s = (int)options_get (&opts, "heartbeat")->num,
        .queue = broker_queue_args_from_options (&opts),
        .poll_ms = (int)options_get (&opts, "poll-ms")->num,
        .drain_ms = (int)options_get (&opts, "drain-ms")->num,
        .health_file = options_get (&opts, "health-file")->str,
        .stall_ms = (int)options_get (&opts, "stall-ms")->num,
    };
    if (strcmp (config.store_pub_endpoint, "none") == 0)
        config.store_pub_endpoint = NULL;
    curve_client_t curve;
    char err[512];
    rc = curve_load_client (options_get (&opts, "curve-key")->str,
                            options_get (&opts, "store-public-key")->str, &curve, err, sizeof err);
    if (rc < 0) {
        fprintf (stderr, "herald-notifier: --curve-key / --store-public-key: %s\n", err);
        return 2;
    }
    config.curve = rc == 1 ? &curve : NULL;
    if (opts.check)
        return health_check (config.health_file, HEALTH_MAX_AGE_MS) == 0 ? 0 : 1;
    static char amqp_url[BROKER_URL_LIST_MAX];
    if (!(config.broker_url = broker_url_from_options (&opts, amqp_url, sizeof amqp_url)))
        return 2;

    zsys_handler_set (NULL); /* our own handlers: the relay drains on stop */
    notifier_metrics_t metrics = { 0 };
    config.metrics = &metrics;
    if (metrics_http_from_options (&opts, notifier_metrics_render, &metrics, &config.metrics_http)
        != 0)
        return 1;
    rc = relay_run (&config, stop_on_signals ()) == 0 ? 0 : 1;
    metrics_http_destroy (&config.metrics_http);
    return rc;
}
