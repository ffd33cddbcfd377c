/*
 * broker — see broker.h. Connection setup and teardown for rabbitmq-c 0.11,
 * which leaves heartbeats, timeouts and recovery to the caller, and the
 * frame handling publisher.c and subscription.c share (amqp_raw.h).
 */
#include "amqp_raw.h"

#include "backoff.h"
#include "log.h"

#include <amqp_tcp_socket.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _broker_t {
    char *url_text; /* the mutable copy amqp_parse_url cut up, a NUL per comma */
    struct amqp_connection_info nodes[BROKER_URLS_MAX]; /* point into url_text */
    int n_nodes;
    int node; /* the one the next attempt goes to, or the connection is on */
    int heartbeat_s;
    broker_queue_args_t queue;    /* what BROKER_QUEUE is declared with */
    amqp_connection_state_t conn; /* NULL when disconnected */
    backoff_t retry;
    bool lost; /* a connection was dropped since the last retry delay */
};

broker_queue_args_t
broker_queue_args_from_options (options_t *opts)
{
    assert (opts);
    return (broker_queue_args_t){
        .max = (long)options_get (opts, "queue-max")->num,
        .type =
            options_get (opts, "queue-type")->num == 1 ? BROKER_QUEUE_QUORUM : BROKER_QUEUE_CLASSIC,
        .delivery_limit = (long)options_get (opts, "delivery-limit")->num,
    };
}

const char *
broker_queue_type_name (broker_queue_type_t type)
{
    return type == BROKER_QUEUE_QUORUM ? "quorum" : "classic";
}

broker_t *
broker_new (const char *url, int heartbeat_s)
{
    char err[256];
    if (broker_url_check (url, err, sizeof err) != 0) {
        log_error ("%s", err);
        return NULL;
    }
    broker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url_text = strdup (url);
    if (!self->url_text) {
        free (self);
        return NULL;
    }
    /* Checked above: at most BROKER_URLS_MAX entries, each parses. */
    for (char *entry = self->url_text; entry && self->n_nodes < BROKER_URLS_MAX;) {
        char *comma = strchr (entry, ',');
        if (comma)
            *comma = '\0';
        struct amqp_connection_info *info = &self->nodes[self->n_nodes++];
        amqp_default_connection_info (info);
        amqp_parse_url (entry, info);
        /* The AMQP URI spec reads "amqp://host/" as the empty vhost; every
           client people use (pika, the Java client's defaults) means "/". */
        if (!info->vhost || !*info->vhost)
            info->vhost = "/";
        entry = comma ? comma + 1 : NULL;
    }
    self->heartbeat_s = heartbeat_s;
    self->queue = (broker_queue_args_t){ .max = BROKER_QUEUE_MAX_DEFAULT,
                                         .type = BROKER_QUEUE_CLASSIC,
                                         .delivery_limit = BROKER_DELIVERY_LIMIT_DEFAULT };
    backoff_init (&self->retry, BROKER_RETRY_INITIAL_MS, BROKER_RETRY_MAX_MS);
    return self;
}

void
broker_set_queue_max (broker_t *self, long queue_max)
{
    assert (self && queue_max >= 0);
    self->queue.max = queue_max;
}

void
broker_set_queue_args (broker_t *self, const broker_queue_args_t *args)
{
    assert (self && args && args->max >= 0 && args->delivery_limit > 0);
    self->queue = *args;
}

const broker_queue_args_t *
broker_queue_args (broker_t *self)
{
    assert (self);
    return &self->queue;
}

void
broker_destroy (broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    broker_drop (self);
    free (self->url_text);
    free (self);
    *self_p = NULL;
}

