/*
 * api — the HTTP contract of docs/ARCHITECTURE.md §2 without the HTTP server:
 * which endpoint a method and path name, how a JSON body or a query string
 * becomes a store request (every problem collected into a FastAPI-shaped 422
 * detail list), and how a store reply becomes a status and a JSON body.
 *
 * Nothing here does I/O or keeps state, so the server calls it from any
 * loop thread, the unit tests pin every error class, and the fuzz targets
 * feed it arbitrary bytes. Untrusted input is checked with the same
 * proto/ limits the store applies, so a request the gateway accepts is one
 * the store accepts.
 */
#ifndef HERALD_API_H
#define HERALD_API_H

#include "proto.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* One operation of the API: what a request resolved to. The order is the
   order of the metrics' route labels. */
typedef enum {
    API_EP_UNKNOWN = 0, /* no such path, or a method the path does not allow */
    API_EP_CREATE,      /* POST /events */
    API_EP_LIST,        /* GET /events */
    API_EP_GET,         /* GET /events/{event_id} */
    API_EP_UPDATE,      /* PUT /events/{event_id} */
    API_EP_PING,
    API_EP_HEALTHZ,
    API_EP_READYZ,
    API_EP_METRICS,
    API_EP_OPENAPI,
    API_EP_DOCS,
    API_EP_COUNT_
} api_endpoint_t;

/* "POST /events", "GET /events/{event_id}", ...; "unknown" for UNKNOWN. */
const char *api_endpoint_name (api_endpoint_t ep);

/* True for the endpoints that take a JSON body (POST /events, PUT). */
bool api_endpoint_has_body (api_endpoint_t ep);

/* A response the server sends as is. body is heap memory (malloc) owned by
   the struct until api_reply_clear or until the server hands it to MHD;
   allow is a literal (the Allow header of a 405) or NULL. */
typedef struct {
    unsigned status;
    char *body;
    size_t len;
    const char *allow;
    bool retry_after; /* add "Retry-After: 1" (503 when the backlog is full) */
} api_reply_t;

void api_reply_clear (api_reply_t *reply);

/* Fills reply with status and {"detail": message}. Returns 0, or -1 when out
   of memory (reply then holds a fixed 500 body that needs no allocation:
   body NULL, status 500; the server sends an empty 500). */
int api_reply_detail (api_reply_t *reply, unsigned status, const char *message);

/* Resolves method and path (the URL path without the query string; one
   trailing slash ignored). On success returns 0, sets *ep, and for
   /events/{x} points *id / *id_len at x inside path (not yet validated).
   Otherwise fills reply with 404 (unknown path) or 405 + Allow (path known,
   method not) and returns -1. HEAD is accepted wherever GET is. */
int api_resolve (const char *method, const char *path, api_endpoint_t *ep, const char **id,
                 size_t *id_len, api_reply_t *reply);

/* True when a Content-Type header value names JSON: "application/json",
   any case, optional parameters (";charset=utf-8"). NULL (absent) is JSON. */
bool api_content_type_is_json (const char *value);

/* ---- Requests ------------------------------------------------------------ */

/* A query parameter as the server found it: present or not, raw bytes after
   percent-decoding (may hold NUL or bad UTF-8, which are reported). */
typedef struct {
    const char *ptr;
    size_t len;
    bool present;
} api_param_t;

typedef struct {
    api_param_t user_id, status, limit, after;
} api_query_t;

/* Each parser fills req (rid left 0 for the caller) and returns 0, or fills
   reply with the error response (400 body not JSON, 422 every problem
   found) and returns -1. Strings in req are borrowed: from *doc (a parsed
   body the caller json_decref's after encoding req; NULL when no body was
   parsed), or from the path / query buffers. */
int api_parse_create (const char *body, size_t len, const proto_limits_t *limits,
                      proto_request_t *req, json_t **doc, api_reply_t *reply);
int api_parse_update (const char *id, size_t id_len, const char *body, size_t len,
                      const proto_limits_t *limits, proto_request_t *req, json_t **doc,
                      api_reply_t *reply);
int api_parse_get (const char *id, size_t id_len, proto_request_t *req, api_reply_t *reply);
int api_parse_list (const api_query_t *query, const proto_limits_t *limits, proto_request_t *req,
                    api_reply_t *reply);

/* ---- Replies ------------------------------------------------------------- */

/* Maps a decoded store reply for ep to the HTTP response: 201 / 200 with the
   event or the list page, 404 not found, 503 backlog full (retry_after) or
   store out of memory, 422 for a store-side validation failure, 500 for a
   protocol mismatch. Returns 0, or -1 when out of memory. */
int api_render (api_endpoint_t ep, const proto_reply_t *store, api_reply_t *reply);

/* The event as its JSON object (new reference), NULL when out of memory or a
   string is not valid UTF-8. */
json_t *api_event_json (const proto_event_t *event);

/* A list reply's page, {"items":[...],"next_after":...}, as a JSON object
   (new reference; NULL as above). api_render writes the text of events
   and pages directly when no string needs escaping, and through these
   otherwise; both give the same bytes as json_dumps (JSON_COMPACT) of these
   objects, which test_api and fuzz_gateway_render check. */
json_t *api_page_json (const proto_reply_t *store);

#endif
