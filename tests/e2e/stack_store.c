/*
 * stack_store — the tests' direct line to herald-store (see stack.h): the
 * stats op over a short-lived store client (client/store_client.h), for
 * what the HTTP API does not show (the feed's head and acknowledged cursor,
 * the store's identity). One request per call with a deadline, so a store
 * that is down or restarting is an answer (-1), never a hang. The same for
 * each shard of a sharded scenario, at its own endpoint.
 */
#include "stack.h"

#include "proto.h"
#include "store_client.h"

#include <string.h>

#define STACK_STORE_TIMEOUT_MS 2000

static bool
s_is (proto_str_t name, const char *text)
{
    return name.len == strlen (text) && memcmp (name.ptr, text, name.len) == 0;
}

/* Fills out from a decoded stats reply; -1 if a counter is missing. */
static int
s_read_stats (const proto_reply_t *reply, stack_store_stats_t *out)
{
    if (reply->status != PROTO_OK || reply->op != PROTO_OP_STATS)
        return -1;
    int found = 0;
    for (size_t i = 0; i < reply->n_stats; i++) {
        const proto_stat_t *stat = &reply->stats[i];
        if (s_is (stat->name, "head"))
            out->head = stat->value, found |= 1;
        else if (s_is (stat->name, "acked"))
            out->acked = stat->value, found |= 2;
        else if (s_is (stat->name, "feed_len"))
            out->feed_len = stat->value, found |= 4;
        else if (s_is (stat->name, "events"))
            out->events = stat->value, found |= 8;
    }
    out->store_id[0] = '\0';
    if (reply->has_store_id)
        proto_uuid_format (reply->store_id, out->store_id);
    return found == 15 ? 0 : -1;
}

/* The stats of the store at endpoint. 0 or -1. */
static int
s_stats_at (const char *endpoint, stack_store_stats_t *out)
{
    memset (out, 0, sizeof *out);
    store_client_config_t config = { .endpoint = endpoint };
    store_client_t *client = store_client_new (&config);
    if (!client)
        return -1;
    proto_request_t req = { .op = PROTO_OP_STATS };
    proto_reply_t reply;
    int rc = -1;
    if (store_client_call (client, &req, STACK_STORE_TIMEOUT_MS, &reply) == 0) {
        rc = s_read_stats (&reply, out);
        proto_reply_clear (&reply);
    }
    store_client_destroy (&client);
    return rc;
}

int
stack_store_stats (e2e_stack_t *self, stack_store_stats_t *out)
{
    return s_stats_at (self->store_ep, out);
}

int
stack_shard_stats (e2e_stack_t *self, int i, stack_store_stats_t *out)
{
    if (i < 0 || i >= self->n_shards) {
        memset (out, 0, sizeof *out);
        return -1;
    }
    return s_stats_at (self->shards[i].endpoint, out);
}

/* Polls the store at endpoint until acked == head >= min_head. */
static int
s_wait_settled_at (const char *endpoint, uint64_t min_head, int timeout_ms,
                   stack_store_stats_t *out)
{
    int64_t until = clock_mono_ms () + timeout_ms;
    for (;;) {
        int rc = s_stats_at (endpoint, out);
        if (rc == 0 && out->head >= min_head && out->acked == out->head)
            return 0;
        if (clock_mono_ms () >= until)
            return -1;
        harness_nap_ms (100);
    }
}

int64_t
stack_wait_store_head (e2e_stack_t *self, uint64_t min_head, int timeout_ms, uint64_t *head)
{
    *head = 0;
    store_client_config_t config = { .endpoint = self->store_ep };
    store_client_t *client = store_client_new (&config);
    if (!client)
        return 0;
    int64_t until = clock_mono_us () + (int64_t)timeout_ms * 1000, seen_at = 0;
    for (;;) {
        proto_request_t req = { .op = PROTO_OP_STATS };
        proto_reply_t reply;
        stack_store_stats_t stats;
        if (store_client_call (client, &req, STACK_STORE_TIMEOUT_MS, &reply) == 0) {
            int64_t now = clock_mono_us ();
            if (s_read_stats (&reply, &stats) == 0)
                *head = stats.head;
            proto_reply_clear (&reply);
            if (*head >= min_head) {
                seen_at = now;
                break;
            }
        }
        if (clock_mono_us () >= until)
            break;
        harness_nap_ms (1);
    }
    store_client_destroy (&client);
    return seen_at;
}

int
stack_wait_store_settled (e2e_stack_t *self, uint64_t min_head, int timeout_ms,
                          stack_store_stats_t *out)
{
    return s_wait_settled_at (self->store_ep, min_head, timeout_ms, out);
}

int
stack_wait_shard_settled (e2e_stack_t *self, int i, uint64_t min_head, int timeout_ms,
                          stack_store_stats_t *out)
{
    if (i < 0 || i >= self->n_shards) {
        memset (out, 0, sizeof *out);
        return -1;
    }
    return s_wait_settled_at (self->shards[i].endpoint, min_head, timeout_ms, out);
}
