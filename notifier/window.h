/*
 * window — the notifier's record of publishes RabbitMQ has not confirmed yet.
 *
 * rabbitmq-c 0.11 has no confirm helper: after confirm.select the broker
 * numbers our publishes 1, 2, 3, ... per channel and answers basic.ack /
 * basic.nack, possibly with "multiple" and possibly out of order. The window
 * maps each publish tag to the change-feed seq it carried, and tells the
 * caller the highest seq below which EVERYTHING is confirmed: the only value
 * that may be acknowledged to the store. A hole (an unconfirmed publish) holds
 * the cursor back however many later publishes are confirmed.
 *
 * A plain ring buffer, no I/O; a new channel starts with window_reset.
 */
#ifndef HERALD_WINDOW_H
#define HERALD_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _window_t window_t;

/* A window holding up to capacity unconfirmed publishes. NULL on failure. */
window_t *window_new (size_t capacity);
void window_destroy (window_t **self_p);

/* Forgets everything in flight; the next publish tag is 1 again. */
void window_reset (window_t *self);

/* Publishes in flight (pushed, not yet popped by window_advance). */
size_t window_size (window_t *self);
size_t window_room (window_t *self);

/* Records a publish carrying feed record seq (seqs must increase). Returns
   its publish tag, or 0 when the window is full. */
uint64_t window_push (window_t *self, uint64_t seq);

/* Applies a basic.ack. multiple covers every tag <= tag. Returns 0, or -1
   when tag is beyond anything published (a protocol error). */
int window_ack (window_t *self, uint64_t tag, bool multiple);

/* Pops the confirmed prefix. Returns true and sets *seq to the highest seq
   of it when at least one publish was popped. */
bool window_advance (window_t *self, uint64_t *seq);

#endif