int
broker_rpc_check (amqp_rpc_reply_t reply, const char *what)
{
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_NONE:
        log_warn ("%s: missing RPC reply", what);
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        log_warn ("%s: %s", what, amqp_error_string2 (reply.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            const amqp_connection_close_t *m = reply.reply.decoded;
            log_warn ("%s: connection closed by server: %u %.*s", what, m->reply_code,
                      (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t *m = reply.reply.decoded;
            log_warn ("%s: channel closed by server: %u %.*s", what, m->reply_code,
                      (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else
            log_warn ("%s: unexpected server method 0x%08x", what, reply.reply.id);
        break;
    }
    return -1;
}

/* The channel.close of a declare whose arguments differ from the existing
   queue's (406 PRECONDITION_FAILED), or NULL for any other reply. */
static const amqp_channel_close_t *
s_precondition_failed (amqp_rpc_reply_t reply)
{
    if (reply.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION
        || reply.reply.id != AMQP_CHANNEL_CLOSE_METHOD)
        return NULL;
    const amqp_channel_close_t *m = reply.reply.decoded;
    return m->reply_code == AMQP_PRECONDITION_FAILED ? m : NULL;
}

/* The type of the existing queue a 406 on x-queue-type names, into out:
   RabbitMQ 3.10 says "... but current is the value 'quorum' of type ..." or
   "... but current is none" (a classic queue declared without the
   argument). */
static void
s_current_type (const char *text, broker_queue_type_t asked, char *out, size_t size)
{
    const char *value = strstr (text, "current is the value '");
    if (value) {
        value += strlen ("current is the value '");
        snprintf (out, size, "%.*s", (int)strcspn (value, "'"), value);
    } else
        snprintf (out, size, "%s",
                  strstr (text, "current is none") || asked == BROKER_QUEUE_QUORUM ? "classic"
                                                                                   : "quorum");
}

/* Logs why a declare of queue name failed with 406 (m) and returns
   BROKER_CONFLICT for the differences only an operator can settle (type,
   delivery limit), -1 for the others (x-max-length: see broker.h). */
static int
s_explain_mismatch (const char *name, const amqp_channel_close_t *m, const broker_queue_args_t *q)
{
    char text[512];
    snprintf (text, sizeof text, "%.*s", (int)m->reply_text.len, (const char *)m->reply_text.bytes);
    const char *asked = broker_queue_type_name (q->type);
    if (strstr (text, "'x-queue-type'")) {
        char current[32];
        s_current_type (text, q->type, current, sizeof current);
        log_error ("queue %s exists as %s; this service declares it %s (--queue-type %s). Start "
                   "every notifier and worker with --queue-type %s (HERALD_QUEUE_TYPE), or "
                   "delete the queues once they are drained (rabbitmqctl delete_queue " BROKER_QUEUE
                   "; rabbitmqctl delete_queue " BROKER_DEAD_QUEUE
                   ") so they are declared again as %s. Not retrying: only an operator can change "
                   "a queue's type. RabbitMQ says \"%s\"",
                   name, current, asked, asked, current, asked, text);
        return BROKER_CONFLICT;
    }
    if (strstr (text, "'x-delivery-limit'")) {
        log_error ("queue %s exists with another x-delivery-limit than this service's "
                   "--delivery-limit %ld. Give every notifier and worker the same --delivery-limit "
                   "(HERALD_DELIVERY_LIMIT), or delete the queue once it is drained (rabbitmqctl "
                   "delete_queue %s). Not retrying. RabbitMQ says \"%s\"",
                   name, q->delivery_limit, name, text);
        return BROKER_CONFLICT;
    }
    char bound[64] = "no x-max-length";
    if (q->max > 0)
        snprintf (bound, sizeof bound, "x-max-length %ld, x-overflow reject-publish", q->max);
    log_error (
        "queue %s exists with other arguments than this service declares (%s): RabbitMQ "
        "says \"%s\". Give every notifier and worker the same --queue-max "
        "(HERALD_QUEUE_MAX). A queue made by an older Herald has no bound: once it is empty, "
        "delete it (rabbitmqctl delete_queue %s) and it is declared again with the bound; "
        "or keep it, run with --queue-max 0 and bound it with a policy (rabbitmqctl "
        "set_policy herald-bound '^herald\\.notifications$' '{\"max-length\":%ld,"
        "\"overflow\":\"reject-publish\"}' --apply-to queues). Retrying with backoff.",
        name, bound, text, name, q->max > 0 ? q->max : (long)BROKER_QUEUE_MAX_DEFAULT);
    return -1;
}

int
broker_queue_arguments (const broker_queue_args_t *q, const char *dead_exchange,
                        amqp_table_entry_t entries[BROKER_QUEUE_ARGUMENTS_MAX])
{
    assert (q && dead_exchange);
    entries[0].key = amqp_cstring_bytes ("x-dead-letter-exchange");
    entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[0].value.value.bytes = amqp_cstring_bytes (dead_exchange);
    int n = 1;
    if (q->max > 0) {
        /* reject-publish: a full queue nacks the publish (confirms on) and
           keeps what it holds. The default, drop-head, would silently drop
           the oldest notification, and dead-lettering it would only move the
           backlog to an unbounded queue. */
        entries[n].key = amqp_cstring_bytes ("x-max-length");
        entries[n].value.kind = AMQP_FIELD_KIND_I64;
        entries[n++].value.value.i64 = q->max;
        entries[n].key = amqp_cstring_bytes ("x-overflow");
        entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
        entries[n++].value.value.bytes = amqp_cstring_bytes ("reject-publish");
    }
    if (q->type == BROKER_QUEUE_QUORUM) {
        entries[n].key = amqp_cstring_bytes ("x-delivery-limit");
        entries[n].value.kind = AMQP_FIELD_KIND_I64;
        entries[n++].value.value.i64 = q->delivery_limit;
    }
    return n;
}

int
broker_queue_type_argument (const broker_queue_args_t *q, amqp_table_entry_t *entries, int n)
{
    /* A classic queue is declared without x-queue-type, as every Herald
       before quorum queues did: naming it would make a queue those made
       differ in arguments (PRECONDITION_FAILED) on some RabbitMQ versions. */
    if (q->type == BROKER_QUEUE_QUORUM) {
        entries[n].key = amqp_cstring_bytes ("x-queue-type");
        entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
        entries[n].value.value.bytes = amqp_cstring_bytes ("quorum");
        n++;
    }
    return n;
}

/* Declares queue name (durable) with the n entries of args, plus
   x-queue-type quorum when q asks for it. 0, -1 or BROKER_CONFLICT, logged. */
static int
s_declare_queue (amqp_connection_state_t conn, amqp_channel_t channel, const char *name,
                 amqp_table_entry_t *entries, int n, const broker_queue_args_t *q)
{
    n = broker_queue_type_argument (q, entries, n);
    amqp_table_t args = { n, entries };
    amqp_queue_declare (conn, channel, amqp_cstring_bytes (name), 0, 1, 0, 0, args);
    amqp_rpc_reply_t reply = amqp_get_rpc_reply (conn);
    const amqp_channel_close_t *mismatch = s_precondition_failed (reply);
    if (mismatch)
        return s_explain_mismatch (name, mismatch, q);
    char what[128];
    snprintf (what, sizeof what, "declare queue %s", name);
    return broker_rpc_check (reply, what);
}

int
broker_declare_topology (amqp_connection_state_t conn, amqp_channel_t channel,
                         const broker_queue_args_t *q)
{
    assert (conn && q);
    amqp_exchange_declare (conn, channel, amqp_cstring_bytes (BROKER_EXCHANGE),
                           amqp_cstring_bytes ("topic"), 0, 1, 0, 0, amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "declare exchange " BROKER_EXCHANGE))
        return -1;
    amqp_exchange_declare (conn, channel, amqp_cstring_bytes (BROKER_DEAD_EXCHANGE),
                           amqp_cstring_bytes ("fanout"), 0, 1, 0, 0, amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "declare exchange " BROKER_DEAD_EXCHANGE))
        return -1;

    /* Both services must pass exactly these arguments, or the second declare
       fails with PRECONDITION_FAILED: that is why they live here only. The
       work queue first, so a conflict is reported on the queue people know. */
    amqp_table_entry_t entries[BROKER_QUEUE_ARGUMENTS_MAX + 1]; /* + x-queue-type */
    int n = broker_queue_arguments (q, BROKER_DEAD_EXCHANGE, entries);
    int rc = s_declare_queue (conn, channel, BROKER_QUEUE, entries, n, q);
    if (rc != 0)
        return rc;
    amqp_queue_bind (conn, channel, amqp_cstring_bytes (BROKER_QUEUE),
                     amqp_cstring_bytes (BROKER_EXCHANGE), amqp_cstring_bytes (BROKER_CREATED_KEY),
                     amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "bind " BROKER_QUEUE))
        return -1;

    rc = s_declare_queue (conn, channel, BROKER_DEAD_QUEUE, entries, 0, q);
    if (rc != 0)
        return rc;
    amqp_queue_bind (conn, channel, amqp_cstring_bytes (BROKER_DEAD_QUEUE),
                     amqp_cstring_bytes (BROKER_DEAD_EXCHANGE), amqp_cstring_bytes (""),
                     amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "bind " BROKER_DEAD_QUEUE))
        return -1;
    return 0;
}

/* Moves on to the next node of the list (no-op with one). */
static void
s_next_node (broker_t *self)
{
    self->node = (self->node + 1) % self->n_nodes;
}

int
broker_connect (broker_t *self)
{
    assert (self);
    broker_drop (self);
    const struct amqp_connection_info *info = &self->nodes[self->node];
    char where[300] = "";
    if (self->n_nodes > 1)
        snprintf (where, sizeof where, " (node %d of %d)", self->node + 1, self->n_nodes);
    amqp_connection_state_t conn = amqp_new_connection ();
    if (!conn)
        return -1;
    amqp_socket_t *socket = amqp_tcp_socket_new (conn);
    if (!socket) {
        amqp_destroy_connection (conn);
        return -1;
    }
    struct timeval connect_tv = { BROKER_CONNECT_TIMEOUT_MS / 1000,
                                  (BROKER_CONNECT_TIMEOUT_MS % 1000) * 1000 };
    struct timeval rpc_tv = { BROKER_RPC_TIMEOUT_MS / 1000, (BROKER_RPC_TIMEOUT_MS % 1000) * 1000 };
    int rc = -1;
    int status = amqp_socket_open_noblock (socket, info->host, info->port, &connect_tv);
    if (status < 0) {
        log_warn ("connect to RabbitMQ at %s:%d%s: %s", info->host, info->port, where,
                  amqp_error_string2 (status));
        goto failed;
    }
    amqp_set_handshake_timeout (conn, &connect_tv);
    amqp_set_rpc_timeout (conn, &rpc_tv);
    /* Asks RabbitMQ to say when it blocks our publishes (a memory or disk
       alarm) and when it lets them through again: rabbitmq-c merges this
       capability into its own. A publisher holds its output meanwhile
       (publisher.h) instead of writing into a socket nobody reads. */
    amqp_table_entry_t capability = { .key = amqp_cstring_bytes ("connection.blocked"),
                                      .value = { .kind = AMQP_FIELD_KIND_BOOLEAN,
                                                 .value = { .boolean = 1 } } };
    amqp_table_entry_t property = {
        .key = amqp_cstring_bytes ("capabilities"),
        .value = { .kind = AMQP_FIELD_KIND_TABLE,
                   .value = { .table = { .num_entries = 1, .entries = &capability } } }
    };
    amqp_table_t properties = { .num_entries = 1, .entries = &property };
    amqp_rpc_reply_t reply = amqp_login_with_properties (
        conn, info->vhost, 0, AMQP_DEFAULT_FRAME_SIZE, self->heartbeat_s, &properties,
        AMQP_SASL_METHOD_PLAIN, info->user, info->password);
    if (broker_rpc_check (reply, "login to RabbitMQ"))
        goto failed;
    amqp_channel_open (conn, BROKER_CHANNEL);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "open channel"))
        goto failed;
    rc = broker_declare_topology (conn, BROKER_CHANNEL, &self->queue);
    if (rc != 0)
        goto failed;
    self->conn = conn;
    backoff_reset (&self->retry);
    log_info ("connected to RabbitMQ at %s:%d%s (heartbeat %d s, %s queues)", info->host,
              info->port, where, self->heartbeat_s, broker_queue_type_name (self->queue.type));
    return 0;

