/*
 * server — see server.h. The life of a request:
 *
 *   1st call of the access handler   headers only: resolve the route, reject
 *                                    early what needs no body (404, 405,
 *                                    415, 413 by Content-Length)
 *   upload calls                     body appended up to max_body
 *   final call                       parse (api_request.c); answer locally, or send
 *                                    to the store; the request waits
 *   reply / deadline                 render; MHD calls the handler once more
 *                                    and the response is queued
 *   completion callback              metrics, then the request is freed; if
 *                                    the store still has it (the client went
 *                                    away), request_complete frees it later
 *
 * A request waits for the store with its connection left in MHD's loop
 * while the loop is busy, and suspended once the loop goes idle
 * (waiting.h says why).
 *
 * libmicrohttpd's own connection timeout reaps idle and half-sent
 * connections; suspended ones never time out by themselves, so the store
 * deadline is ours to enforce (backend_expire). A request's state and how
 * its response is queued are request.c's, the limits and deadlines per
 * client clients.c's, the store side (which shard, replies, deadlines,
 * redirects) backend.c's; --listen is resolved by listen_addr.c.
 */
#include "server.h"

#include "api.h"
#include "assets.h"
#include "backend.h"
#include "clients.h"
#include "clock.h"
#include "log.h"
#include "listen_addr.h"
#include "request.h"
#include "wait_set.h"
#include "waiting.h"

#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

/* config.max_header_size is each connection's memory pool, for its request
   line, headers and I/O buffers (bodies are ours, malloc'd up to max_body).
   libmicrohttpd zeroes the part of the pool a request used, and the rest,
   once or twice per request: 24 KiB of memset per request at 16 KiB, 5% of
   the gateway's CPU per POST and 9% end to end (perf, 2026-12-06); 32 KiB,
   its default, cost twice that. At 8 KiB a request head of up to 7 KiB is
   served (Tomcat's and Jetty's default limit is 8 KiB; REQUEST_ANSWER_ROOM
   is the rest), a bigger one refused (s_begin, request_head_leaves_room). */
#define S_STORE_WAIT_MS 2000 /* for the store before the port opens (backend_await) */

struct _server_t {
    server_config_t config;
    metrics_t *metrics;
    struct MHD_Daemon *mhd;
    int epoll_fd;
    backend_t *backend;
    wait_set_t wait; /* what the loop sleeps on (wait_set.h) */
    struct MHD_Response *openapi, *docs, *ping, *healthz;
    clients_t *clients; /* connection limits and request deadlines */
    bool started;       /* the daemon is up: its messages are about clients */
    bool stopping;
    int64_t stop_deadline_ms;
    /* Requests begun (s_access) and not completed (s_completed): while
       stopping, the loop runs until these are answered and written too, not
       only the store's requests (a large page may still be going out). */
    size_t open_requests;
    waiting_t waiting; /* sent to the store, connection not suspended */
};

/* ---- The store side ------------------------------------------------------ */

/* Sends req->preq to the store and suspends req's connection; answers
   itself when the store cannot take it. */
static enum MHD_Result
s_send (server_t *self, request_t *req)
{
    if (self->stopping) {
        /* Never suspend a connection now: the daemon must not be stopped
           with one suspended, and this one would outlive the grace period. */
        req->close = true;
        api_reply_detail (&req->reply, 503, "The gateway is shutting down, try again");
        req->reply.retry_after = true;
        return request_queue_reply (req);
    }
    proto_request_t *preq = &req->preq;
    if (preq->op == PROTO_OP_CREATE || preq->op == PROTO_OP_UPDATE) {
        preq->has |= PROTO_HAS_REQUEST_ID; /* the event records it (issue 18) */
        preq->request_id = (proto_str_t){ req->request_id, strlen (req->request_id) };
    }
    if (backend_send (self->backend, req) != 0)
        return request_queue_reply (req);
    req->at_store = true;
    waiting_add (&self->waiting, req);
    /* A batch filled up in mid-pass and libzmq's I/O thread was woken to
       send it. Under SCHED_BATCH it does not preempt this thread: it
       would wait for the pass to end, and the store with it, while the
       rest of the pass is parsed. Giving up the core here lets it send
       the batch now, and the store works on it in the meantime. */
    if (backend_batch_went_out (self->backend) && self->config.yield_to_io) {
        metrics_loop_yield (self->metrics);
        sched_yield ();
    }
    return MHD_YES;
}

