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
 * A nack (herald.notifications full, reject-publish) is a hole that stays:
 * once nothing is unresolved the caller rewinds — every slot goes, the tags
 * go on counting on the same channel — and reads the feed again from the
 * store's cursor. What was acked after the hole is in the queue already, so
 * the rewind remembers those seqs (skip ranges) and window_skip tells the
 * caller not to publish them again: a full queue costs time, never a
 * duplicate. A skipped seq is attached to the last publish in flight, so
 * the cursor passes it only when everything before it is confirmed.
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

/* Forgets everything in flight and every skip range (a new channel: what
   the old one confirmed after a hole is published again, duplicates
   possible); the next publish tag is 1 again. */
void window_reset (window_t *self);

/* Publishes in flight (pushed, not yet popped by window_advance or
   window_rewind), nacked ones included. */
size_t window_size (window_t *self);
size_t window_room (window_t *self);

/* Publishes neither acked nor nacked yet. */
size_t window_unresolved (window_t *self);

/* True when a publish in the window was nacked: it holds the cursor until
   window_rewind. */
bool window_nacked (window_t *self);

/* Called for each publish a basic.ack or basic.nack settles, with the time
   window_push_at was given for it (the notifier's confirm latency). */
typedef void (window_settled_fn) (void *arg, bool acked, int64_t at);

/* window_push, remembering at (any clock) for the window_settled_fn. */
uint64_t window_push_at (window_t *self, uint64_t seq, int64_t at);

/* window_ack and window_nack, calling fn (may be NULL) for each publish
   they settle. */
int window_ack_each (window_t *self, uint64_t tag, bool multiple, window_settled_fn *fn, void *arg);
int window_nack_each (window_t *self, uint64_t tag, bool multiple, window_settled_fn *fn,
                      void *arg);

/* Records a publish carrying feed record seq (seqs must increase). Returns
   its publish tag, or 0 when the window is full. */
uint64_t window_push (window_t *self, uint64_t seq);

/* Applies a basic.ack. multiple covers every tag <= tag. Returns 0, or -1
   when tag is beyond anything published (a protocol error). */
int window_ack (window_t *self, uint64_t tag, bool multiple);

/* Applies a basic.nack the same way; a publish already acked stays acked.
   Returns 0 or -1 as window_ack. */
int window_nack (window_t *self, uint64_t tag, bool multiple);

/* Pops the confirmed prefix. Returns true and sets *seq to the highest seq
   of it (skipped seqs attached to it included) when at least one publish
   was popped. */
bool window_advance (window_t *self, uint64_t *seq);

/* After a nack, once window_unresolved is 0: empties the window, keeping
   the channel's tag count, and remembers as skip ranges the seqs acked
   behind the hole, plus the ranges remembered earlier beyond read_upto
   (the highest seq read since the last rewind, not re-read yet). The caller
   then reads again from the store's cursor. Returns 0, or -1 when out of
   memory (the skip ranges are then dropped: duplicates, never loss). */
int window_rewind (window_t *self, uint64_t read_upto);

/* Before publishing seq (seqs read in increasing order): returns 0 when it
   must be published; 1 when it is in the queue already and was attached to
   the last publish in flight; 2 when it is in the queue already and nothing
   is in flight, *confirmed then set to seq (the cursor may move there). */
int window_skip (window_t *self, uint64_t seq, uint64_t *confirmed);

#endif