failed:
    amqp_destroy_connection (conn);
    if (self->n_nodes > 1 && rc != BROKER_CONFLICT) {
        s_next_node (self);
        log_info ("next RabbitMQ node to try: %s:%d", self->nodes[self->node].host,
                  self->nodes[self->node].port);
    }
    return rc;
}

void
broker_disconnect (broker_t *self)
{
    assert (self);
    if (!self->conn)
        return;
    /* Bounded by the RPC timeout; errors only mean the peer is gone. */
    amqp_channel_close (self->conn, BROKER_CHANNEL, AMQP_REPLY_SUCCESS);
    amqp_connection_close (self->conn, AMQP_REPLY_SUCCESS);
    broker_drop (self);
}

void
broker_drop (broker_t *self)
{
    assert (self);
    if (!self->conn)
        return;
    amqp_destroy_connection (self->conn);
    self->conn = NULL;
    self->lost = true;
    /* The node we were on failed us (or we are leaving): the next attempt
       goes to the next one. */
    s_next_node (self);
}

bool
broker_connected (broker_t *self)
{
    assert (self);
    return self->conn != NULL;
}

amqp_connection_state_t
broker_conn (broker_t *self)
{
    assert (self);
    return self->conn;
}

int
broker_fd (broker_t *self)
{
    assert (self);
    return self->conn ? amqp_get_sockfd (self->conn) : -1;
}

