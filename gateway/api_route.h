/*
 * api_route — the router of the HTTP API: which endpoint a method and a
 * path name, and the 404 or the 405 with its Allow header when none does.
 *
 * The routes are a fixed table, so this keeps no state and allocates only
 * the error reply. The endpoint enum it defines is the vocabulary the rest
 * of the gateway speaks: the server dispatches on it, the renderer picks a
 * status by it, and the metrics label requests with its names. A path id
 * (/events/{event_id}) is only located here; the request parsers validate
 * it, so a bad id is a 422 like any other field rather than a 404.
 */
#ifndef HERALD_API_ROUTE_H
#define HERALD_API_ROUTE_H

#include "api_reply.h"

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

#endif
