/*
 * herald-broker-probe — tries one AMQP operation as a given RabbitMQ user and
 * says whether the broker allowed it, for tests/broker/test_broker_users.sh,
 * which checks each service's permissions against a real node.
 *
 *   HERALD_AMQP_URL=amqp://USER@127.0.0.1:PORT/ HERALD_AMQP_PASSWORD_FILE=F \
 *       herald-broker-probe OP [ARGS]
 *
 *   login                      log in and open a channel
 *   publish EXCHANGE KEY       a persistent message, in confirm mode, until
 *                              the broker acks it
 *   consume QUEUE              basic.consume (cancelled at once)
 *   get QUEUE                  basic.get (a message taken is requeued)
 *   purge QUEUE
 *   delete-queue QUEUE
 *   declare-queue QUEUE [DLX]  durable, with DLX as its dead-letter exchange
 *
 * The password comes as the services take it (a file, never argv). Exit 0
 * when the operation was allowed, 3 when RabbitMQ refused it (403
 * ACCESS_REFUSED, or the login refused), 1 on any other failure; one line on
 * stdout says which and RabbitMQ's reason.
 */
#include "broker.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_ALLOWED 0
#define PROBE_FAILED 1
#define PROBE_REFUSED 3
#define PROBE_CHANNEL 1

/* Maps an RPC reply to an exit status, printing the broker's reason. */
static int
s_verdict (amqp_rpc_reply_t reply, const char *what)
{
    if (reply.reply_type == AMQP_RESPONSE_NORMAL)
        return PROBE_ALLOWED;
    if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
        unsigned code = 0;
        amqp_bytes_t text = { 0, NULL };
        if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t *m = reply.reply.decoded;
            code = m->reply_code;
            text = m->reply_text;
        } else if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            const amqp_connection_close_t *m = reply.reply.decoded;
            code = m->reply_code;
            text = m->reply_text;
        }
        printf ("%s: %s: %u %.*s\n", what, code == 403 ? "refused" : "failed", code, (int)text.len,
                (const char *)text.bytes);
        return code == 403 ? PROBE_REFUSED : PROBE_FAILED;
    }
    printf ("%s: failed: %s\n", what,
            reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                ? amqp_error_string2 (reply.library_error)
                : "no reply");
    return PROBE_FAILED;
}

/* Publishes in confirm mode and waits for the broker's verdict: an ack, or
   the channel closed (a refused publish closes the channel asynchronously). */
static int
s_publish (amqp_connection_state_t conn, const char *exchange, const char *key)
{
    amqp_confirm_select (conn, PROBE_CHANNEL);
    int rc = s_verdict (amqp_get_rpc_reply (conn), "confirm.select");
    if (rc != PROBE_ALLOWED)
        return rc;
    amqp_basic_properties_t props = { 0 };
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = 2;
    if (amqp_basic_publish (conn, PROBE_CHANNEL, amqp_cstring_bytes (exchange),
                            amqp_cstring_bytes (key), 0, 0, &props,
                            amqp_cstring_bytes ("herald-broker-probe"))
        != AMQP_STATUS_OK) {
        printf ("publish: failed to send\n");
        return PROBE_FAILED;
    }
    struct timeval tv = { 10, 0 };
    amqp_frame_t frame;
    for (;;) {
        int status = amqp_simple_wait_frame_noblock (conn, &frame, &tv);
        if (status != AMQP_STATUS_OK) {
            printf ("publish: failed: %s\n", amqp_error_string2 (status));
            return PROBE_FAILED;
        }
        if (frame.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD:
            printf ("publish: allowed (confirmed)\n");
            return PROBE_ALLOWED;
        case AMQP_BASIC_NACK_METHOD:
            printf ("publish: failed: nacked\n");
            return PROBE_FAILED;
        case AMQP_CHANNEL_CLOSE_METHOD:
        case AMQP_CONNECTION_CLOSE_METHOD: {
            amqp_rpc_reply_t reply;
            memset (&reply, 0, sizeof reply);
            reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
            reply.reply = frame.payload.method;
            return s_verdict (reply, "publish");
        }
        default:
            break;
        }
    }
}

