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
    char *url_text;                   /* the mutable copy amqp_parse_url cut up */
    struct amqp_connection_info info; /* points into url_text */
    int heartbeat_s;
    long queue_max;               /* x-max-length of BROKER_QUEUE, 0 = none */
    amqp_connection_state_t conn; /* NULL when disconnected */
    backoff_t retry;
};

int
broker_url_check (const char *url, char *err, size_t size)
{
    char *copy = strdup (url ? url : "");
    if (!copy) {
        snprintf (err, size, "out of memory");
        return -1;
    }
    struct amqp_connection_info info;
    amqp_default_connection_info (&info);
    int rc = amqp_parse_url (copy, &info);
    if (rc != AMQP_STATUS_OK)
        snprintf (err, size, "'%s' is not an AMQP URL (amqp://user:pass@host:port/vhost): %s",
                  url ? url : "", amqp_error_string2 (rc));
    else if (info.ssl)
        snprintf (err, size, "amqps:// is not supported");
    free (copy);
    return rc == AMQP_STATUS_OK && !info.ssl ? 0 : -1;
}

/* The password of the len bytes in buf, checked, into out. 0, or -1 logged. */
static int
s_password_take (const char *path, const char *buf, size_t len, char *out)
{
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len == 0 || len > BROKER_PASSWORD_MAX) {
        if (len == 0)
            log_error ("--amqp-password-file %s: empty", path);
        else
            log_error ("--amqp-password-file %s: longer than %d bytes", path, BROKER_PASSWORD_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            log_error ("--amqp-password-file %s: holds a control character or a second line", path);
            return -1;
        }
    memcpy (out, buf, len);
    out[len] = '\0';
    return 0;
}

/* Reads the password of path into out (BROKER_PASSWORD_MAX + 1 bytes).
   0, or -1 logged. */
static int
s_password_read (const char *path, char *out)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        log_error ("--amqp-password-file %s: %s", path, strerror (errno));
        return -1;
    }
    char buf[BROKER_PASSWORD_MAX + 3];
    size_t len = fread (buf, 1, sizeof buf, file);
    int failed = ferror (file);
    fclose (file);
    int rc = -1;
    if (failed)
        log_error ("--amqp-password-file %s: read error", path);
    else
        rc = s_password_take (path, buf, len, out);
    explicit_bzero (buf, sizeof buf);
    return rc;
}

int
broker_url_with_password_file (const char *url, const char *password_file, char *out, size_t size)
{
    assert (url && out);
    size_t url_len = strlen (url);
    if (!password_file) {
        if (url_len >= size) {
            log_error ("--amqp-url: longer than %zu bytes", size - 1);
            return -1;
        }
        memcpy (out, url, url_len + 1);
        return 0;
    }
    /* amqp://USER[:PASSWORD]@HOST...: the user info ends at the last '@'
       before the path. */
    const char *scheme = "amqp://";
    const char *auth = strncmp (url, scheme, strlen (scheme)) == 0 ? url + strlen (scheme) : NULL;
    const char *at = NULL;
    for (const char *p = auth; p && *p && *p != '/'; p++)
        if (*p == '@')
            at = p;
    size_t user_len = 0;
    while (auth && auth + user_len < at && auth[user_len] != ':')
        user_len++;
    if (!at || user_len == 0) {
        log_error ("--amqp-password-file needs an --amqp-url that names a user "
                   "(amqp://USER@HOST:PORT/)");
        return -1;
    }
    char password[BROKER_PASSWORD_MAX + 1];
    if (s_password_read (password_file, password))
        return -1;
    /* The password goes into the URL percent-encoded, but for the
       characters RFC 3986 leaves unreserved. */
    size_t n = (size_t)(auth - url) + user_len;
    int fits = n + 1 < size;
    if (fits) {
        memcpy (out, url, n);
        out[n++] = ':';
    }
    for (const char *p = password; fits && *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                     || strchr ("-._~", c);
        if (n + (plain ? 1 : 3) >= size)
            fits = 0;
        else if (plain)
            out[n++] = (char)c;
        else
            n += (size_t)snprintf (out + n, 4, "%%%02X", c);
    }
    size_t rest = strlen (at);
    fits = fits && n + rest < size;
    if (fits)
        memcpy (out + n, at, rest + 1);
    explicit_bzero (password, sizeof password);
    if (!fits) {
        explicit_bzero (out, size);
        log_error ("--amqp-url with the password of %s: longer than %zu bytes", password_file,
                   size - 1);
        return -1;
    }
    return 0;
}

