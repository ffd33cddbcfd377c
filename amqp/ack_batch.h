/*
 * ack_batch — which acks one consuming channel owes RabbitMQ, and how few
 * basic.ack frames can carry them.
 *
 * A consumer that handles deliveries concurrently settles them out of order.
 * Acking each one costs the broker a frame to parse and a queue operation;
 * one basic.ack with `multiple` set settles every delivery up to its tag
 * that the channel still holds unacked. That is only safe when every such
 * delivery is one the consumer means to ack, so the batch keeps both sets
 * of tags of the current channel: unsettled (delivered, neither acked nor
 * rejected: in progress, or let go to be redelivered) and acks pending
 * (settled by the consumer, not yet sent). ack_batch_next then plans the
 * frames: one multiple ack for every pending tag below the lowest
 * unsettled one, one single ack for each pending tag above it (a slow
 * delivery holds back no other's ack).
 *
 * Pure bookkeeping, no I/O: subscription.c sends the frames. Both sets stay
 * within the channel's prefetch, since the broker delivers no more
 * unacked messages than that; capacity bounds them, so a broker that
 * delivers more is noticed, not followed.
 */
#ifndef HERALD_ACK_BATCH_H
#define HERALD_ACK_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _ack_batch_t ack_batch_t;

/* A batch for a channel with up to capacity (1..65535) unacked deliveries.
   NULL when out of memory. */
ack_batch_t *ack_batch_new (int capacity);

/* Frees. No-op on NULL. */
void ack_batch_destroy (ack_batch_t **self_p);

/* Forgets every tag: a new channel numbers its deliveries from 1 again. */
void ack_batch_reset (ack_batch_t *self);

/* Records a delivery as unsettled. Returns 0; -1 (nothing changed) when tag
   is not above every tag recorded since the reset, or when capacity tags
   are already unsettled or pending. */
int ack_batch_delivered (ack_batch_t *self, uint64_t tag);

/* The consumer acks the unsettled delivery tag: it becomes pending, to be
   sent by the frames ack_batch_next plans. Returns 0, or -1 (nothing
   changed) when tag is not unsettled. */
int ack_batch_ack (ack_batch_t *self, uint64_t tag);

/* The unsettled delivery tag was settled otherwise (rejected, by a frame of
   its own): it is no longer unsettled. Returns 0, or -1 when tag is not
   unsettled. */
int ack_batch_forget (ack_batch_t *self, uint64_t tag);

/* Plans the next ack frame and takes its tags out of the pending set.
   Returns 0 when no ack is pending; else the number of deliveries the frame
   settles (>= 1), with *tag and *multiple its basic.ack arguments. The
   multiple frame, when there is one, comes first. */
size_t ack_batch_next (ack_batch_t *self, uint64_t *tag, bool *multiple);

/* Tags pending, and unsettled. */
size_t ack_batch_pending (const ack_batch_t *self);
size_t ack_batch_unsettled (const ack_batch_t *self);

#endif