static int
s_run (amqp_connection_state_t conn, int argc, char *argv[])
{
    const char *op = argv[1];
    const char *arg = argc > 2 ? argv[2] : "";
    amqp_bytes_t name = amqp_cstring_bytes (arg);
    if (strcmp (op, "login") == 0 && argc == 2) {
        printf ("login: allowed\n");
        return PROBE_ALLOWED;
    }
    if (strcmp (op, "publish") == 0 && argc == 4)
        return s_publish (conn, argv[2], argv[3]);
    if (strcmp (op, "consume") == 0 && argc == 3) {
        amqp_basic_consume_ok_t *ok = amqp_basic_consume (
            conn, PROBE_CHANNEL, name, amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
        int rc = s_verdict (amqp_get_rpc_reply (conn), "consume");
        if (ok && rc == PROBE_ALLOWED) {
            amqp_basic_cancel (conn, PROBE_CHANNEL, ok->consumer_tag);
            printf ("consume: allowed\n");
        }
        return rc;
    }
    if (strcmp (op, "get") == 0 && argc == 3) {
        int rc = s_verdict (amqp_basic_get (conn, PROBE_CHANNEL, name, 0), "get");
        if (rc == PROBE_ALLOWED)
            printf ("get: allowed\n"); /* unacked: requeued when the channel closes */
        return rc;
    }
    if (strcmp (op, "purge") == 0 && argc == 3) {
        amqp_queue_purge (conn, PROBE_CHANNEL, name);
        int rc = s_verdict (amqp_get_rpc_reply (conn), "purge");
        if (rc == PROBE_ALLOWED)
            printf ("purge: allowed\n");
        return rc;
    }
    if (strcmp (op, "delete-queue") == 0 && argc == 3) {
        amqp_queue_delete (conn, PROBE_CHANNEL, name, 0, 0);
        int rc = s_verdict (amqp_get_rpc_reply (conn), "delete-queue");
        if (rc == PROBE_ALLOWED)
            printf ("delete-queue: allowed\n");
        return rc;
    }
    if (strcmp (op, "declare-queue") == 0 && (argc == 3 || argc == 4)) {
        amqp_table_entry_t dlx = { .key = amqp_cstring_bytes ("x-dead-letter-exchange"),
                                   .value = { .kind = AMQP_FIELD_KIND_UTF8 } };
        amqp_table_t args = amqp_empty_table;
        if (argc == 4) {
            dlx.value.value.bytes = amqp_cstring_bytes (argv[3]);
            args = (amqp_table_t){ 1, &dlx };
        }
        amqp_queue_declare (conn, PROBE_CHANNEL, name, 0, 1, 0, 0, args);
        int rc = s_verdict (amqp_get_rpc_reply (conn), "declare-queue");
        if (rc == PROBE_ALLOWED)
            printf ("declare-queue: allowed\n");
        return rc;
    }
    fprintf (stderr,
             "herald-broker-probe: unknown operation or wrong arguments (see the source)\n");
    return 2;
}

int
main (int argc, char *argv[])
{
    if (argc < 2) {
        fprintf (stderr, "usage: herald-broker-probe OP [ARGS] (HERALD_AMQP_URL, "
                         "HERALD_AMQP_PASSWORD_FILE)\n");
        return 2;
    }
    const char *env_url = getenv ("HERALD_AMQP_URL");
    char url[BROKER_URL_MAX];
    if (!env_url
        || broker_url_with_password_file (env_url, getenv ("HERALD_AMQP_PASSWORD_FILE"), url,
                                          sizeof url))
        return PROBE_FAILED;
    struct amqp_connection_info info;
    if (amqp_parse_url (url, &info) != AMQP_STATUS_OK) {
        fprintf (stderr, "herald-broker-probe: HERALD_AMQP_URL is not an AMQP URL\n");
        return PROBE_FAILED;
    }
    amqp_connection_state_t conn = amqp_new_connection ();
    amqp_socket_t *socket = amqp_tcp_socket_new (conn);
    struct timeval tv = { 10, 0 };
    int rc = PROBE_FAILED;
    if (!socket || amqp_socket_open_noblock (socket, info.host, info.port, &tv) != AMQP_STATUS_OK) {
        printf ("connect: failed\n");
        goto done;
    }
    amqp_set_rpc_timeout (conn, &tv);
    amqp_rpc_reply_t reply =
        amqp_login (conn, *info.vhost ? info.vhost : "/", 0, AMQP_DEFAULT_FRAME_SIZE, 0,
                    AMQP_SASL_METHOD_PLAIN, info.user, info.password);
    rc = s_verdict (reply, "login");
    /* A refused login closes the socket, or the connection with 403. */
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
        && reply.library_error == AMQP_STATUS_CONNECTION_CLOSED)
        rc = PROBE_REFUSED;
    if (rc != PROBE_ALLOWED)
        goto done;
    amqp_channel_open (conn, PROBE_CHANNEL);
    rc = s_verdict (amqp_get_rpc_reply (conn), "channel.open");
    if (rc == PROBE_ALLOWED)
        rc = s_run (conn, argc, argv);
    amqp_connection_close (conn, AMQP_REPLY_SUCCESS);
done:
    amqp_destroy_connection (conn);
    return rc;
}