const char *
broker_url_from_options (options_t *opts, char *out, size_t size)
{
    assert (opts);
    if (broker_url_with_password_file (options_get (opts, "amqp-url")->str,
                                       options_get (opts, "amqp-password-file")->str, out, size))
        return NULL;
    return out;
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
    amqp_default_connection_info (&self->info);
    amqp_parse_url (self->url_text, &self->info);
    /* The AMQP URI spec reads "amqp://host/" as the empty vhost; every
       client people use (pika, the Java client's defaults) means "/". */
    if (!self->info.vhost || !*self->info.vhost)
        self->info.vhost = "/";
    self->heartbeat_s = heartbeat_s;
    self->queue_max = BROKER_QUEUE_MAX_DEFAULT;
    backoff_init (&self->retry, BROKER_RETRY_INITIAL_MS, BROKER_RETRY_MAX_MS);
    return self;
}

void
broker_set_queue_max (broker_t *self, long queue_max)
{
    assert (self && queue_max >= 0);
    self->queue_max = queue_max;
}

long
broker_queue_max (broker_t *self)
{
    assert (self);
    return self->queue_max;
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

static int
s_status_check (int status, const char *what)
{
    if (status >= 0)
        return 0;
    log_warn ("%s: %s", what, amqp_error_string2 (status));
    return -1;
}

/* True when reply is the channel.close of a declare whose arguments differ
   from the existing queue's (406 PRECONDITION_FAILED). */
static bool
s_is_precondition_failed (amqp_rpc_reply_t reply)
{
    if (reply.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION
        || reply.reply.id != AMQP_CHANNEL_CLOSE_METHOD)
        return false;
    const amqp_channel_close_t *m = reply.reply.decoded;
    return m->reply_code == AMQP_PRECONDITION_FAILED;
}

int
broker_declare_topology (amqp_connection_state_t conn, amqp_channel_t channel, long queue_max)
{
    assert (conn);
    amqp_exchange_declare (conn, channel, amqp_cstring_bytes (BROKER_EXCHANGE),
                           amqp_cstring_bytes ("topic"), 0, 1, 0, 0, amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "declare exchange " BROKER_EXCHANGE))
        return -1;
    amqp_exchange_declare (conn, channel, amqp_cstring_bytes (BROKER_DEAD_EXCHANGE),
                           amqp_cstring_bytes ("fanout"), 0, 1, 0, 0, amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "declare exchange " BROKER_DEAD_EXCHANGE))
        return -1;

    amqp_queue_declare (conn, channel, amqp_cstring_bytes (BROKER_DEAD_QUEUE), 0, 1, 0, 0,
                        amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "declare queue " BROKER_DEAD_QUEUE))
        return -1;
    amqp_queue_bind (conn, channel, amqp_cstring_bytes (BROKER_DEAD_QUEUE),
                     amqp_cstring_bytes (BROKER_DEAD_EXCHANGE), amqp_cstring_bytes (""),
                     amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "bind " BROKER_DEAD_QUEUE))
        return -1;

    /* Both services must pass exactly these arguments, or the second declare
       fails with PRECONDITION_FAILED: that is why they live here only. */
    amqp_table_entry_t entries[3];
    entries[0].key = amqp_cstring_bytes ("x-dead-letter-exchange");
    entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[0].value.value.bytes = amqp_cstring_bytes (BROKER_DEAD_EXCHANGE);
    int n_entries = 1;
    if (queue_max > 0) {
        /* reject-publish: a full queue nacks the publish (confirms on) and
           keeps what it holds. The default, drop-head, would silently drop
           the oldest notification, and dead-lettering it would only move the
           backlog to an unbounded queue. */
        entries[1].key = amqp_cstring_bytes ("x-max-length");
        entries[1].value.kind = AMQP_FIELD_KIND_I64;
        entries[1].value.value.i64 = queue_max;
        entries[2].key = amqp_cstring_bytes ("x-overflow");
        entries[2].value.kind = AMQP_FIELD_KIND_UTF8;
        entries[2].value.value.bytes = amqp_cstring_bytes ("reject-publish");
        n_entries = 3;
    }
    amqp_table_t args = { n_entries, entries };
    amqp_queue_declare (conn, channel, amqp_cstring_bytes (BROKER_QUEUE), 0, 1, 0, 0, args);
    amqp_rpc_reply_t reply = amqp_get_rpc_reply (conn);
    if (s_is_precondition_failed (reply)) {
        const amqp_channel_close_t *m = reply.reply.decoded;
        char bound[64] = "no x-max-length";
        if (queue_max > 0)
            snprintf (bound, sizeof bound, "x-max-length %ld, x-overflow reject-publish",
                      queue_max);
        log_error ("queue " BROKER_QUEUE " exists with other arguments than this service "
                   "declares (%s): RabbitMQ says \"%.*s\". Give every notifier and worker the same "
                   "--queue-max (HERALD_QUEUE_MAX). A queue made by an older Herald has no bound: "
                   "once it is empty, delete it (rabbitmqctl delete_queue " BROKER_QUEUE
                   ") and it is declared again with the bound; or keep it, run with --queue-max 0 "
                   "and bound it with a policy (rabbitmqctl set_policy herald-bound "
                   "'^herald\\.notifications$' '{\"max-length\":%ld,\"overflow\":"
                   "\"reject-publish\"}' --apply-to queues). Retrying with backoff.",
                   bound, (int)m->reply_text.len, (const char *)m->reply_text.bytes,
                   queue_max > 0 ? queue_max : (long)BROKER_QUEUE_MAX_DEFAULT);
        return -1;
    }
    if (broker_rpc_check (reply, "declare queue " BROKER_QUEUE))
        return -1;
    amqp_queue_bind (conn, channel, amqp_cstring_bytes (BROKER_QUEUE),
                     amqp_cstring_bytes (BROKER_EXCHANGE), amqp_cstring_bytes (BROKER_CREATED_KEY),
                     amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "bind " BROKER_QUEUE))
        return -1;
    return 0;
}

