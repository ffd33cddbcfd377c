/*
 * message — see message.h.
 */
#include "message.h"

#include "clock.h"

#include <stdio.h>
#include <string.h>

int
message_make (message_t *out, const proto_change_t *change, msgpack_sbuffer *body)
{
    msgpack_sbuffer_clear (body);
    if (proto_notification_encode (change, body) != 0)
        return -1;
    proto_uuid_format (change->event.id, out->event_id);
    snprintf (out->message_id, sizeof out->message_id, "%s:%llu", out->event_id,
              (unsigned long long)change->seq);
    out->request_id[0] = '\0';
    if (change->event.request_id.ptr)
        snprintf (out->request_id, sizeof out->request_id, "%.*s",
                  (int)change->event.request_id.len, change->event.request_id.ptr);
    out->message = (publisher_message_t){
        .routing_key = proto_change_routing_key (change->kind),
        .body = body->data,
        .len = body->size,
        .message_id = out->message_id,
        .correlation_id = out->request_id[0] ? out->request_id : NULL,
        .timestamp = (uint64_t)(clock_wall_ms () / 1000),
        .mandatory = change->kind == PROTO_CHANGE_CREATED,
    };
    return 0;
}