void
server_answered (server_t *self, request_t *req)
{
    assert (self && req);
    waiting_answered (&self->waiting, req);
}

/* ---- The HTTP side ------------------------------------------------------- */

/* The final call: everything is received. */
static enum MHD_Result
s_handle (server_t *self, request_t *req)
{
    proto_request_t *preq = &req->preq;
    int rc = 0;
    switch (req->ep) {
    case API_EP_PING:
        return request_queue_response (req, 200, self->ping);
    case API_EP_HEALTHZ:
        return request_queue_response (req, 200, self->healthz);
    case API_EP_OPENAPI:
        return request_queue_response (req, 200, self->openapi);
    case API_EP_DOCS:
        return request_queue_response (req, 200, self->docs);
    case API_EP_METRICS: {
        size_t len = 0;
        char *text = metrics_render (self->metrics, &len);
        if (!text)
            return request_queue_detail (req, 500, "Out of memory");
        struct MHD_Response *r = MHD_create_response_from_buffer (len, text, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free (text);
            return MHD_NO;
        }
        MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                 "text/plain; version=0.0.4; charset=utf-8");
        enum MHD_Result result = request_queue_response (req, 200, r);
        MHD_destroy_response (r);
        return result;
    }
    case API_EP_READYZ:
        memset (preq, 0, sizeof *preq);
        preq->op = PROTO_OP_PING;
        break;
    case API_EP_CREATE:
        rc = api_parse_create (req->body, req->len, &self->config.limits, preq, &req->doc,
                               &req->reply);
        break;
    case API_EP_UPDATE:
        rc = api_parse_update (req->id, req->id_len, req->body, req->len, &self->config.limits,
                               preq, &req->doc, &req->reply);
        break;
    case API_EP_GET:
        rc = api_parse_get (req->id, req->id_len, preq, &req->reply);
        break;
    case API_EP_LIST: {
        api_query_t query = {
            .user_id = request_param (req->conn, "user_id"),
            .status = request_param (req->conn, "status"),
            .limit = request_param (req->conn, "limit"),
            .after = request_param (req->conn, "after"),
        };
        if (backend_shards (self->backend) > 1)
            rc = api_parse_list_merged (&query, &self->config.limits, preq, &req->cursor,
                                        &req->reply);
        else
            rc = api_parse_list (&query, &self->config.limits, preq, &req->reply);
        break;
    }
    default:
        return request_queue_detail (req, 404, "Not Found");
    }
    if (rc != 0)
        return request_queue_reply (req);
    return s_send (self, req); /* req->doc lives on: a redirect sends preq again */
}

/* True when the request announces a body (Content-Length > 0 or chunked). */
static bool
s_announces_body (struct MHD_Connection *conn)
{
    const char *length =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *encoding =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    return (length && strcmp (length, "0") != 0) || encoding;
}

/* Answers req->reply (a refusal decided from the headers alone). Answering
   before a body is read makes MHD close the connection, right for a body
   we refuse unread; without one the answer waits for the final call and
   the connection stays alive. */
static enum MHD_Result
s_refuse (request_t *req)
{
    if (s_announces_body (req->conn))
        return request_queue_reply (req);
    req->ready = true;
    return MHD_YES;
}

/* The one place access is decided (auth.h), before any handler runs:
   0, or -1 with req->reply the 401 / 403. */
static int
s_authorize (server_t *self, request_t *req)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *authorization =
        MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    return auth_check (self->config.auth, req->ep, authorization, info ? info->client_addr : NULL,
                       &req->reply);
}

