/*
 * window — see window.h. The ring holds one slot per publish in tag order;
 * slot i of the ring is tag head_tag + i, so an ack is an index computation.
 */
#include "window.h"

#include <assert.h>
#include <stdlib.h>

typedef struct {
    uint64_t seq;
    bool confirmed;
} slot_t;

struct _window_t {
    slot_t *slots;
    size_t capacity;
    size_t head; /* ring index of the oldest publish */
    size_t count;
    uint64_t head_tag; /* tag of slots[head] */
};

window_t *
window_new (size_t capacity)
{
    assert (capacity > 0);
    window_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = calloc (capacity, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->capacity = capacity;
    window_reset (self);
    return self;
}

void
window_destroy (window_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

void
window_reset (window_t *self)
{
    assert (self);
    self->head = 0;
    self->count = 0;
    self->head_tag = 1;
}

size_t
window_size (window_t *self)
{
    assert (self);
    return self->count;
}

size_t
window_room (window_t *self)
{
    assert (self);
    return self->capacity - self->count;
}

uint64_t
window_push (window_t *self, uint64_t seq)
{
    assert (self);
    if (self->count == self->capacity)
        return 0;
    slot_t *slot = &self->slots[(self->head + self->count) % self->capacity];
    slot->seq = seq;
    slot->confirmed = false;
    return self->head_tag + self->count++;
}

int
window_ack (window_t *self, uint64_t tag, bool multiple)
{
    assert (self);
    if (tag >= self->head_tag + self->count)
        return -1;
    if (tag < self->head_tag)
        return 0; /* already popped: a duplicate or overlapping multiple */
    uint64_t first = multiple ? self->head_tag : tag;
    for (uint64_t t = first; t <= tag; t++)
        self->slots[(self->head + (t - self->head_tag)) % self->capacity].confirmed = true;
    return 0;
}

bool
window_advance (window_t *self, uint64_t *seq)
{
    assert (self);
    bool advanced = false;
    while (self->count > 0 && self->slots[self->head].confirmed) {
        *seq = self->slots[self->head].seq;
        self->head = (self->head + 1) % self->capacity;
        self->count--;
        self->head_tag++;
        advanced = true;
    }
    return advanced;
}
