/*
 * queue — herald-stat's look at herald.notifications: its ready messages,
 * by a passive queue.declare on a connection of its own (it declares
 * nothing, so it needs only the right to see the queue, and never clashes
 * with the queue's arguments). Optional: without an AMQP URL the column
 * shows "-". A failed look drops the connection; the next makes a new one.
 */
#ifndef HERALD_STAT_QUEUE_H
#define HERALD_STAT_QUEUE_H

typedef struct _queue_t queue_t;

/* A look-up for url (copied; amqp://user:password@host:port/vhost). NULL
   when url does not parse or out of memory. */
queue_t *queue_new (const char *url);
void queue_destroy (queue_t **self_p);

/* Ready messages in herald.notifications, or -1 when RabbitMQ could not be
   asked (connects first if needed; bounded by a 1 s timeout). */
long queue_depth (queue_t *self);

#endif
