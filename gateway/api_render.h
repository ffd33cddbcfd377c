/*
 * api_render — how a store reply becomes the HTTP response: 201 / 200 with
 * the event or a list page, 404, 503 (with Retry-After when the backlog is
 * full), 422 for what the store refused, 500 for a protocol mismatch.
 *
 * Events are the bulk of every response, so they are written as text
 * directly when no string needs escaping and through jansson otherwise;
 * both give the bytes json_dumps (JSON_COMPACT) gives for the objects of
 * api_event_json and api_page_json, which test_api and fuzz_gateway_render
 * check. Nothing here does I/O or keeps state.
 */
#ifndef HERALD_API_RENDER_H
#define HERALD_API_RENDER_H

#include "api_reply.h"
#include "api_route.h"
#include "proto.h"

#include <jansson.h>

/* Maps a decoded store reply for ep to the HTTP response: 201 / 200 with the
   event or the list page, 404 not found, 503 backlog full (retry_after) or
   store out of memory, 422 for a store-side validation failure, 500 for a
   protocol mismatch. Borrows store (its strings are copied into the body).
   Returns 0, or -1 when out of memory. */
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

/* A page of n events (borrowed) with next_after (a cursor's text, NULL:
   null) as a 200, the same two ways: what a store's list reply renders to
   (its cursor the event id) and a list merged across shards (list_merge.h,
   its cursor opaque). Returns 0, or -1 when out of memory. */
int api_render_page (const proto_event_t *items, size_t n, const char *next_after,
                     api_reply_t *reply);

#endif
