/*
 * amqp_raw — the rabbitmq-c side of amqp/: the live connection of a broker,
 * RPC replies, what a frame means to Herald, and turning a consumed envelope
 * into a delivery. Only amqp/'s own files, their unit tests and the tests'
 * harness (which purges queues and publishes by hand) include this header;
 * herald-notifier and herald-worker speak in publishes, confirms and
 * deliveries (publisher.h, subscription.h) and never see a frame.
 *
 * Frame and reply contents live in the connection's pool until the next
 * amqp_maybe_release_buffers: whatever is kept is copied out first.
 */
#ifndef HERALD_AMQP_RAW_H
#define HERALD_AMQP_RAW_H

#include "broker.h"
#include "subscription.h"

#include <amqp.h>

/* The live connection (borrowed; NULL when disconnected). */
amqp_connection_state_t broker_conn (broker_t *self);

/* Declares the topology on an open channel, the queues with the arguments
   of q. Idempotent. Returns 0, or -1 / BROKER_CONFLICT (logged; a
   PRECONDITION_FAILED is explained as such, as broker_connect says, and the
   channel is then closed). */
int broker_declare_topology (amqp_connection_state_t conn, amqp_channel_t channel,
                             const broker_queue_args_t *q);

/* The arguments herald.notifications is declared with as q says, the
   dead-letter exchange being dead_exchange (borrowed, as is every value
   filled in): x-dead-letter-exchange, x-max-length and x-overflow
   reject-publish when q->max > 0, x-delivery-limit for a quorum queue;
   x-queue-type is broker_queue_type_argument's. Returns how many entries
   were filled. The tests' bench ceiling declares its own queue with these
   too, so the bare broker is measured on the queue Herald uses. */
#define BROKER_QUEUE_ARGUMENTS_MAX 4
int broker_queue_arguments (const broker_queue_args_t *q, const char *dead_exchange,
                            amqp_table_entry_t entries[BROKER_QUEUE_ARGUMENTS_MAX]);
/* Appends x-queue-type quorum at entries[n] for a quorum queue (a classic
   queue is declared without it); entries must have room for one more.
   Returns the new count. */
int broker_queue_type_argument (const broker_queue_args_t *q, amqp_table_entry_t *entries, int n);

/* Turns an RPC reply into 0 (normal) or -1, logging what failed as
   "<what>: <reason>". */
int broker_rpc_check (amqp_rpc_reply_t reply, const char *what);

/* What a frame read from the connection means to a publisher or a
   consumer. */
typedef enum {
    BROKER_FRAME_OTHER = 0, /* nothing to act on: content frames, other methods */
    BROKER_FRAME_ACK,       /* basic.ack: tag and multiple set */
    BROKER_FRAME_NACK,      /* basic.nack: tag and multiple set */
    BROKER_FRAME_RETURN,    /* basic.return: its header and body follow */
    BROKER_FRAME_CANCEL,    /* basic.cancel: the server ended our consumer */
    BROKER_FRAME_CLOSE,     /* channel.close or connection.close */
    BROKER_FRAME_BLOCKED,   /* connection.blocked: publishes are not read (an alarm) */
    BROKER_FRAME_UNBLOCKED, /* connection.unblocked: they are read again */
} broker_frame_t;

/* Classifies frame; for an ack or a nack, sets *tag and *multiple (either
   may be NULL). Pure: sends nothing. */
broker_frame_t broker_frame_kind (const amqp_frame_t *frame, uint64_t *tag, bool *multiple);

/* Handles a method frame that is not for the caller's own flow: answers
   channel.close / connection.close with their close-ok and logs the reason.
   Returns 1 if the frame closed the channel or connection (the caller must
   broker_drop and reconnect), 0 otherwise. */
int broker_handle_close (broker_t *self, const amqp_frame_t *frame);

/* Fills *self from a consumed envelope and destroys the envelope (takes
   ownership of env, whatever the outcome). The body is copied, so the
   delivery outlives the connection's buffers. Returns 0, or -1 when out of
   memory (self is then empty). */
int delivery_take (delivery_t *self, amqp_envelope_t *env);

#endif