bool
broker_has_buffered (broker_t *self)
{
    assert (self);
    return self->conn && (amqp_frames_enqueued (self->conn) || amqp_data_in_buffer (self->conn));
}

int64_t
broker_retry_delay_ms (broker_t *self)
{
    assert (self);
    int64_t delay = backoff_next (&self->retry);
    if (self->lost)
        delay += BROKER_LOST_DELAY_MS;
    self->lost = false;
    return delay;
}

broker_frame_t
broker_frame_kind (const amqp_frame_t *frame, uint64_t *tag, bool *multiple)
{
    assert (frame);
    if (frame->frame_type != AMQP_FRAME_METHOD)
        return BROKER_FRAME_OTHER;
    switch (frame->payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        const amqp_basic_ack_t *m = frame->payload.method.decoded;
        if (tag)
            *tag = m->delivery_tag;
        if (multiple)
            *multiple = m->multiple;
        return BROKER_FRAME_ACK;
    }
    case AMQP_BASIC_NACK_METHOD: {
        const amqp_basic_nack_t *m = frame->payload.method.decoded;
        if (tag)
            *tag = m->delivery_tag;
        if (multiple)
            *multiple = m->multiple;
        return BROKER_FRAME_NACK;
    }
    case AMQP_BASIC_RETURN_METHOD:
        return BROKER_FRAME_RETURN;
    case AMQP_BASIC_CANCEL_METHOD:
        return BROKER_FRAME_CANCEL;
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
        return BROKER_FRAME_CLOSE;
    case AMQP_CONNECTION_BLOCKED_METHOD:
        return BROKER_FRAME_BLOCKED;
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
        return BROKER_FRAME_UNBLOCKED;
    default:
        return BROKER_FRAME_OTHER;
    }
}

