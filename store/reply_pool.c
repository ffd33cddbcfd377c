/*
 * reply_pool — see reply_pool.h. A slot is handed to libzmq as the data of
 * a message, with the slot itself as the free callback's hint; the
 * callback runs in whichever thread drops the message last (libzmq's I/O
 * thread after the write, or the loop thread when a send fails).
 */
#include "reply_pool.h"

#include <assert.h>
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define S_INLINE_MAX 33 /* libzmq 4.3's inline message size (its VSM) */

typedef struct s_slot {
    struct s_slot *next;
    reply_pool_t *pool;
    unsigned char data[REPLY_POOL_SLOT_BYTES];
} slot_t;

struct _reply_pool_t {
    slot_t *local;   /* free slots only the loop thread touches */
    size_t made;     /* slots made, loop thread only */
    long long taken; /* slots handed to libzmq so far, loop thread only */
    /* What the callback touches, on its own cache line, written by the
       loop thread only when its own list runs dry and at destroy. */
    alignas (64) _Atomic (slot_t *) returned; /* slots libzmq gave back */
    /* Minus the slots released until destroy adds `taken`: from then on
       the slots still in flight. Exactly one party brings it to 0, the
       last release or destroy itself, and that one frees the pool. */
    atomic_llong balance;
};

static void
s_free_list (slot_t *slot)
{
    while (slot) {
        slot_t *next = slot->next;
        free (slot);
        slot = next;
    }
}

/* Frees the pool and every slot (all are back in the two lists by then). */
static void
s_free (reply_pool_t *self)
{
    s_free_list (self->local);
    s_free_list (atomic_load_explicit (&self->returned, memory_order_acquire));
    free (self);
}

/* libzmq's free callback (zmq_free_fn): the slot goes back on the shared
   list. Any thread. Once balance is decremented the pool may be gone
   unless this was the last slot of a destroyed pool. */
static void
s_release (void *data, void *hint)
{
    (void)data;
    slot_t *slot = hint;
    reply_pool_t *pool = slot->pool;
    slot_t *head = atomic_load_explicit (&pool->returned, memory_order_relaxed);
    do
        slot->next = head;
    while (!atomic_compare_exchange_weak_explicit (&pool->returned, &head, slot,
                                                   memory_order_release, memory_order_relaxed));
    if (atomic_fetch_sub_explicit (&pool->balance, 1, memory_order_acq_rel) == 1)
        s_free (pool);
}

reply_pool_t *
reply_pool_new (void)
{
    reply_pool_t *self = aligned_alloc (alignof (reply_pool_t), sizeof *self);
    if (!self)
        return NULL;
    memset (self, 0, sizeof *self);
    atomic_init (&self->returned, NULL);
    atomic_init (&self->balance, 0);
    return self;
}

void
reply_pool_destroy (reply_pool_t **self_p)
{
    assert (self_p);
    reply_pool_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    /* Before this, balance is minus the releases so far (never above 0);
       after it, the slots still in flight. Once it is added, the last
       release may free the pool at any moment: nothing of self is read
       after the add but through the value it returns. */
    long long taken = self->taken;
    if (atomic_fetch_add_explicit (&self->balance, taken, memory_order_acq_rel) == -taken)
        s_free (self);
}

/* A free slot: the loop thread's own, else all libzmq gave back, else a
   new one while under the cap; NULL when none. */
static slot_t *
s_take (reply_pool_t *self)
{
    if (!self->local)
        self->local = atomic_exchange_explicit (&self->returned, NULL, memory_order_acquire);
    slot_t *slot = self->local;
    if (slot) {
        self->local = slot->next;
        return slot;
    }
    if (self->made >= REPLY_POOL_SLOTS_MAX || !(slot = malloc (sizeof *slot)))
        return NULL;
    self->made++;
    slot->pool = self;
    return slot;
}

int
reply_pool_msg (reply_pool_t *self, zmq_msg_t *msg, const void *data, size_t size)
{
    assert (self && msg && (data || size == 0));
    /* Up to libzmq's inline size a message holds its bytes itself: no
       allocation to save. */
    slot_t *slot = size > S_INLINE_MAX && size <= REPLY_POOL_SLOT_BYTES ? s_take (self) : NULL;
    if (slot) {
        if (size)
            memcpy (slot->data, data, size);
        if (zmq_msg_init_data (msg, slot->data, size, s_release, slot) == 0) {
            self->taken++;
            return 0;
        }
        /* libzmq could not allocate its part: the slot was not taken. */
        slot->next = self->local;
        self->local = slot;
        errno = ENOMEM;
        return -1;
    }
    if (zmq_msg_init_size (msg, size) != 0) {
        errno = ENOMEM;
        return -1;
    }
    if (size)
        memcpy (zmq_msg_data (msg), data, size);
    return 0;
}

size_t
reply_pool_slots (reply_pool_t *self)
{
    assert (self);
    return self->made;
}
