/*
 * reply_pool — buffers for the store's replies that come back from
 * libzmq's I/O thread without going through malloc.
 *
 * A reply is made in the store's loop thread and freed by libzmq's I/O
 * thread once it is written to the socket. Through malloc (zmq_send copies
 * into a zmq_msg_t it allocates) every reply is a chunk of the loop
 * thread's arena freed from another thread: under a pipelined load the two
 * threads take turns on that arena's lock, and the loop thread sleeps on
 * it (measured with herald-bench-store: ~300,000 futex waits in 3,000,000
 * operations, a tenth of the loop thread's samples in the scheduler).
 *
 * Here a reply that fits a slot (REPLY_POOL_SLOT_BYTES) and is over
 * libzmq's inline 33 bytes is copied into a slot and sent zero-copy
 * (zmq_msg_init_data); libzmq's free callback pushes the slot on a
 * lock-free list that the loop thread takes whole when its own list runs
 * dry. Only the loop thread takes slots, so the
 * list needs no ABA care: pushes are compare-and-swap, the take is one
 * exchange. Bigger replies, and any beyond REPLY_POOL_SLOTS_MAX slots in
 * flight at once (a peer that does not read), go through malloc as before.
 *
 * Slots are made as needed and kept until the pool goes: at most
 * REPLY_POOL_SLOTS_MAX x 1 KiB. reply_pool_destroy may run before libzmq
 * has released the last message: one counter, which the loop thread touches
 * only at destroy (so the two threads do not trade its cache line per
 * reply), tells whichever of the two comes last to free everything.
 */
#ifndef HERALD_STORE_REPLY_POOL_H
#define HERALD_STORE_REPLY_POOL_H

#include <stddef.h>
#include <zmq.h>

#define REPLY_POOL_SLOT_BYTES 1000 /* reply bytes a slot holds (the slot is 1 KiB) */
#define REPLY_POOL_SLOTS_MAX 4096  /* slots in all: 4 MiB at most */

typedef struct _reply_pool_t reply_pool_t;

/* An empty pool, or NULL when out of memory. */
reply_pool_t *reply_pool_new (void);

/* Gives up the pool: it and its slots are freed once libzmq has released
   every message made from it (at once when none is left). Call from the
   thread that makes the messages. No-op on NULL. */
void reply_pool_destroy (reply_pool_t **self_p);

/* Initialises msg (uninitialised on entry) with a copy of size bytes of
   data: in a slot when it fits one and one is free or can be made, else
   (and for 33 bytes or less, which libzmq keeps inline) in a message of
   libzmq's own. Call from one thread only (the store's loop).
   Returns 0, or -1 (errno ENOMEM) with msg uninitialised. */
int reply_pool_msg (reply_pool_t *self, zmq_msg_t *msg, const void *data, size_t size);

/* Slots made so far (for tests and stats). */
size_t reply_pool_slots (reply_pool_t *self);

#endif
