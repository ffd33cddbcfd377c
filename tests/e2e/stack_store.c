/*
 * stack_store — the tests' direct line to herald-store (see stack.h): the
 * stats op over a short-lived DEALER, for what the HTTP API does not show
 * (the feed's head and acknowledged cursor, the store's identity). One
 * request per call with a deadline, so a store that is down or restarting
 * is an answer (-1), never a hang.
 */
#include "stack.h"

#include "proto.h"

#include <string.h>
#include <time.h>
#include <zmq.h>

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

int
stack_store_stats (e2e_stack_t *self, stack_store_stats_t *out)
{
    memset (out, 0, sizeof *out);
    void *ctx = zmq_ctx_new ();
    void *sock = ctx ? zmq_socket (ctx, ZMQ_DEALER) : NULL;
    int rc = -1;
    char buf[65536];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (!sock)
        goto cleanup;
    int linger = 0, timeout = STACK_STORE_TIMEOUT_MS;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    proto_request_t req = { .op = PROTO_OP_STATS, .rid = 1 };
    if (zmq_connect (sock, self->store_ep) != 0 || proto_request_encode (&req, &sb) != 0
        || zmq_send (sock, sb.data, sb.size, 0) < 0)
        goto cleanup;
    int n = zmq_recv (sock, buf, sizeof buf, 0);
    if (n <= 0 || (size_t)n > sizeof buf)
        goto cleanup;
    proto_reply_t reply;
    if (proto_reply_decode (buf, (size_t)n, &reply, NULL) != PROTO_DECODE_OK)
        goto cleanup;
    rc = reply.rid == 1 ? s_read_stats (&reply, out) : -1;
    proto_reply_clear (&reply);

cleanup:
    msgpack_sbuffer_destroy (&sb);
    if (sock)
        zmq_close (sock);
    if (ctx)
        zmq_ctx_term (ctx);
    return rc;
}

int
stack_wait_store_settled (e2e_stack_t *self, uint64_t min_head, int timeout_ms,
                          stack_store_stats_t *out)
{
    int64_t until = harness_now_ms () + timeout_ms;
    for (;;) {
        int rc = stack_store_stats (self, out);
        if (rc == 0 && out->head >= min_head && out->acked == out->head)
            return 0;
        if (harness_now_ms () >= until)
            return -1;
        harness_nap_ms (100);
    }
}
