/*
 * message — a change of the store's feed as the notifier publishes it: the
 * MessagePack notification as body (proto_notification_encode), the AMQP
 * properties that name it (message_id "<event id>:<seq>", correlation_id
 * the request id that made the change, type the routing key), persistent
 * and, for event.created, mandatory: only that key is bound to a queue, so
 * an unroutable created event would be a loss; updates have no consumer by
 * design.
 */
#ifndef HERALD_NOTIFIER_MESSAGE_H
#define HERALD_NOTIFIER_MESSAGE_H

#include "proto.h"
#include "publisher.h"

#include <msgpack.h>

typedef struct {
    publisher_message_t message; /* borrows the fields below and the body */
    char event_id[PROTO_UUID_LEN + 1];
    char message_id[PROTO_UUID_LEN + 32];
    char request_id[PROTO_REQUEST_ID_MAX + 1]; /* "" when the change has none */
} message_t;

/* Fills out for change, encoding its body into body (cleared first).
   Returns 0, or -1 when the change cannot be encoded. */
int message_make (message_t *out, const proto_change_t *change, msgpack_sbuffer *body);

#endif
