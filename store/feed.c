/*
 * feed — see feed.h. The ring holds head - acked records; the record with
 * seq s sits at (s - 1) & (cap - 1) where cap is a power of two, so growing
 * the ring only needs the live records re-placed, and reads are arithmetic.
 */
#include "feed.h"

#include <assert.h>
#include <stdlib.h>

#define S_KIND_BIT 0x80000000u
#define S_INITIAL_CAP 1024

struct _feed_t {
    uint32_t *ring;
    size_t cap; /* power of two */
    uint64_t head;
    uint64_t acked;
    uint64_t max;
};

feed_t *
feed_new (size_t max)
{
    if (max < 1 || max > FEED_MAX_LIMIT)
        return NULL;
    feed_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = S_INITIAL_CAP;
    self->ring = malloc (self->cap * sizeof *self->ring);
    if (!self->ring) {
        free (self);
        return NULL;
    }
    self->max = max;
    return self;
}

void
feed_destroy (feed_t **self_p)
{
    assert (self_p);
    feed_t *self = *self_p;
    if (!self)
        return;
    free (self->ring);
    free (self);
    *self_p = NULL;
}

uint64_t
feed_head (feed_t *self)
{
    assert (self);
    return self->head;
}

uint64_t
feed_acked (feed_t *self)
{
    assert (self);
    return self->acked;
}

uint64_t
feed_len (feed_t *self)
{
    assert (self);
    return self->head - self->acked;
}

uint64_t
feed_max (feed_t *self)
{
    assert (self);
    return self->max;
}

uint64_t
feed_next_seq (feed_t *self)
{
    assert (self);
    return self->head + 1;
}

/* Updates' room past the bound (feed.h). */
static uint64_t
s_headroom (const feed_t *self)
{
    return self->max > FEED_UPDATE_HEADROOM_MIN ? self->max : FEED_UPDATE_HEADROOM_MIN;
}

feed_room_t
feed_reserve (feed_t *self, proto_change_kind_t kind)
{
    assert (self);
    uint64_t len = self->head - self->acked;
    uint64_t bound = kind == PROTO_CHANGE_CREATED ? self->max : self->max + s_headroom (self);
    if (len >= bound)
        return FEED_FULL;
    if (len < self->cap)
        return FEED_OK;
    size_t cap = self->cap * 2;
    uint32_t *ring = malloc (cap * sizeof *ring);
    if (!ring)
        return FEED_NOMEM;
    for (uint64_t seq = self->acked + 1; seq <= self->head; seq++)
        ring[(seq - 1) & (cap - 1)] = self->ring[(seq - 1) & (self->cap - 1)];
    free (self->ring);
    self->ring = ring;
    self->cap = cap;
    return FEED_OK;
}

uint64_t
feed_append (feed_t *self, proto_change_kind_t kind, uint32_t ref)
{
    assert (self);
    assert (self->head - self->acked < self->cap
            && self->head - self->acked < self->max + s_headroom (self));
    assert (ref < S_KIND_BIT);
    uint64_t seq = ++self->head;
    self->ring[(seq - 1) & (self->cap - 1)] = ref | (kind == PROTO_CHANGE_UPDATED ? S_KIND_BIT : 0);
    return seq;
}

size_t
feed_read (feed_t *self, uint64_t from, size_t max, feed_record_t *out)
{
    assert (self);
    if (from <= self->acked)
        from = self->acked + 1;
    size_t n = 0;
    for (uint64_t seq = from; seq <= self->head && n < max; seq++, n++) {
        uint32_t slot = self->ring[(seq - 1) & (self->cap - 1)];
        out[n].seq = seq;
        out[n].kind = (slot & S_KIND_BIT) ? PROTO_CHANGE_UPDATED : PROTO_CHANGE_CREATED;
        out[n].ref = slot & ~S_KIND_BIT;
    }
    return n;
}

int
feed_ack (feed_t *self, uint64_t seq)
{
    assert (self);
    if (seq > self->head)
        return -1;
    if (seq > self->acked)
        self->acked = seq;
    return 0;
}

int
feed_set_max (feed_t *self, size_t max)
{
    assert (self);
    if (max < 1 || max > FEED_MAX_LIMIT)
        return -1;
    self->max = max;
    return 0;
}

int
feed_restore (feed_t *self, uint64_t seq)
{
    assert (self);
    if (self->head != 0)
        return -1;
    self->head = self->acked = seq;
    return 0;
}
