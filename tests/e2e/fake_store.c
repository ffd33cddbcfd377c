/* fake_store — see fake_store.h. */
#include "fake_store.h"

#include "proto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define FAKE_CHANGES_MAX 64

struct _fake_store_t {
    void *ctx, *sock;
    pthread_t thread;
    atomic_bool stop;
    uint8_t id[16];
    uint64_t head;
    atomic_uint_fast64_t acked;
    atomic_int acks_of_head;
    int forget_acks;
    char users[FAKE_CHANGES_MAX][32], descriptions[FAKE_CHANGES_MAX][64];
};

/* Change seq (1-based) is event number seq-1, created. */
static proto_change_t
s_change (fake_store_t *self, uint64_t seq)
{
    size_t i = (size_t)(seq - 1);
    proto_change_t c = { .seq = seq, .kind = PROTO_CHANGE_CREATED };
    memset (c.event.id, 0, 16);
    c.event.id[6] = 0x40;
    c.event.id[8] = 0x80;
    c.event.id[15] = (uint8_t)seq;
    c.event.user_id = (proto_str_t){ self->users[i], strlen (self->users[i]) };
    c.event.description = (proto_str_t){ self->descriptions[i], strlen (self->descriptions[i]) };
    c.event.status = PROTO_STR ("pending");
    c.event.created_at = c.event.updated_at = 1795514400000LL;
    c.event.seq = seq;
    return c;
}

/* Answers one request (untrusted bytes) into out. */
static void
s_answer (fake_store_t *self, const void *data, size_t size, msgpack_sbuffer *out)
{
    proto_request_t req;
    proto_reply_t reply = { .status = PROTO_OK, .has_store_id = true };
    proto_change_t changes[FAKE_CHANGES_MAX];
    memcpy (reply.store_id, self->id, 16);
    if (proto_request_decode (data, size, NULL, &req, NULL) != PROTO_DECODE_OK) {
        proto_reply_encode_error (PROTO_OP_NONE, req.rid, PROTO_E_MALFORMED, "fake", NULL, out);
        return;
    }
    reply.op = req.op;
    reply.rid = req.rid;
    uint64_t acked = atomic_load (&self->acked);
    if (req.op == PROTO_OP_FEED_READ) {
        uint64_t from = (req.has & PROTO_HAS_FROM) && req.from > acked + 1 ? req.from : acked + 1;
        size_t n = 0;
        for (uint64_t seq = from; seq <= self->head && n < FAKE_CHANGES_MAX; seq++)
            changes[n++] = s_change (self, seq);
        reply.changes = changes;
        reply.n_changes = n;
        reply.acked = acked;
        reply.head = self->head;
        reply.feed_len = self->head - acked;
        reply.feed_max = 1000;
    } else if (req.op == PROTO_OP_FEED_ACK) {
        bool of_head = req.seq == self->head;
        if (of_head)
            atomic_fetch_add (&self->acks_of_head, 1);
        if (of_head && self->forget_acks > 0)
            self->forget_acks--;
        else if (req.seq > acked && req.seq <= self->head)
            atomic_store (&self->acked, req.seq);
        reply.acked = atomic_load (&self->acked);
    }
    proto_reply_encode (&reply, out);
}

static void *
s_run (void *arg)
{
    fake_store_t *self = arg;
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    while (!atomic_load (&self->stop)) {
        zmq_pollitem_t item = { self->sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 50) <= 0)
            continue;
        zmq_msg_t peer, body;
        zmq_msg_init (&peer);
        zmq_msg_init (&body);
        if (zmq_msg_recv (&peer, self->sock, 0) >= 0 && zmq_msg_more (&peer)
            && zmq_msg_recv (&body, self->sock, 0) >= 0) {
            msgpack_sbuffer_clear (&out);
            s_answer (self, zmq_msg_data (&body), zmq_msg_size (&body), &out);
            zmq_send (self->sock, zmq_msg_data (&peer), zmq_msg_size (&peer), ZMQ_SNDMORE);
            zmq_send (self->sock, out.data, out.size, 0);
        }
        zmq_msg_close (&peer);
        zmq_msg_close (&body);
    }
    msgpack_sbuffer_destroy (&out);
    return NULL;
}

fake_store_t *
fake_store_new (const char *endpoint, uint64_t head, int forget_acks)
{
    if (head > FAKE_CHANGES_MAX)
        return NULL;
    fake_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->head = head;
    self->forget_acks = forget_acks;
    for (size_t i = 0; i < head; i++) {
        snprintf (self->users[i], sizeof self->users[i], "u-%zu", i);
        snprintf (self->descriptions[i], sizeof self->descriptions[i], "order %zu shipped", i);
    }
    FILE *urandom = fopen ("/dev/urandom", "r");
    bool random = urandom && fread (self->id, 1, 16, urandom) == 16;
    if (urandom)
        fclose (urandom);
    self->ctx = zmq_ctx_new ();
    self->sock = self->ctx ? zmq_socket (self->ctx, ZMQ_ROUTER) : NULL;
    int linger = 0;
    if (!random || !self->sock || zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger)
        || zmq_bind (self->sock, endpoint) != 0
        || pthread_create (&self->thread, NULL, s_run, self) != 0) {
        if (self->sock)
            zmq_close (self->sock);
        if (self->ctx)
            zmq_ctx_term (self->ctx);
        free (self);
        return NULL;
    }
    return self;
}

void
fake_store_destroy (fake_store_t **self_p)
{
    fake_store_t *self = *self_p;
    if (!self)
        return;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    zmq_close (self->sock);
    zmq_ctx_term (self->ctx);
    free (self);
    *self_p = NULL;
}

uint64_t
fake_store_acked (fake_store_t *self)
{
    return atomic_load (&self->acked);
}

int
fake_store_acks_of_head (fake_store_t *self)
{
    return atomic_load (&self->acks_of_head);
}
