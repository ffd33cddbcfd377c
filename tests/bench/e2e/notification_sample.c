/*
 * notification_sample — see notification_sample.h. The message is read
 * through the tests' side of amqp/ (amqp_raw.h), on a connection that
 * declares Herald's topology exactly as the services do.
 */
#include "notification_sample.h"

#include "amqp_raw.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define SAMPLE_WAIT_MS 15000 /* for the notification to reach the queue */

/* Takes one message off BROKER_QUEUE with basic.get (auto-ack) and
   records its sizes. 0, or -1 when the queue is empty or the read failed. */
static int
s_get_one (e2e_stack_t *stack, notification_sample_t *out)
{
    int rc = -1;
    broker_t *broker = stack_broker_new (stack);
    if (!broker || broker_connect (broker) != 0)
        goto done;
    amqp_connection_state_t conn = broker_conn (broker);
    amqp_rpc_reply_t r =
        amqp_basic_get (conn, BROKER_CHANNEL, amqp_cstring_bytes (BROKER_QUEUE), 1);
    if (r.reply_type != AMQP_RESPONSE_NORMAL || r.reply.id != AMQP_BASIC_GET_OK_METHOD) {
        fprintf (stderr, "notification_sample: nothing to get from " BROKER_QUEUE "\n");
        goto done;
    }
    const amqp_basic_get_ok_t *ok = r.reply.decoded;
    bool created = ok->routing_key.len == strlen (BROKER_CREATED_KEY)
                   && memcmp (ok->routing_key.bytes, BROKER_CREATED_KEY, ok->routing_key.len) == 0;
    amqp_message_t message;
    if (amqp_read_message (conn, BROKER_CHANNEL, &message, 0).reply_type != AMQP_RESPONSE_NORMAL)
        goto done;
    const amqp_basic_properties_t *p = &message.properties;
    *out = (notification_sample_t){
        .body_len = message.body.len,
        .message_id_len = p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG ? p->message_id.len : 0,
        .correlation_id_len =
            p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG ? p->correlation_id.len : 0,
    };
    amqp_destroy_message (&message);
    if (created && out->body_len > 0)
        rc = 0;
    else
        fprintf (stderr, "notification_sample: the message taken is not an event.created one\n");
done:
    if (broker)
        broker_disconnect (broker);
    broker_destroy (&broker);
    return rc;
}

int
notification_sample_take (e2e_stack_t *stack, const char *user_id, const char *description,
                          notification_sample_t *out)
{
    assert (stack && user_id && description && out);
    *out = (notification_sample_t){ 0 };
    int rc = -1;
    stack_begin (stack);
    char id[STACK_ID_LEN + 1];
    /* The queue as the runs after this one declare it. */
    const char *queue_type[] = { stack->quorum ? "--queue-type" : NULL, "quorum", NULL };
    if (stack_start_store (stack, 0) || stack_start_gateway (stack)
        || stack_start_notifier_with (stack, queue_type)) {
        fprintf (stderr, "notification_sample: Herald did not start\n");
        goto done;
    }
    if (stack_post (stack, user_id, description, id) != 201) {
        fprintf (stderr, "notification_sample: POST /events failed\n");
        goto done;
    }
    if (stack_wait_depth (stack, BROKER_QUEUE, 1, SAMPLE_WAIT_MS) < 1) {
        fprintf (stderr, "notification_sample: no notification in " BROKER_QUEUE "\n");
        goto done;
    }
    rc = s_get_one (stack, out);
done:
    stack_end (stack);
    return rc;
}