/* Headers are in: route, authorize, and refuse early what needs no body to refuse. */
static enum MHD_Result
s_begin (server_t *self, request_t *req, const char *url, const char *method)
{
    if (!request_head_leaves_room (req, self->config.max_header_size)) {
        char msg[128];
        snprintf (msg, sizeof msg,
                  "Request header fields too large (limit %zu bytes, each field counting %d more)",
                  self->config.max_header_size - REQUEST_ANSWER_ROOM, REQUEST_POOL_RECORD);
        api_reply_detail (&req->reply, 431, msg);
        req->close = true;
        return s_refuse (req);
    }
    if (api_resolve (method, url, &req->ep, &req->id, &req->id_len, &req->reply) != 0)
        return s_refuse (req);
    if (s_authorize (self, req) != 0)
        return s_refuse (req);
    if (!api_endpoint_has_body (req->ep))
        return MHD_YES;
    const char *type =
        MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!api_content_type_is_json (type))
        return request_queue_detail (req, 415, "Content-Type must be application/json");
    const char *length =
        MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull (length, &end, 10);
        if (errno == 0 && end != length && *end == '\0' && n > self->config.max_body)
            req->too_large = true;
        else if (errno == 0 && end != length && *end == '\0' && n > 0) {
            req->body = malloc (n);
            req->cap = req->body ? n : 0;
        }
    }
    if (req->too_large) {
        char msg[96];
        snprintf (msg, sizeof msg, "Request body too large (limit %zu bytes)",
                  self->config.max_body);
        return request_queue_detail (req, 413, msg);
    }
    return MHD_YES;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    server_t *self = cls;
    request_t *req = *con_cls;
    if (!req) {
        req = calloc (1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->server = self;
        req->conn = conn;
        req->start_us = clock_mono_us ();
        request_identify (req);
        metrics_inflight (self->metrics, 1);
        self->open_requests++;
        *con_cls = req;
        return s_begin (self, req, url, method);
    }
    if (*upload_data_size > 0) {
        if (!req->queued)
            request_append (req, upload_data, *upload_data_size, self->config.max_body);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!req->received) { /* the final call: the whole request is in */
        req->received = true;
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info (conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        clients_request_in (info ? info->socket_context : NULL);
    }
    if (req->queued)
        return MHD_YES;
    if (req->ready)
        return request_queue_reply (req);
    if (req->at_store)
        return MHD_YES; /* waiting (unparked): MHD asks again next pass */
    if (req->too_large) {
        char msg[96];
        snprintf (msg, sizeof msg, "Request body too large (limit %zu bytes)",
                  self->config.max_body);
        return request_queue_detail (req, 413, msg);
    }
    return s_handle (self, req);
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    server_t *self = cls;
    request_t *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (req->queued) {
        int64_t took_us = clock_mono_us () - req->start_us;
        metrics_request (self->metrics, req->ep, req->status, took_us);
        request_log (req, took_us);
    }
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    clients_response_out (self->clients, info ? info->socket_context : NULL, clock_mono_ms ());
    metrics_inflight (self->metrics, -1);
    self->open_requests--;
    if (req->at_store) {
        /* Closed while waiting unparked (the client reset it, MHD timed it
           out): the pending table still holds req, so its answer frees it. */
        waiting_remove (&self->waiting, req);
        metrics_abandoned (self->metrics);
        req->orphan = true;
        req->conn = NULL;
        return;
    }
    request_free (req);
}

/* ---- Connections --------------------------------------------------------- */

/* The connection limit is enforced here rather than by libmicrohttpd's
   MHD_OPTION_CONNECTION_LIMIT: in external-epoll mode 0.9.75 stops
   accepting for good once that limit is reached (seen here: connections
   that close do not bring the listen socket back). A connection over the
   limit is accepted and closed at once, which a client sees as a refusal. */
static enum MHD_Result
s_accept_policy (void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    server_t *self = cls;
    if (clients_admit (self->clients, addr))
        return MHD_YES;
    metrics_refused_connection (self->metrics);
    return MHD_NO;
}

static void
s_on_connection (void *cls, struct MHD_Connection *conn, void **socket_context,
                 enum MHD_ConnectionNotificationCode code)
{
    server_t *self = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = clients_open (self->clients, conn, clock_mono_ms ());
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        clients_close (self->clients, *socket_context);
        *socket_context = NULL;
    }
}

