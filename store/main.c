/*
 * herald-store — the event store (docs/ARCHITECTURE.md §3): in memory,
 * journaled to --data-dir, one shard of a sharded store with --shard-map.
 * This file parses flags and environment, wires the dispatcher to the
 * server and runs the loop until SIGINT/SIGTERM; `--check` pings a running
 * store instead.
 */
#include "check.h"
#include "curve.h"
#include "dispatch.h"
#include "herald_version.h"
#include "io_sched.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "options.h"
#include "stop.h"
#include "persist.h"
#include "proto.h"
#include "server.h"
#include "shard_map.h"

#include <assert.h>
#include <czmq.h>
#include <signal.h>
#include <stdio.h>

#define S_BIND_DEFAULT "tcp://127.0.0.1:5555"
#define S_PUB_BIND_DEFAULT "tcp://127.0.0.1:5556"
#define S_CHECK_TIMEOUT_MS 1000
#define S_MAX_EVENTS_DEFAULT "10000000"   /* events before creates get 503 ... */
#define S_MAX_MEMORY_DEFAULT "4294967296" /* ... or bytes of events (4 GiB) */

static option_t s_options[] = {
    OPTION_SC ("bind", "HERALD_STORE_BIND", S_BIND_DEFAULT, "EP", "request endpoint (ROUTER)",
               options_check_endpoint),
    OPTION_SC ("pub-bind", "HERALD_STORE_PUB_BIND", S_PUB_BIND_DEFAULT, "EP",
               "live change stream (PUB; observers only, not the delivery path)",
               options_check_endpoint),
    OPTION_I ("feed-max", "HERALD_FEED_MAX", OPTION_XSTR (FEED_MAX_DEFAULT), 1, FEED_MAX_LIMIT, "N",
              "unacknowledged changes before creates are refused (updates: as many again past it, "
              "at least 100000)"),
    OPTION_I ("max-events", "HERALD_STORE_MAX_EVENTS", S_MAX_EVENTS_DEFAULT, 0, EVENT_TABLE_MAX,
              "N",
              "events held before a create is refused (503 store full; updates and reads go "
              "on); 0 = no cap"),
    OPTION_I ("max-memory", "HERALD_STORE_MAX_MEMORY", S_MAX_MEMORY_DEFAULT, 0, INT64_MAX, "BYTES",
              "bytes of events (strings and the table's own structures) before a create is "
              "refused, as above; 0 = no cap"),
    OPTION_S ("data-dir", "HERALD_STORE_DATA_DIR", NULL, "DIR",
              "journal directory (created if missing); unset = in memory only: a restart "
              "loses every event"),
    OPTION_C ("fsync", "HERALD_STORE_FSYNC", "always", "always|everysec|no",
              "when the journal is synced: before every reply (a 201 is on disk), once a "
              "second, or when the kernel likes"),
    OPTION_I ("compact-factor", "HERALD_STORE_COMPACT_FACTOR", "2", 2, 1000, "N",
              "compact the journal when it is N times the live data ..."),
    OPTION_I ("compact-min-bytes", "HERALD_STORE_COMPACT_MIN_BYTES", "67108864", 4096, INT64_MAX,
              "BYTES", "... and at least this big"),
    OPTION_S (
        "curve-key", "HERALD_STORE_CURVE_KEY", NULL, "FILE",
        "the store's CURVE secret certificate (herald-keygen DIR store: DIR/store.key_secret); "
        "with --curve-clients, only allowed clients get in and all traffic is encrypted"),
    OPTION_S ("curve-clients", "HERALD_STORE_CURVE_CLIENTS", NULL, "DIR",
              "the public certificates (NAME.key) of the clients allowed in; read again when it "
              "changes"),
    OPTION_S ("shard-map", "HERALD_SHARD_MAP", NULL, "FILE",
              "the shard map (proto/PROTOCOL.md §9): this store is shard --shard-id of it, mints "
              "ids in its own slots and answers `moved` for the others'; unset = one store owning "
              "every id"),
    OPTION_I ("shard-id", "HERALD_SHARD_ID", NULL, 0, SHARD_MAP_SHARDS_MAX - 1, "N",
              "this store's shard in --shard-map (its Nth shard line, from 0)"),
    OPTION_C ("io-sched", "HERALD_IO_SCHED", "batch", "batch|normal", IO_SCHED_OPTION_HELP),
    METRICS_HTTP_OPTION,
    OPTION_FE ("insecure", "HERALD_INSECURE",
               "bind a non-loopback endpoint without CURVE keys (anyone who reaches it can read "
               "and change every event)"),
    OPTION_F ("journal-verify", "read the journal in --data-dir, report what it holds and "
                                "whether the store can start from it, and exit 0 or 1 "
                                "without starting or changing anything"),
    OPTION_END,
};

