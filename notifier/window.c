/*
 * window — see window.h. The ring holds one slot per publish in tag order;
 * slot i of the ring is tag head_tag + i, so an ack is an index computation.
 * Skip ranges are a sorted array of seq ranges consumed from the front as
 * the re-read passes them.
 */
#include "window.h"

#include <assert.h>
#include <stdlib.h>

typedef enum { SLOT_PENDING = 0, SLOT_ACKED, SLOT_NACKED } slot_state_t;

typedef struct {
    uint64_t seq;  /* the record published */
    uint64_t upto; /* highest seq this slot stands for: seq, or a skipped seq after it */
    slot_state_t state;
    int64_t at; /* window_push_at's time */
} slot_t;

typedef struct {
    uint64_t lo, hi; /* seqs lo..hi are in the queue already */
} range_t;

struct _window_t {
    slot_t *slots;
    size_t capacity;
    size_t head; /* ring index of the oldest publish */
    size_t count;
    size_t unresolved; /* pending slots */
    size_t nacked;     /* nacked slots */
    uint64_t head_tag; /* tag of slots[head] */
    range_t *skips;    /* sorted, disjoint; skips[skip_head..n_skips) live */
    size_t skip_head, n_skips;
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
    free ((*self_p)->skips);
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
    self->unresolved = 0;
    self->nacked = 0;
    self->head_tag = 1;
    free (self->skips);
    self->skips = NULL;
    self->skip_head = self->n_skips = 0;
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

size_t
window_unresolved (window_t *self)
{
    assert (self);
    return self->unresolved;
}

bool
window_nacked (window_t *self)
{
    assert (self);
    return self->nacked > 0;
}

static slot_t *
s_slot (window_t *self, size_t i)
{
    return &self->slots[(self->head + i) % self->capacity];
}

uint64_t
window_push_at (window_t *self, uint64_t seq, int64_t at)
{
    assert (self);
    if (self->count == self->capacity)
        return 0;
    slot_t *slot = s_slot (self, self->count);
    *slot = (slot_t){ seq, seq, SLOT_PENDING, at };
    self->unresolved++;
    return self->head_tag + self->count++;
}

uint64_t
window_push (window_t *self, uint64_t seq)
{
    return window_push_at (self, seq, 0);
}

static int
s_settle (window_t *self, uint64_t tag, bool multiple, slot_state_t state, window_settled_fn *fn,
          void *arg)
{
    if (tag >= self->head_tag + self->count)
        return -1;
    if (tag < self->head_tag)
        return 0; /* already popped: a duplicate or overlapping multiple */
    uint64_t first = multiple ? self->head_tag : tag;
    for (uint64_t t = first; t <= tag; t++) {
        slot_t *slot = s_slot (self, (size_t)(t - self->head_tag));
        if (slot->state != SLOT_PENDING)
            continue;
        slot->state = state;
        self->unresolved--;
        if (state == SLOT_NACKED)
            self->nacked++;
        if (fn)
            fn (arg, state == SLOT_ACKED, slot->at);
    }
    return 0;
}

int
window_ack_each (window_t *self, uint64_t tag, bool multiple, window_settled_fn *fn, void *arg)
{
    assert (self);
    return s_settle (self, tag, multiple, SLOT_ACKED, fn, arg);
}

int
window_nack_each (window_t *self, uint64_t tag, bool multiple, window_settled_fn *fn, void *arg)
{
    assert (self);
    return s_settle (self, tag, multiple, SLOT_NACKED, fn, arg);
}

int
window_ack (window_t *self, uint64_t tag, bool multiple)
{
    return window_ack_each (self, tag, multiple, NULL, NULL);
}

int
window_nack (window_t *self, uint64_t tag, bool multiple)
{
    return window_nack_each (self, tag, multiple, NULL, NULL);
}

bool
window_advance (window_t *self, uint64_t *seq)
{
    assert (self);
    bool advanced = false;
    while (self->count > 0 && self->slots[self->head].state == SLOT_ACKED) {
        *seq = self->slots[self->head].upto;
        self->head = (self->head + 1) % self->capacity;
        self->count--;
        self->head_tag++;
        advanced = true;
    }
    return advanced;
}

/* Appends lo..hi to ranges (sorted input), merging with the last one when
   adjacent. */
static void
s_range_add (range_t *ranges, size_t *n, uint64_t lo, uint64_t hi)
{
    if (*n > 0 && ranges[*n - 1].hi + 1 >= lo) {
        if (hi > ranges[*n - 1].hi)
            ranges[*n - 1].hi = hi;
        return;
    }
    ranges[(*n)++] = (range_t){ lo, hi };
}

int
window_rewind (window_t *self, uint64_t read_upto)
{
    assert (self && self->unresolved == 0);
    size_t old = self->n_skips - self->skip_head;
    range_t *ranges = malloc ((self->count + old + 1) * sizeof *ranges);
    size_t n = 0;
    if (ranges) {
        for (size_t i = 0; i < self->count; i++) {
            const slot_t *slot = s_slot (self, i);
            uint64_t lo = slot->state == SLOT_ACKED ? slot->seq : slot->seq + 1;
            if (lo <= slot->upto)
                s_range_add (ranges, &n, lo, slot->upto);
        }
        for (size_t i = self->skip_head; i < self->n_skips; i++) {
            range_t r = self->skips[i];
            if (r.hi <= read_upto)
                continue; /* read already: attached to a slot above */
            s_range_add (ranges, &n, r.lo > read_upto ? r.lo : read_upto + 1, r.hi);
        }
    }
    free (self->skips);
    self->skips = ranges;
    self->skip_head = 0;
    self->n_skips = n;
    self->head_tag += self->count;
    self->head = 0;
    self->count = 0;
    self->nacked = 0;
    return ranges ? 0 : -1;
}

int
window_skip (window_t *self, uint64_t seq, uint64_t *confirmed)
{
    assert (self && confirmed);
    while (self->skip_head < self->n_skips && self->skips[self->skip_head].hi < seq)
        self->skip_head++;
    if (self->skip_head == self->n_skips || self->skips[self->skip_head].lo > seq)
        return 0;
    if (self->count > 0) {
        s_slot (self, self->count - 1)->upto = seq;
        return 1;
    }
    *confirmed = seq;
    return 2;
}
