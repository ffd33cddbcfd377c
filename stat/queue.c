/*
 * queue — see queue.h.
 */
#include "queue.h"

#include "broker.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define S_TIMEOUT_S 1

struct _queue_t {
    char *url; /* owned; amqp_parse_url cuts it in place into info */
    struct amqp_connection_info info;
    amqp_connection_state_t conn; /* NULL when not connected */
};

queue_t *
queue_new (const char *url)
{
    queue_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (url);
    if (!self->url || amqp_parse_url (self->url, &self->info) != AMQP_STATUS_OK) {
        queue_destroy (&self);
        return NULL;
    }
    /* "amqp://host/" is the empty vhost by the URI spec; Herald means "/"
       by it, as amqp/broker.c does. */
    if (!self->info.vhost || !*self->info.vhost)
        self->info.vhost = "/";
    return self;
}

static void
s_drop (queue_t *self)
{
    if (!self->conn)
        return;
    amqp_connection_close (self->conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection (self->conn);
    self->conn = NULL;
}

void
queue_destroy (queue_t **self_p)
{
    queue_t *self = *self_p;
    if (!self)
        return;
    s_drop (self);
    free (self->url);
    free (self);
    *self_p = NULL;
}

static int
s_connect (queue_t *self)
{
    self->conn = amqp_new_connection ();
    amqp_socket_t *socket = self->conn ? amqp_tcp_socket_new (self->conn) : NULL;
    struct timeval timeout = { S_TIMEOUT_S, 0 };
    if (!socket
        || amqp_socket_open_noblock (socket, self->info.host, self->info.port, &timeout)
               != AMQP_STATUS_OK
        || amqp_set_rpc_timeout (self->conn, &timeout) != AMQP_STATUS_OK
        || amqp_login (self->conn, self->info.vhost, 1, AMQP_DEFAULT_FRAME_SIZE, 0,
                       AMQP_SASL_METHOD_PLAIN, self->info.user, self->info.password)
                   .reply_type
               != AMQP_RESPONSE_NORMAL
        || !amqp_channel_open (self->conn, 1)
        || amqp_get_rpc_reply (self->conn).reply_type != AMQP_RESPONSE_NORMAL) {
        if (self->conn)
            amqp_destroy_connection (self->conn);
        self->conn = NULL;
        return -1;
    }
    return 0;
}

long
queue_depth (queue_t *self)
{
    if (!self->conn && s_connect (self) != 0)
        return -1;
    amqp_queue_declare_ok_t *ok = amqp_queue_declare (
        self->conn, 1, amqp_cstring_bytes (BROKER_QUEUE), 1, 0, 0, 0, amqp_empty_table);
    if (!ok) {
        s_drop (self); /* a failed passive declare closes the channel */
        return -1;
    }
    long depth = (long)ok->message_count;
    amqp_maybe_release_buffers (self->conn);
    return depth;
}