/* Loads the CURVE keys into *keys and points curve->keys at them, or
   applies protected mode when there are none: a store reachable beyond
   this machine without keys refuses to start unless --insecure. Returns
   OPTIONS_RUN to go on, else the exit code. */
static int
s_security (options_t *opts, const char *bind, const char *pub_bind, curve_keypair_t *keys,
            server_curve_t *curve)
{
    const char *key_file = options_get (opts, "curve-key")->str;
    if (!key_file != !curve->clients_dir) {
        fprintf (stderr, "herald-store: --curve-key and --curve-clients go together\n");
        return 2;
    }
    if (key_file) {
        char err[512];
        if (!curve_available ()) {
            fprintf (stderr, "herald-store: --curve-key: this libzmq has no CURVE\n");
            return 2;
        }
        if (curve_load_keypair (key_file, keys, err, sizeof err) != 0) {
            fprintf (stderr, "herald-store: --curve-key: %s\n", err);
            return 2;
        }
        curve->keys = keys;
        return OPTIONS_RUN;
    }
    const char *open = !curve_endpoint_is_local (bind)       ? bind
                       : !curve_endpoint_is_local (pub_bind) ? pub_bind
                                                             : NULL;
    if (open && !options_get (opts, "insecure")->set) {
        fprintf (stderr,
                 "herald-store: refusing to bind %s without CURVE keys: anyone who can reach it "
                 "could read and change every event. Give --curve-key and --curve-clients (make "
                 "the keys with herald-keygen), bind 127.0.0.1 or ipc://, or say --insecure "
                 "(HERALD_INSECURE=1) on a network you trust.\n",
                 open);
        return 2;
    }
    if (open)
        log_warn ("--insecure: %s is reachable beyond this machine without CURVE keys", open);
    return OPTIONS_RUN;
}

/* Loads --shard-map into *map when given (NULL when not: unsharded), with
   --shard-id checked against it. Returns OPTIONS_RUN, else the exit code
   (2: the map or the id is wrong, said on stderr). */
static int
s_shard_map (options_t *opts, shard_map_t **map, size_t *shard)
{
    const char *path = options_get (opts, "shard-map")->str;
    option_t *id = options_get (opts, "shard-id");
    *map = NULL;
    *shard = 0;
    if (!path != !id->str) {
        fprintf (stderr, "herald-store: --shard-map and --shard-id go together\n");
        return 2;
    }
    if (!path)
        return OPTIONS_RUN;
    char err[512];
    *map = shard_map_load (path, err, sizeof err);
    if (!*map) {
        fprintf (stderr, "herald-store: --shard-map: %s\n", err);
        return 2;
    }
    *shard = (size_t)id->num;
    if (*shard >= shard_map_shards (*map)) {
        fprintf (stderr, "herald-store: --shard-id %zu: %s has shards 0 to %zu only\n", *shard,
                 path, shard_map_shards (*map) - 1);
        shard_map_destroy (map);
        return 2;
    }
    return OPTIONS_RUN;
}

