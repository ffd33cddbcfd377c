/*
 * request — see request.h.
 */
#include "request.h"

#include "list_cursor.h"
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

struct MHD_Response *
request_static_response (const void *data, size_t len, const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer (len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (r)
        MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return r;
}

/* Queues a response and records its status. */
enum MHD_Result
request_queue_response (request_t *req, unsigned status, struct MHD_Response *response)
{
    if (!response)
        return MHD_NO;
    req->queued = true;
    req->status = status;
    return MHD_queue_response (req->conn, status, response);
}

/* Queues req->reply (JSON), handing its body to MHD. */
enum MHD_Result
request_queue_reply (request_t *req)
{
    api_reply_t *reply = &req->reply;
    struct MHD_Response *r = MHD_create_response_from_buffer (
        reply->len, reply->body ? reply->body : (void *)"",
        reply->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    reply->body = NULL;
    if (reply->len)
        MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (reply->allow)
        MHD_add_response_header (r, MHD_HTTP_HEADER_ALLOW, reply->allow);
    if (reply->www_authenticate)
        MHD_add_response_header (r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, reply->www_authenticate);
    if (reply->retry_after)
        MHD_add_response_header (r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (req->close)
        MHD_add_response_header (r, MHD_HTTP_HEADER_CONNECTION, "close");
    if (reply->status == 201 && req->location[0])
        MHD_add_response_header (r, MHD_HTTP_HEADER_LOCATION, req->location);
    if (req->request_id[0])
        MHD_add_response_header (r, REQUEST_ID_HEADER, req->request_id);
    enum MHD_Result rc = request_queue_response (req, reply->status, r);
    MHD_destroy_response (r);
    return rc;
}

enum MHD_Result
request_queue_detail (request_t *req, unsigned status, const char *message)
{
    api_reply_detail (&req->reply, status, message);
    return request_queue_reply (req);
}

void
request_complete (request_t *req)
{
    req->ready = true;
    req->at_store = false;
    if (req->orphan)
        request_free (req);
    else
        server_answered (req->server, req);
}

void
request_free (request_t *req)
{
    api_reply_clear (&req->reply);
    list_cursor_destroy (&req->cursor);
    list_merge_destroy (&req->merge);
    json_decref (req->doc);
    free (req->body);
    free (req);
}

api_param_t
request_param (struct MHD_Connection *conn, const char *name)
{
    api_param_t p = { NULL, 0, false };
    const char *value = NULL;
    size_t len = 0;
    if (MHD_lookup_connection_value_n (conn, MHD_GET_ARGUMENT_KIND, name, strlen (name), &value,
                                       &len)
        == MHD_YES) {
        p.ptr = value ? value : "";
        p.len = value ? len : 0;
        p.present = true;
    }
    return p;
}

void
request_append (request_t *req, const char *data, size_t size, size_t max_body)
{
    if (req->too_large || req->len + size > max_body) {
        req->too_large = true;
        return;
    }
    if (req->len + size > req->cap) {
        size_t cap = req->cap ? req->cap : 1024;
        while (cap < req->len + size)
            cap *= 2;
        if (cap > max_body)
            cap = max_body;
        char *body = realloc (req->body, cap);
        if (!body) {
            req->too_large = true; /* answered 413; the limit is what we can hold */
            return;
        }
        req->body = body;
        req->cap = cap;
    }
    memcpy (req->body + req->len, data, size);
    req->len += size;
}

bool
request_head_leaves_room (const request_t *req, size_t pool_size)
{
    const union MHD_ConnectionInfo *head =
        MHD_get_connection_info (req->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (!head)
        return true;
    int fields = MHD_get_connection_values (
        req->conn, MHD_HEADER_KIND | MHD_COOKIE_KIND | MHD_GET_ARGUMENT_KIND, NULL, NULL);
    const char *cookie =
        MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    size_t held = head->header_size + (size_t)(fields > 0 ? fields : 0) * REQUEST_POOL_RECORD
                  + (cookie ? strlen (cookie) + 1 : 0);
    return held + REQUEST_ANSWER_ROOM <= pool_size;
}

static char s_prefix[17];
static pthread_once_t s_prefix_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t s_counter;

static void
s_make_prefix (void)
{
    uint64_t r = 0;
    if (getrandom (&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint64_t)getpid () << 32 ^ (uint64_t)(uintptr_t)&r;
    snprintf (s_prefix, sizeof s_prefix, "%016llx", (unsigned long long)r);
}

/* Every request gets an id: formatted by hand, as snprintf's "%s-%llx"
   was 3% of the gateway's instructions per POST (callgrind). */
void
request_identify (request_t *req)
{
    const char *given = MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, REQUEST_ID_HEADER);
    size_t len = given ? strlen (given) : 0;
    if (given && proto_request_id_valid (given, len)) {
        memcpy (req->request_id, given, len + 1); /* valid: at most PROTO_REQUEST_ID_MAX */
        return;
    }
    pthread_once (&s_prefix_once, s_make_prefix);
    uint64_t n = atomic_fetch_add_explicit (&s_counter, 1, memory_order_relaxed) + 1;
    char digits[16];
    size_t k = 0;
    do {
        digits[k++] = "0123456789abcdef"[n & 15];
        n >>= 4;
    } while (n);
    char *out = req->request_id;
    _Static_assert(sizeof req->request_id >= 16 + 1 + 16 + 1, "prefix-counter fits");
    memcpy (out, s_prefix, 16);
    out[16] = '-';
    for (size_t i = 0; i < k; i++)
        out[17 + i] = digits[k - 1 - i];
    out[17 + k] = '\0';
}

void
request_log (const request_t *req, int64_t took_us)
{
    if (log_get_level () > LOG_LEVEL_DEBUG)
        return;
    const char *path = req->location[0] ? req->location : NULL;
    char by_id[16 + PROTO_UUID_LEN] = "";
    if (!path && req->id) {
        snprintf (by_id, sizeof by_id, "/events/%.*s",
                  (int)(req->id_len < PROTO_UUID_LEN ? req->id_len : PROTO_UUID_LEN), req->id);
        path = by_id;
    }
    log_context_set (NULL, req->request_id);
    log_debug ("%s %u%s%s request %s %.3f ms", api_endpoint_name (req->ep), req->status,
               path ? " " : "", path ? path : "", req->request_id, (double)took_us / 1000);
    log_context_set (NULL, NULL);
}
