/*
 * herald-store — the in-memory event store (DESIGN §3). This file parses
 * flags and environment, wires the dispatcher to the server and runs the
 * loop until SIGINT/SIGTERM; `--check` pings a running store instead.
 */
#include "check.h"
#include "config.h"
#include "dispatch.h"
#include "herald_version.h"
#include "log.h"
#include "proto.h"
#include "server.h"

#include <czmq.h>
#include <getopt.h>
#include <stdio.h>

#define S_BIND_DEFAULT "tcp://127.0.0.1:5555"
#define S_PUB_BIND_DEFAULT "tcp://127.0.0.1:5556"
#define S_CHECK_TIMEOUT_MS 1000

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: herald-store [options]\n"
             "Keeps Herald's events in memory; serves requests on a ZeroMQ ROUTER and\n"
             "publishes every change on a PUB socket.\n\n"
             "  --bind EP         request endpoint (HERALD_STORE_BIND, " S_BIND_DEFAULT ")\n"
             "  --pub-bind EP     live change stream (HERALD_STORE_PUB_BIND, " S_PUB_BIND_DEFAULT
             ")\n"
             "  --feed-max N      unacknowledged changes before writes are refused, 1..%d\n"
             "                    (HERALD_FEED_MAX, %d)\n"
             "  --log-level L     debug|info|warn|error (HERALD_LOG_LEVEL, info)\n"
             "  --check           ping the store at --bind (as a client) and exit 0 if it\n"
             "                    answers within 1 s, else 1\n"
             "  --help, --version\n",
             FEED_MAX_LIMIT, FEED_MAX_DEFAULT);
}

int
main (int argc, char *argv[])
{
    enum { O_BIND = 256, O_PUB, O_FEED_MAX, O_LOG, O_CHECK };
    static const struct option options[] = {
        { "bind", required_argument, NULL, O_BIND },
        { "pub-bind", required_argument, NULL, O_PUB },
        { "feed-max", required_argument, NULL, O_FEED_MAX },
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
            printf ("herald-store %s\n", HERALD_VERSION);
            return 0;
        }
        if (opt == O_CHECK)
            check = true;
        else if (opt >= O_BIND && opt < O_CHECK)
            flag[opt] = optarg;
        else {
            s_usage (stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "herald-store: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    const char *bind = config_str (flag[O_BIND], "HERALD_STORE_BIND", S_BIND_DEFAULT);
    const char *pub_bind = config_str (flag[O_PUB], "HERALD_STORE_PUB_BIND", S_PUB_BIND_DEFAULT);
    const char *level_text = config_str (flag[O_LOG], "HERALD_LOG_LEVEL", "info");
    log_level_t level = LOG_LEVEL_INFO;
    if (log_level_parse (level_text, &level) != 0) {
        fprintf (stderr, "log-level: invalid value '%s'\n", level_text);
        return 2;
    }
    int64_t feed_max;
    if (config_int (flag[O_FEED_MAX], "HERALD_FEED_MAX", FEED_MAX_DEFAULT, 1, FEED_MAX_LIMIT,
                    "feed-max", &feed_max)
        != 0)
        return 2;
    proto_limits_t limits;
    if (proto_limits_from_env (&limits) != 0)
        return 2;
    log_init ("herald-store", level);
    if (check)
        return check_store (bind, S_CHECK_TIMEOUT_MS) == 0 ? 0 : 1;

    dispatch_t *dispatch = dispatch_new ((size_t)feed_max, &limits);
    if (!dispatch) {
        log_error ("out of memory");
        return 1;
    }
    server_t *server = server_new (dispatch, bind, pub_bind);
    if (!server) {
        dispatch_destroy (&dispatch);
        return 1;
    }
    log_info ("serving requests on %s, changes on %s (feed max %lld, version %s)", bind, pub_bind,
              (long long)feed_max, HERALD_VERSION);
    int rc = server_run (server);
    dispatch_counters_t *c = dispatch_counters (dispatch);
    log_info ("stopping: %zu events, %llu requests, %llu errors, %llu unroutable, %llu dropped",
              event_table_size (dispatch_table (dispatch)), (unsigned long long)c->requests,
              (unsigned long long)c->errors, (unsigned long long)c->unroutable,
              (unsigned long long)c->dropped);
    server_destroy (&server);
    dispatch_destroy (&dispatch);
    return rc == 0 ? 0 : 1;
}