int
main (int argc, char *argv[])
{
    options_t opts = {
        .program = "herald-store",
        .summary = "Keeps Herald's events in memory; serves requests on a ZeroMQ ROUTER and\n"
                   "publishes every change on a PUB socket.",
        .check_help = "ping the store at --bind (as a client) and exit 0 if it answers within "
                      "1 s, else 1",
        .options = s_options
    };
    int rc = options_start (&opts, argc, argv);
    if (rc != OPTIONS_RUN)
        return rc;
    const char *bind = options_get (&opts, "bind")->str;
    const char *pub_bind = options_get (&opts, "pub-bind")->str;
    int64_t feed_max = options_get (&opts, "feed-max")->num;
    uint64_t max_events = (uint64_t)options_get (&opts, "max-events")->num;
    uint64_t max_memory = (uint64_t)options_get (&opts, "max-memory")->num;
    bool check = opts.check;
    persist_config_t journal = {
        .dir = options_get (&opts, "data-dir")->str,
        .compact_factor = (uint64_t)options_get (&opts, "compact-factor")->num,
        .compact_min = (uint64_t)options_get (&opts, "compact-min-bytes")->num,
    };
    rc = journal_fsync_parse (options_get (&opts, "fsync")->str, &journal.fsync);
    assert (rc == 0); /* the option's choices are the parser's words */
    if (options_get (&opts, "journal-verify")->set) {
        if (!journal.dir) {
            fprintf (stderr, "herald-store: --journal-verify needs --data-dir\n");
            return 2;
        }
        return persist_verify (journal.dir);
    }
    proto_limits_t limits;
    if (proto_limits_from_env (&limits) != 0)
        return 2;
    /* czmq must not install its own signal handlers with the first socket
       (zcert makes none, but the store's check and server do). */
    zsys_handler_set (NULL);
    curve_keypair_t keys;
    server_curve_t curve = { NULL, options_get (&opts, "curve-clients")->str };
    rc = s_security (&opts, bind, pub_bind, &keys, &curve);
    if (rc != OPTIONS_RUN)
        return rc;
    if (check)
        return check_store (bind, curve.keys, S_CHECK_TIMEOUT_MS) == 0 ? 0 : 1;

    shard_map_t *map;
    size_t shard;
    rc = s_shard_map (&opts, &map, &shard);
    if (rc != OPTIONS_RUN)
        return rc;

    /* Before the server's first socket starts czmq's threads. */
    zsys_set_thread_sched_policy (io_sched_policy (options_get (&opts, "io-sched")->num == 0));
    /* SIGINT/SIGTERM set our stop flag, as in the other services. */
    volatile sig_atomic_t *stop = stop_on_signals ();
    /* A file size limit (ulimit -f) makes a journal write fail with EFBIG,
       handled as a full disk (writes refused, retried each tick), instead
       of killing the store. */
    signal (SIGXFSZ, SIG_IGN);
    dispatch_t *dispatch = dispatch_new ((size_t)feed_max, &limits);
    if (!dispatch) {
        shard_map_destroy (&map);
        log_error ("out of memory");
        return 1;
    }
    if (map) {
        log_info ("shard %zu of %zu (%s in the map, %u slots, map epoch %llu)", shard,
                  shard_map_shards (map), shard_map_endpoint (map, shard),
                  shard_map_slot_count (map, shard), (unsigned long long)shard_map_epoch (map));
        dispatch_set_shard (dispatch, map, shard); /* takes the map */
    }
    persist_t *persist = NULL;
    if (journal.dir) {
        persist = persist_open (dispatch, &journal);
        if (!persist) {
            dispatch_destroy (&dispatch);
            return 1;
        }
    } else
        log_warn ("no --data-dir: events are kept in memory only, and a restart loses every event");
    /* The caps apply to creates only: a journal holding more than a
       lowered cap is loaded whole, and the store then takes no new event. */
    dispatch_set_capacity (dispatch, max_events, max_memory);
    const char *full = dispatch_full (dispatch);
    if (full)
        log_warn ("at start: %s until --max-events / --max-memory are raised", full);
    server_t *server = server_new (dispatch, bind, pub_bind, &curve);
    if (!server) {
        persist_destroy (&persist);
        dispatch_destroy (&dispatch);
        return 1;
    }
    server_set_persist (server, persist);
    metrics_http_t *metrics = NULL;
    store_metrics_t sources = { dispatch, persist };
    if (metrics_http_from_options (&opts, store_metrics_render, &sources, &metrics) != 0) {
        server_destroy (&server);
        persist_destroy (&persist);
        dispatch_destroy (&dispatch);
        return 1;
    }
    server_set_metrics (server, metrics);
    log_info ("serving requests on %s, changes on %s (feed max %lld, version %s)", bind, pub_bind,
              (long long)feed_max, HERALD_VERSION);
    char store_id[PROTO_UUID_LEN + 1];
    proto_uuid_format (dispatch_store_id (dispatch), store_id);
    log_info ("store id %s", store_id);
    rc = server_run (server, stop);
    dispatch_counters_t *c = dispatch_counters (dispatch);
    log_info ("stopping: %zu events, %llu requests, %llu errors, %llu unroutable, %llu dropped",
              event_table_size (dispatch_table (dispatch)), (unsigned long long)c->requests,
              (unsigned long long)c->errors, (unsigned long long)c->unroutable,
              (unsigned long long)c->dropped);
    metrics_http_destroy (&metrics);
    server_destroy (&server);
    persist_destroy (&persist);
    dispatch_destroy (&dispatch);
    return rc == 0 ? 0 : 1;
}
