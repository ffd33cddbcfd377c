/*
 * herald-notifier — relays the store's change feed to RabbitMQ with
 * publisher confirms, acknowledging the feed cursor only behind them
 * (DESIGN §4). This file parses flags and environment and runs the relay.
 */
#include "broker.h"
#include "config.h"
#include "herald_version.h"
#include "log.h"
#include "proto.h"
#include "relay.h"

#include <czmq.h>
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
    fprintf (
        out,
        "Usage: herald-notifier [options]\n"
        "Relays herald-store's change feed to the RabbitMQ exchange " BROKER_EXCHANGE ".\n\n"
        "  --store-endpoint EP  store ROUTER (HERALD_STORE_ENDPOINT, tcp://127.0.0.1:5555)\n"
        "  --amqp-url URL       broker (HERALD_AMQP_URL, " BROKER_URL_DEFAULT ")\n"
        "  --batch N            records per feed read, 1..%d (HERALD_NOTIFIER_BATCH, 500)\n"
        "  --window N           unconfirmed publishes in flight (HERALD_NOTIFIER_WINDOW, 2000)\n"
        "  --heartbeat S        AMQP heartbeat seconds, 0 = off (HERALD_AMQP_HEARTBEAT, %d)\n"
        "  --poll-ms N          feed poll interval when idle (HERALD_NOTIFIER_POLL_MS, 5)\n"
        "  --drain-ms N         wait for confirms on shutdown (HERALD_NOTIFIER_DRAIN_MS, 5000)\n"
        "  --log-level L        debug|info|warn|error (HERALD_LOG_LEVEL, info)\n"
        "  --check              validate the configuration and exit\n"
        "  --help, --version\n",
        PROTO_FEED_READ_MAX, BROKER_HEARTBEAT_DEFAULT);
}

int
main (int argc, char *argv[])
{
    enum { O_STORE = 256, O_URL, O_BATCH, O_WINDOW, O_HB, O_POLL, O_DRAIN, O_LOG, O_CHECK };
    static const struct option options[] = {
        { "store-endpoint", required_argument, NULL, O_STORE },
        { "amqp-url", required_argument, NULL, O_URL },
        { "batch", required_argument, NULL, O_BATCH },
        { "window", required_argument, NULL, O_WINDOW },
        { "heartbeat", required_argument, NULL, O_HB },
        { "poll-ms", required_argument, NULL, O_POLL },
        { "drain-ms", required_argument, NULL, O_DRAIN },
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
            printf ("herald-notifier %s\n", HERALD_VERSION);
            return 0;
        }
        if (opt == O_CHECK)
            check = true;
        else if (opt >= O_STORE && opt < O_CHECK)
            flag[opt] = optarg;
        else {
            s_usage (stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "herald-notifier: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    relay_config_t config;
    int64_t batch, window, hb, poll_ms, drain_ms;
    log_level_t level = LOG_LEVEL_INFO;
    const char *level_text = config_str (flag[O_LOG], "HERALD_LOG_LEVEL", "info");
    config.store_endpoint =
        config_str (flag[O_STORE], "HERALD_STORE_ENDPOINT", "tcp://127.0.0.1:5555");
    config.amqp_url = config_str (flag[O_URL], "HERALD_AMQP_URL", BROKER_URL_DEFAULT);
    char err[256];
    if (log_level_parse (level_text, &level) != 0) {
        fprintf (stderr, "log-level: invalid value '%s'\n", level_text);
        return 2;
    }
    if (config_int (flag[O_BATCH], "HERALD_NOTIFIER_BATCH", 500, 1, PROTO_FEED_READ_MAX, "batch",
                    &batch)
        || config_int (flag[O_WINDOW], "HERALD_NOTIFIER_WINDOW", 2000, 1, 1000000, "window",
                       &window)
        || config_int (flag[O_HB], "HERALD_AMQP_HEARTBEAT", BROKER_HEARTBEAT_DEFAULT, 0, 3600,
                       "heartbeat", &hb)
        || config_int (flag[O_POLL], "HERALD_NOTIFIER_POLL_MS", 5, 1, 60000, "poll-ms", &poll_ms)
        || config_int (flag[O_DRAIN], "HERALD_NOTIFIER_DRAIN_MS", 5000, 0, 600000, "drain-ms",
                       &drain_ms))
        return 2;
    if (broker_url_check (config.amqp_url, err, sizeof err) != 0) {
        fprintf (stderr, "amqp-url: %s\n", err);
        return 2;
    }
    if (strncmp (config.store_endpoint, "tcp://", 6) != 0
        && strncmp (config.store_endpoint, "ipc://", 6) != 0) {
        fprintf (stderr, "store-endpoint: '%s' is not tcp:// or ipc://\n", config.store_endpoint);
        return 2;
    }
    config.batch = (int)batch;
    config.window = (int)window;
    config.heartbeat_s = (int)hb;
    config.poll_ms = (int)poll_ms;
    config.drain_ms = (int)drain_ms;
    if (check) {
        printf ("herald-notifier: configuration ok\n");
        return 0;
    }

    log_init ("herald-notifier", level);
    zsys_handler_set (NULL); /* our own handlers: the relay drains on stop */
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    return relay_run (&config, &s_stop) == 0 ? 0 : 1;
}