int
broker_connect (broker_t *self)
{
    assert (self);
    broker_drop (self);
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
    int status = amqp_socket_open_noblock (socket, self->info.host, self->info.port, &connect_tv);
    if (s_status_check (status, "connect to RabbitMQ")) {
        amqp_destroy_connection (conn);
        return -1;
    }
    amqp_set_handshake_timeout (conn, &connect_tv);
    amqp_set_rpc_timeout (conn, &rpc_tv);
    amqp_rpc_reply_t reply =
        amqp_login (conn, self->info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, self->heartbeat_s,
                    AMQP_SASL_METHOD_PLAIN, self->info.user, self->info.password);
    if (broker_rpc_check (reply, "login to RabbitMQ"))
        goto failed;
    amqp_channel_open (conn, BROKER_CHANNEL);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "open channel"))
        goto failed;
    if (broker_declare_topology (conn, BROKER_CHANNEL, self->queue_max))
        goto failed;
    self->conn = conn;
    backoff_reset (&self->retry);
    log_info ("connected to RabbitMQ at %s:%d (heartbeat %d s)", self->info.host, self->info.port,
              self->heartbeat_s);
    return 0;

failed:
    amqp_destroy_connection (conn);
    return -1;
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
    return backoff_next (&self->retry);
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
    return self->info.host;
}

int
broker_port (broker_t *self)
{
    assert (self);
    return self->info.port;
}
