/*
 * ack_batch — see ack_batch.h. Both sets are sorted arrays: deliveries come
 * in tag order, so recording one appends; an ack or a forget finds its tag
 * by binary search. The sets hold at most the prefetch (32 by default), so
 * moving the tail on removal costs less than any structure that avoids it.
 */
#include "ack_batch.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _ack_batch_t {
    size_t capacity;
    uint64_t *unsettled; /* ascending */
    size_t n_unsettled;
    uint64_t *pending; /* ascending */
    size_t n_pending;
    uint64_t last; /* the highest tag recorded since the reset, 0 none */
};

ack_batch_t *
ack_batch_new (int capacity)
{
    assert (capacity > 0 && capacity <= UINT16_MAX);
    ack_batch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = (size_t)capacity;
    self->unsettled = calloc (self->capacity, sizeof *self->unsettled);
    self->pending = calloc (self->capacity, sizeof *self->pending);
    if (!self->unsettled || !self->pending)
        ack_batch_destroy (&self);
    return self;
}

void
ack_batch_destroy (ack_batch_t **self_p)
{
    assert (self_p);
    ack_batch_t *self = *self_p;
    if (!self)
        return;
    free (self->unsettled);
    free (self->pending);
    free (self);
    *self_p = NULL;
}

void
ack_batch_reset (ack_batch_t *self)
{
    assert (self);
    self->n_unsettled = self->n_pending = 0;
    self->last = 0;
}

/* The index of the first element of set[0..n) not below tag. */
static size_t
s_lower_bound (const uint64_t *set, size_t n, uint64_t tag)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set[mid] < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Removes tag from set[0..*n); -1 when it is not there. */
static int
s_remove (uint64_t *set, size_t *n, uint64_t tag)
{
    size_t i = s_lower_bound (set, *n, tag);
    if (i == *n || set[i] != tag)
        return -1;
    memmove (set + i, set + i + 1, (*n - i - 1) * sizeof *set);
    (*n)--;
    return 0;
}

int
ack_batch_delivered (ack_batch_t *self, uint64_t tag)
{
    assert (self);
    if (tag <= self->last || self->n_unsettled + self->n_pending >= self->capacity)
        return -1;
    self->unsettled[self->n_unsettled++] = tag;
    self->last = tag;
    return 0;
}

int
ack_batch_ack (ack_batch_t *self, uint64_t tag)
{
    assert (self);
    if (s_remove (self->unsettled, &self->n_unsettled, tag) != 0)
        return -1;
    /* Room is certain: the tag's place in unsettled is given up. */
    size_t i = s_lower_bound (self->pending, self->n_pending, tag);
    memmove (self->pending + i + 1, self->pending + i, (self->n_pending - i) * sizeof tag);
    self->pending[i] = tag;
    self->n_pending++;
    return 0;
}

int
ack_batch_forget (ack_batch_t *self, uint64_t tag)
{
    assert (self);
    return s_remove (self->unsettled, &self->n_unsettled, tag);
}

size_t
ack_batch_next (ack_batch_t *self, uint64_t *tag, bool *multiple)
{
    assert (self && tag && multiple);
    if (self->n_pending == 0)
        return 0;
    /* Every pending tag below the lowest unsettled one: the channel holds
       nothing else unacked up to the highest of them. */
    size_t k = self->n_unsettled
                   ? s_lower_bound (self->pending, self->n_pending, self->unsettled[0])
                   : self->n_pending;
    if (k == 0)
        k = 1; /* the lowest pending tag, alone */
    *tag = self->pending[k - 1];
    *multiple = k > 1;
    memmove (self->pending, self->pending + k, (self->n_pending - k) * sizeof *self->pending);
    self->n_pending -= k;
    return k;
}

size_t
ack_batch_pending (const ack_batch_t *self)
{
    assert (self);
    return self->n_pending;
}

size_t
ack_batch_unsettled (const ack_batch_t *self)
{
    assert (self);
    return self->n_unsettled;
}
