/*
 * api_request — how an HTTP request becomes a store request: a JSON body
 * (POST /events, PUT /events/{event_id}), a path id, or a query string
 * (GET /events) is parsed and checked into a proto_request_t, or refused
 * with a 400 (body not JSON) or a 422 listing every problem found, the
 * path's before the body's, in FastAPI's shape.
 *
 * Untrusted input is checked with the same proto/ limits the store applies,
 * so a request the gateway accepts is one the store accepts; the fuzz
 * targets check exactly that on every input. Nothing here does I/O or keeps
 * state. The parsed request borrows its strings instead of copying them:
 * the caller keeps the body's JSON tree and the path and query buffers
 * alive until it has encoded the request.
 */
#ifndef HERALD_API_REQUEST_H
#define HERALD_API_REQUEST_H

#include "api_reply.h"
#include "list_cursor.h"
#include "proto.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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
   found) and returns -1. Strings in req are borrowed: from body itself
   (a plain body, read directly: *doc NULL), from *doc (a body jansson
   parsed, which the caller json_decref's after encoding req), or from the
   path / query buffers; so body must outlive req too. */
int api_parse_create (const char *body, size_t len, const proto_limits_t *limits,
                      proto_request_t *req, json_t **doc, api_reply_t *reply);
int api_parse_update (const char *id, size_t id_len, const char *body, size_t len,
                      const proto_limits_t *limits, proto_request_t *req, json_t **doc,
                      api_reply_t *reply);
int api_parse_get (const char *id, size_t id_len, proto_request_t *req, api_reply_t *reply);
int api_parse_list (const api_query_t *query, const proto_limits_t *limits, proto_request_t *req,
                    api_reply_t *reply);

/* api_parse_list for a gateway over several shards: after is the opaque
   cursor of a merged list (list_cursor.h), decoded into *cursor (NULL when
   absent; the caller's to destroy) and never put in req; text that is not
   a cursor this API could have handed out is a 422 "cursor_invalid" at
   ["query","after"] like any other problem. Whether its epoch is the
   gateway's map's is the caller's check (backend.c). */
int api_parse_list_merged (const api_query_t *query, const proto_limits_t *limits,
                           proto_request_t *req, list_cursor_t **cursor, api_reply_t *reply);

#endif
