/*
 * store_link — see store_link.h. The DEALER, its tuning, request ids and
 * the codec are the shared store client's (client/store_client.h); this
 * file is what the feed needs on top: the two requests it sends and the
 * reply it keeps until the next call.
 */
#include "store_link.h"

#include "log.h"
#include "store_client.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define STORE_LINK_LINGER_MS 2000 /* lets the final feed_ack leave on exit */

struct _store_link_t {
    store_client_t *client;
    proto_reply_t reply; /* owns the decoded arrays until the next call */
};

store_link_t *
store_link_new (const char *endpoint, const curve_client_t *curve)
{
    store_link_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    store_client_config_t config = { .endpoint = endpoint,
                                     .linger_ms = STORE_LINK_LINGER_MS,
                                     .curve_keys = curve ? &curve->keys : NULL,
                                     .curve_server_key = curve ? curve->server_key : NULL,
                                     .monitor = true };
    self->client = store_client_new (&config);
    if (!self->client) {
        free (self);
        return NULL;
    }
    return self;
}

void
store_link_destroy (store_link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_link_t *self = *self_p;
    proto_reply_clear (&self->reply);
    store_client_destroy (&self->client);
    free (self);
    *self_p = NULL;
}

void *
store_link_handle (store_link_t *self)
{
    assert (self);
    return store_client_socket (self->client);
}

uint64_t
store_link_read (store_link_t *self, uint64_t from, uint32_t max)
{
    assert (self);
    proto_request_t req = { .op = PROTO_OP_FEED_READ, .has = PROTO_HAS_MAX, .max = max };
    if (from > 0) {
        req.has |= PROTO_HAS_FROM;
        req.from = from;
    }
    return store_client_request (self->client, &req);
}

uint64_t
store_link_ack (store_link_t *self, uint64_t seq, const uint8_t *store_id)
{
    assert (self);
    proto_request_t req = { .op = PROTO_OP_FEED_ACK, .has = PROTO_HAS_SEQ, .seq = seq };
    if (store_id) {
        req.has |= PROTO_HAS_STORE_ID;
        memcpy (req.store_id, store_id, 16);
    }
    return store_client_request (self->client, &req);
}

int
store_link_recv (store_link_t *self, proto_reply_t *reply)
{
    assert (self);
    proto_reply_clear (&self->reply);
    proto_error_t err;
    int rc = store_client_recv (self->client, &self->reply, &err);
    if (rc < 0) {
        log_warn ("dropping malformed store reply: %s", err.message);
        return -1;
    }
    if (rc == 1)
        *reply = self->reply;
    return rc;
}

void
store_link_connections (store_link_t *self, uint64_t *connects, uint64_t *disconnects)
{
    assert (self);
    store_client_connections (self->client, connects, disconnects);
}