/* ---- Setup and the loop -------------------------------------------------- */

/* libmicrohttpd's own messages, in our log format and under --log-level
   (MHD_USE_ERROR_LOG alone writes them to stderr whatever the level). While
   the daemon starts they say why it could not (error); once it runs they
   are about clients, e.g. a malformed request it answered itself with
   400/414/431/505, so they stay at debug: garbage on the port must not
   flood the log. */
__attribute__ ((format (printf, 2, 0))) static void
s_mhd_log (void *cls, const char *fmt, va_list ap)
{
    server_t *self = cls;
    log_library (self->started ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR, "libmicrohttpd", fmt, ap);
}

server_t *
server_new (const server_config_t *config, metrics_t *metrics, void *zmq_ctx)
{
    static const char ping[] = "{\"ping\":\"pong\"}", healthz[] = "{\"status\":\"ok\"}";
    struct sockaddr_storage addr;
    bool v6 = false;
    if (listen_addr_resolve (config->listen, &addr, &v6) != 0
        || auth_check_listen (config->auth, (struct sockaddr *)&addr) != 0)
        return NULL;
    server_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->wait.fd = -1;
    self->config = *config;
    self->metrics = metrics;
    self->clients = clients_new (config->max_connections, config->max_per_client,
                                 (int64_t)config->request_timeout_s * 1000);
    self->openapi = request_static_response (gateway_asset_openapi_json,
                                             gateway_asset_openapi_json_len, "application/json");
    self->docs = request_static_response (gateway_asset_docs_html, gateway_asset_docs_html_len,
                                          "text/html; charset=utf-8");
    self->ping = request_static_response (ping, sizeof ping - 1, "application/json");
    self->healthz = request_static_response (healthz, sizeof healthz - 1, "application/json");
    if (!self->clients || !self->openapi || !self->docs || !self->ping || !self->healthz)
        goto fail;
    /* The store refuses batches whose replies could outgrow a frame under
       these limits (proto_batch_max): never send one. */
    size_t batch_max = proto_batch_max (&config->limits);
    if (config->store_batch < batch_max)
        batch_max = config->store_batch;
    backend_config_t backend = {
        .shard_map = config->shard_map,
        .store_endpoint = config->store_endpoint,
        .client = { .zmq_ctx = zmq_ctx,
                    .hwm = (int)config->max_inflight * 2,
                    .curve_keys = config->curve ? &config->curve->keys : NULL,
                    .curve_server_key = config->curve ? config->curve->server_key : NULL,
                    .batch_max = batch_max },
        .max_inflight = config->max_inflight,
        .timeout_ms = config->timeout_ms,
    };
    /* Before the port opens: a gateway joining others on a shared port
       (SO_REUSEPORT) takes connections as soon as it binds, and would
       answer its first requests 503 while its store connections are still
       being made. */
    self->backend = backend_new (&backend, metrics);
    if (!self->backend || backend_await (self->backend, S_STORE_WAIT_MS) != 0)
        goto fail;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG
                     | (v6 ? MHD_USE_IPv6 : 0);
    self->mhd = MHD_start_daemon (
        flags, 0, s_accept_policy, self, s_access, self,
        /* first, as libmicrohttpd requires, so every message goes through it */
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1, MHD_OPTION_CONNECTION_LIMIT,
        config->max_connections + 64, MHD_OPTION_NOTIFY_CONNECTION, s_on_connection, self,
        MHD_OPTION_CONNECTION_TIMEOUT, config->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        config->max_header_size, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self, MHD_OPTION_END);
    if (!self->mhd) {
        log_error ("cannot listen on %s (address in use, or not a local address?)", config->listen);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info) {
        log_error ("libmicrohttpd gave no epoll descriptor");
        goto fail;
    }
    self->epoll_fd = info->epoll_fd;
    if (wait_set_open (&self->wait, self->epoll_fd, config->stop_fd) != 0)
        goto fail;
    self->started = true;
    return self;
fail:
    server_destroy (&self);
    return NULL;
}

