/*
 * outbox — see outbox.h. The replies' bytes sit end to end in one buffer,
 * each entry naming its range; a flush that keeps some packs them into a
 * fresh buffer, so what stays held never grows with the passes it waits.
 * Notes are packed the same way: u8 topic length, topic, u32 body length,
 * body.
 */
#include "outbox.h"

#include <assert.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    zmq_msg_t identity;
    bool delimiter;
    bool durable;     /* its request appended records: needs the commit */
    size_t off, size; /* in bytes */
} s_reply_t;

struct _outbox_t {
    s_reply_t *replies;
    size_t n_replies, cap_replies;
    msgpack_sbuffer bytes;
    msgpack_sbuffer notes;
};

outbox_t *
outbox_new (void)
{
    outbox_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    msgpack_sbuffer_init (&self->bytes);
    msgpack_sbuffer_init (&self->notes);
    return self;
}

void
outbox_destroy (outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    outbox_t *self = *self_p;
    for (size_t i = 0; i < self->n_replies; i++)
        zmq_msg_close (&self->replies[i].identity);
    free (self->replies);
    msgpack_sbuffer_destroy (&self->bytes);
    msgpack_sbuffer_destroy (&self->notes);
    free (self);
    *self_p = NULL;
}

int
outbox_hold_reply (outbox_t *self, zmq_msg_t *identity, bool delimiter, bool durable,
                   const void *data, size_t size)
{
    assert (self && identity);
    if (self->n_replies == self->cap_replies) {
        size_t cap = self->cap_replies ? self->cap_replies * 2 : 256;
        s_reply_t *replies = realloc (self->replies, cap * sizeof *replies);
        if (!replies) {
            zmq_msg_close (identity);
            return -1;
        }
        self->replies = replies;
        self->cap_replies = cap;
    }
    size_t off = self->bytes.size;
    if (msgpack_sbuffer_write (&self->bytes, data, size) != 0) {
        zmq_msg_close (identity);
        return -1;
    }
    s_reply_t *r = &self->replies[self->n_replies++];
    zmq_msg_init (&r->identity);
    zmq_msg_move (&r->identity, identity);
    zmq_msg_close (identity);
    r->delimiter = delimiter;
    r->durable = durable;
    r->off = off;
    r->size = size;
    return 0;
}

size_t
outbox_replies (outbox_t *self)
{
    assert (self);
    return self->n_replies;
}

int
outbox_hold_note (outbox_t *self, const char *topic, const void *body, size_t size)
{
    assert (self && topic);
    size_t topic_size = strlen (topic);
    assert (topic_size <= UINT8_MAX && size <= UINT32_MAX);
    uint8_t tlen = (uint8_t)topic_size;
    uint32_t blen = (uint32_t)size;
    size_t before = self->notes.size;
    if (msgpack_sbuffer_write (&self->notes, (const char *)&tlen, 1) != 0
        || msgpack_sbuffer_write (&self->notes, topic, tlen) != 0
        || msgpack_sbuffer_write (&self->notes, (const char *)&blen, 4) != 0
        || msgpack_sbuffer_write (&self->notes, body, size) != 0) {
        self->notes.size = before;
        return -1;
    }
    return 0;
}

void
outbox_flush (outbox_t *self, bool committed, outbox_send_fn *send, outbox_note_fn *publish,
              void *arg)
{
    assert (self && send && publish);
    size_t kept = 0;
    msgpack_sbuffer keep;
    msgpack_sbuffer_init (&keep);
    for (size_t i = 0; i < self->n_replies; i++) {
        s_reply_t *r = &self->replies[i];
        const char *data = self->bytes.data + r->off;
        if (committed || !r->durable) {
            send (arg, &r->identity, r->delimiter, data, r->size);
            continue;
        }
        size_t off = keep.size;
        if (msgpack_sbuffer_write (&keep, data, r->size) != 0) {
            zmq_msg_close (&r->identity); /* out of memory: the client times out */
            continue;
        }
        s_reply_t *k = &self->replies[kept++];
        if (k != r) {
            zmq_msg_init (&k->identity);
            zmq_msg_move (&k->identity, &r->identity);
            zmq_msg_close (&r->identity);
            k->delimiter = r->delimiter;
            k->durable = true;
            k->size = r->size;
        }
        k->off = off;
    }
    self->n_replies = kept;
    msgpack_sbuffer_destroy (&self->bytes);
    self->bytes = keep;
    if (!committed)
        return;
    const uint8_t *p = (const uint8_t *)self->notes.data;
    const uint8_t *end = p + self->notes.size;
    while (p < end) {
        uint8_t tlen = p[0];
        uint32_t blen;
        memcpy (&blen, p + 1 + tlen, 4);
        publish (arg, (const char *)p + 1, tlen, p + 5 + tlen, blen);
        p += 5 + (size_t)tlen + blen;
    }
    msgpack_sbuffer_clear (&self->notes);
}
