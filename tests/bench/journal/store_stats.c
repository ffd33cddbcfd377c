/*
 * store_stats — see store_stats.h.
 */
#include "store_stats.h"

#include "proto.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define STORE_STATS_RECONNECT_MS 1

store_client_t *
store_stats_client (const char *endpoint)
{
    store_client_config_t config = { .endpoint = endpoint,
                                     .reconnect_ms = STORE_STATS_RECONNECT_MS };
    return store_client_new (&config);
}

/* One request of op answered ok within timeout_ms, into reply (the caller
   clears it). Returns 0 or -1. */
static int
s_request (store_client_t *client, proto_op_t op, int timeout_ms, proto_reply_t *reply)
{
    proto_request_t req = { .op = op };
    if (store_client_call (client, &req, timeout_ms, reply) != 0)
        return -1;
    if (reply->status == PROTO_OK)
        return 0;
    fprintf (stderr, "bench: %s: %s\n", proto_op_name (op), proto_status_name (reply->status));
    proto_reply_clear (reply);
    return -1;
}

int
store_stats_ping (store_client_t *client, int timeout_ms)
{
    assert (client);
    proto_reply_t reply;
    if (s_request (client, PROTO_OP_PING, timeout_ms, &reply) != 0)
        return -1;
    proto_reply_clear (&reply);
    return 0;
}

/* The stats names the benchmarks read, and where each goes. */
static uint64_t *
s_slot (store_stats_t *out, const char *name, size_t len)
{
    static const struct {
        const char *name;
        size_t offset;
    } names[] = {
        { "events", offsetof (store_stats_t, events) },
        { "rss_bytes", offsetof (store_stats_t, rss_bytes) },
        { "journal_bytes", offsetof (store_stats_t, journal_bytes) },
        { "journal_live_bytes_estimate", offsetof (store_stats_t, journal_live_bytes) },
        { "journal_commits", offsetof (store_stats_t, journal_commits) },
        { "journal_records", offsetof (store_stats_t, journal_records) },
        { "journal_syncs", offsetof (store_stats_t, journal_syncs) },
        { "journal_sync_us_total", offsetof (store_stats_t, journal_sync_us_total) },
        { "journal_sync_us_max", offsetof (store_stats_t, journal_sync_us_max) },
        { "journal_unsynced_max_ms", offsetof (store_stats_t, journal_unsynced_max_ms) },
        { "journal_write_errors", offsetof (store_stats_t, journal_write_errors) },
        { "journal_rewrites", offsetof (store_stats_t, journal_rewrites) },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen (names[i].name) == len && memcmp (names[i].name, name, len) == 0)
            return (uint64_t *)((char *)out + names[i].offset);
    return NULL;
}

int
store_stats_read (store_client_t *client, store_stats_t *out, int timeout_ms)
{
    assert (client);
    memset (out, 0, sizeof *out);
    proto_reply_t reply;
    if (s_request (client, PROTO_OP_STATS, timeout_ms, &reply) != 0)
        return -1;
    for (size_t i = 0; i < reply.n_stats; i++) {
        const proto_stat_t *stat = &reply.stats[i];
        uint64_t *slot = s_slot (out, stat->name.ptr, stat->name.len);
        if (slot)
            *slot = stat->value;
        if (stat->name.len == 13 && memcmp (stat->name.ptr, "journal_bytes", 13) == 0)
            out->journal = true;
    }
    proto_reply_clear (&reply);
    return 0;
}

int
store_stats_fetch (const char *endpoint, store_stats_t *out, int timeout_ms)
{
    store_client_t *client = store_stats_client (endpoint);
    if (!client)
        return -1;
    int rc = store_stats_read (client, out, timeout_ms);
    store_client_destroy (&client);
    return rc;
}