void
server_destroy (server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    server_t *self = *self_p;
    wait_set_close (&self->wait);
    if (self->mhd)
        MHD_stop_daemon (self->mhd);
    backend_destroy (&self->backend);
    struct MHD_Response *statics[] = { self->openapi, self->docs, self->ping, self->healthz };
    for (size_t i = 0; i < sizeof statics / sizeof statics[0]; i++)
        if (statics[i])
            MHD_destroy_response (statics[i]);
    clients_destroy (&self->clients); /* after the daemon: its last notices use it */
    free (self);
    *self_p = NULL;
}

/* Milliseconds the loop may wait: until MHD's next timeout, the next store
   deadline, or the end of the shutdown grace period. */
static long
s_poll_timeout (server_t *self)
{
    /* Replies of a batch not handed out yet (a reload cut the drain
       short): their socket may have nothing left to wake us. */
    if (backend_holds (self->backend))
        return 0;
    int64_t now = clock_mono_ms ();
    long timeout = -1;
    MHD_UNSIGNED_LONG_LONG mhd_ms;
    if (MHD_get_timeout (self->mhd, &mhd_ms) == MHD_YES)
        timeout = mhd_ms > 60000 ? 60000 : (long)mhd_ms;
    long sweep = clients_timeout (self->clients, now);
    if (sweep >= 0 && (timeout < 0 || sweep < timeout))
        timeout = sweep;
    int64_t deadline = backend_next_deadline (self->backend);
    if (self->stopping && (deadline < 0 || self->stop_deadline_ms < deadline))
        deadline = self->stop_deadline_ms;
    if (deadline >= 0) {
        long until = deadline > now ? (long)(deadline - now) : 0;
        if (timeout < 0 || until < timeout)
            timeout = until;
    }
    return timeout;
}

/* Stops accepting; requests in flight still get their answers, and a new
   request on a connection kept alive gets a 503 that closes it (s_send). */
static void
s_begin_stop (server_t *self)
{
    self->stopping = true;
    self->stop_deadline_ms = clock_mono_ms () + self->config.timeout_ms + 100;
    MHD_socket fd = MHD_quiesce_daemon (self->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close (fd);
    log_info ("stopping: %zu store requests in flight", backend_inflight (self->backend));
}

/* Before the daemon goes: whatever the store still has (a request a
   redirect sent on during the grace period, with a deadline past it; or
   the loop failed) is answered 504 now, so no connection stays suspended
   (MHD_stop_daemon would abort) and no request outlives the loop. The
   first pass queues those answers and the last pass's, the second writes
   them. */
static void
s_finish (server_t *self)
{
    backend_expire (self->backend, INT64_MAX);
    MHD_run (self->mhd);
    MHD_run (self->mhd);
}

int
server_run (server_t *self)
{
    assert (self);
    wait_set_watch (&self->wait, self->backend);
    int rc = 0;
    while (true) {
        if (self->wait.generation != backend_generation (self->backend))
            wait_set_watch (&self->wait, self->backend); /* the shard map was reloaded */
        bool stop = false;
        int ready = wait_set_wait (&self->wait, s_poll_timeout (self), &stop);
        if (ready < 0 && errno != EINTR) {
            log_error ("poll failed: %s", strerror (errno));
            rc = -1;
            break;
        }
        if (ready == 0 && waiting_any (&self->waiting))
            waiting_park (&self->waiting, true); /* an idle pass: let the next wait sleep */
        if (stop && !self->stopping) {
            s_begin_stop (self);
            wait_set_forget (&self->wait, self->config.stop_fd); /* readable for good */
        }
        backend_drain (self->backend);
        backend_expire (self->backend, clock_mono_ms ());
        unsigned cut = clients_sweep (self->clients, clock_mono_ms ());
        if (cut)
            metrics_cut_connections (self->metrics, cut);
        MHD_run (self->mhd);
        waiting_park (&self->waiting, false);
        backend_flush (self->backend); /* the pass's requests, batched (store_client.h) */
        if (self->stopping
            && ((backend_inflight (self->backend) == 0 && self->open_requests == 0)
                || clock_mono_ms () >= self->stop_deadline_ms))
            break;
    }
    s_finish (self);
    return rc;
}
