/*
 * pending — see pending.h. `oldest` trails `next`: every rid below oldest
 * is answered, and slots between them may be empty (answered out of order)
 * or live. Advancing oldest past empty slots keeps the full check exact.
 */
#include "pending.h"

#include <assert.h>
#include <stdlib.h>

typedef struct {
    uint64_t rid;
    void *item;
    int64_t deadline_ms;
    uint32_t link; /* the store connection the request went out on */
} s_slot_t;

struct _pending_t {
    s_slot_t *slots;
    uint64_t mask;
    uint64_t next;   /* rid of the next request */
    uint64_t oldest; /* lowest rid that may still be live */
    size_t size;
};

pending_t *
pending_new (size_t capacity)
{
    size_t n = 1;
    while (n < capacity)
        n <<= 1;
    pending_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = calloc (n, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->mask = n - 1;
    self->next = self->oldest = 1;
    return self;
}

void
pending_destroy (pending_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->slots);
        free (*self_p);
        *self_p = NULL;
    }
}

static s_slot_t *
s_slot (pending_t *self, uint64_t rid)
{
    return &self->slots[rid & self->mask];
}

/* Moves oldest past answered slots. */
static void
s_advance (pending_t *self)
{
    while (self->oldest < self->next && s_slot (self, self->oldest)->item == NULL)
        self->oldest++;
}

uint64_t
pending_reserve (pending_t *self)
{
    assert (self);
    s_advance (self);
    return self->next - self->oldest > self->mask ? 0 : self->next;
}

void
pending_commit (pending_t *self, uint64_t rid, void *item, int64_t deadline_ms)
{
    pending_commit_on (self, rid, item, deadline_ms, 0);
}

void
pending_commit_on (pending_t *self, uint64_t rid, void *item, int64_t deadline_ms, uint32_t link)
{
    assert (self);
    assert (rid == self->next && item);
    s_slot_t *slot = s_slot (self, rid);
    assert (slot->item == NULL);
    *slot = (s_slot_t){ rid, item, deadline_ms, link };
    self->next++;
    self->size++;
}

/* The live slot of rid, or NULL. */
static s_slot_t *
s_live (pending_t *self, uint64_t rid)
{
    if (rid < self->oldest || rid >= self->next)
        return NULL;
    s_slot_t *slot = s_slot (self, rid);
    return slot->rid == rid && slot->item ? slot : NULL;
}

/* Empties a live slot; its item. */
static void *
s_take (pending_t *self, s_slot_t *slot)
{
    void *item = slot->item;
    slot->item = NULL;
    self->size--;
    return item;
}

void *
pending_take (pending_t *self, uint64_t rid)
{
    assert (self);
    s_slot_t *slot = s_live (self, rid);
    return slot ? s_take (self, slot) : NULL;
}

void *
pending_take_on (pending_t *self, uint64_t rid, uint32_t link)
{
    assert (self);
    s_slot_t *slot = s_live (self, rid);
    return slot && slot->link == link ? s_take (self, slot) : NULL;
}

void *
pending_expire (pending_t *self, int64_t now_ms)
{
    return pending_expire_on (self, now_ms, NULL);
}

void *
pending_expire_on (pending_t *self, int64_t now_ms, uint32_t *link)
{
    assert (self);
    s_advance (self);
    if (self->oldest == self->next)
        return NULL;
    s_slot_t *slot = s_slot (self, self->oldest);
    if (slot->deadline_ms > now_ms)
        return NULL;
    if (link)
        *link = slot->link;
    return s_take (self, slot);
}

void *
pending_take_gone (pending_t *self, bool (*gone) (void *ctx, uint32_t link), void *ctx,
                   uint64_t *from, uint32_t *link)
{
    assert (self && gone && from);
    for (uint64_t rid = *from > self->oldest ? *from : self->oldest; rid < self->next; rid++) {
        s_slot_t *slot = s_live (self, rid);
        if (!slot || !gone (ctx, slot->link))
            continue;
        *from = rid + 1;
        if (link)
            *link = slot->link;
        return s_take (self, slot);
    }
    *from = self->next;
    return NULL;
}

int64_t
pending_next_deadline (pending_t *self)
{
    assert (self);
    s_advance (self);
    return self->oldest == self->next ? -1 : s_slot (self, self->oldest)->deadline_ms;
}

size_t
pending_size (pending_t *self)
{
    assert (self);
    return self->size;
}