int
broker_handle_close (broker_t *self, const amqp_frame_t *frame)
{
    assert (self);
    if (!self->conn || broker_frame_kind (frame, NULL, NULL) != BROKER_FRAME_CLOSE)
        return 0;
    if (frame->payload.method.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const amqp_channel_close_t *m = frame->payload.method.decoded;
        log_warn ("RabbitMQ closed the channel: %u %.*s", m->reply_code, (int)m->reply_text.len,
                  (const char *)m->reply_text.bytes);
        amqp_channel_close_ok_t ok = { 0 };
        amqp_send_method (self->conn, frame->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        return 1;
    }
    const amqp_connection_close_t *m = frame->payload.method.decoded;
    log_warn ("RabbitMQ closed the connection: %u %.*s", m->reply_code, (int)m->reply_text.len,
              (const char *)m->reply_text.bytes);
    amqp_connection_close_ok_t ok = { 0 };
    amqp_send_method (self->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    return 1;
}

const char *
broker_host (broker_t *self)
{
    assert (self);
    return self->nodes[self->node].host;
}

int
broker_port (broker_t *self)
{
    assert (self);
    return self->nodes[self->node].port;
}

int
broker_nodes (broker_t *self)
{
    assert (self);
    return self->n_nodes;
}

int
broker_node (broker_t *self)
{
    assert (self);
    return self->node;
}
