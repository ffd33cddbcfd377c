/*
 * api_render — see api_render.h. A store refusal keeps the store's own
 * field and message: the store applies its own limits, which its
 * environment may set differently from the gateway's, so a request the
 * gateway let through can still come back as a 422 here.
 */
#include "api_render.h"

#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Events and pages as JSON objects ------------------------------------ */

/* The event's two times as text: an event never updated has them equal
   (every create's answer), and then one is formatted. */
static void
s_times (const proto_event_t *event, char created[CLOCK_UTC_LEN + 1],
         char updated[CLOCK_UTC_LEN + 1])
{
    clock_format_utc (event->created_at, created);
    if (event->updated_at == event->created_at)
        memcpy (updated, created, CLOCK_UTC_LEN + 1);
    else
        clock_format_utc (event->updated_at, updated);
}

json_t *
api_event_json (const proto_event_t *event)
{
    char id[PROTO_UUID_LEN + 1], created[CLOCK_UTC_LEN + 1], updated[CLOCK_UTC_LEN + 1];
    proto_uuid_format (event->id, id);
    s_times (event, created, updated);
    return json_pack ("{s:s,s:s%,s:s%,s:s%,s:s,s:s}", "event_id", id, "user_id",
                      event->user_id.ptr ? event->user_id.ptr : "", event->user_id.len,
                      "description", event->description.ptr ? event->description.ptr : "",
                      event->description.len, "status", event->status.ptr ? event->status.ptr : "",
                      event->status.len, "created_at", created, "updated_at", updated);
}

/* The page object over items and next (NULL: null). */
static json_t *
s_page_json (const proto_event_t *items, size_t n, const char *next_after)
{
    json_t *array = json_array ();
    for (size_t i = 0; array && i < n; i++)
        if (json_array_append_new (array, api_event_json (&items[i])) != 0) {
            json_decref (array);
            array = NULL;
        }
    json_t *next = next_after ? json_string (next_after) : json_null ();
    return json_pack ("{s:o,s:o}", "items", array, "next_after", next);
}

json_t *
api_page_json (const proto_reply_t *store)
{
    char id[PROTO_UUID_LEN + 1];
    if (store->has_next_after)
        proto_uuid_format (store->next_after, id);
    return s_page_json (store->items, store->n_items, store->has_next_after ? id : NULL);
}

/* ---- Event text without a JSON tree ----------------------------------------
 * Every create, read, update and list item renders events, and building a
 * jansson tree and dumping it cost ~2.3 us an event here: the largest single
 * cost of a request. Under JSON_COMPACT jansson writes a string's bytes
 * unchanged unless it holds '"', '\\' or a character below U+0020 (the
 * decoder has already checked the event's strings are UTF-8 without NUL),
 * and writes an object's members in insertion order with no whitespace. So
 * for an event whose strings hold none of those, its text is exactly the
 * concatenation below and is assembled directly; any other event goes
 * through jansson (api_event_json). test_api and fuzz_gateway_render check
 * that both paths give the same bytes. */

#define S_LIT(s) s, sizeof s - 1

/* Bytes of an event's text besides its three free strings. */
#define S_EVENT_FIXED                                                                              \
    (sizeof "{\"event_id\":\"\",\"user_id\":\"\",\"description\":\"\",\"status\":\"\","            \
            "\"created_at\":\"\",\"updated_at\":\"\"}"                                             \
     - 1 + PROTO_UUID_LEN + 2 * CLOCK_UTC_LEN)

/* True when jansson would write s's bytes unchanged (see above). */
static bool
s_json_plain (const proto_str_t *s)
{
    for (size_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->ptr[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return false;
    }
    return true;
}

static size_t
s_event_text_size (const proto_event_t *event)
{
    return S_EVENT_FIXED + event->user_id.len + event->description.len + event->status.len;
}

static char *
s_put (char *out, const char *bytes, size_t len)
{
    if (len)
        memcpy (out, bytes, len);
    return out + len;
}

/* Writes the event's text at out (s_event_text_size bytes) and returns the
   end, or NULL when a string needs escaping (jansson's job then). */
static char *
s_event_text (const proto_event_t *event, char *out)
{
    if (!s_json_plain (&event->user_id) || !s_json_plain (&event->description)
        || !s_json_plain (&event->status))
        return NULL;
    char id[PROTO_UUID_LEN + 1], created[CLOCK_UTC_LEN + 1], updated[CLOCK_UTC_LEN + 1];
    proto_uuid_format (event->id, id);
    s_times (event, created, updated);
    out = s_put (out, S_LIT ("{\"event_id\":\""));
    out = s_put (out, id, PROTO_UUID_LEN);
    out = s_put (out, S_LIT ("\",\"user_id\":\""));
    out = s_put (out, event->user_id.ptr, event->user_id.len);
    out = s_put (out, S_LIT ("\",\"description\":\""));
    out = s_put (out, event->description.ptr, event->description.len);
    out = s_put (out, S_LIT ("\",\"status\":\""));
    out = s_put (out, event->status.ptr, event->status.len);
    out = s_put (out, S_LIT ("\",\"created_at\":\""));
    out = s_put (out, created, CLOCK_UTC_LEN);
    out = s_put (out, S_LIT ("\",\"updated_at\":\""));
    out = s_put (out, updated, CLOCK_UTC_LEN);
    return s_put (out, S_LIT ("\"}"));
}

/* Makes body[0..end) the reply (status), NUL-terminated like jansson's
   (end has room for it), or frees body when end is NULL. */
static int
s_reply_text (api_reply_t *reply, unsigned status, char *body, char *end)
{
    if (!end) {
        free (body);
        return -1;
    }
    *end = '\0';
    api_reply_clear (reply);
    reply->status = status;
    reply->body = body;
    reply->len = (size_t)(end - body);
    return 0;
}

/* The event as the reply's body with status; the direct text when it can
   be, jansson's otherwise. Returns 0, or -1 when out of memory. */
static int
s_render_event (const proto_event_t *event, unsigned status, api_reply_t *reply)
{
    char *body = malloc (s_event_text_size (event) + 1);
    if (body && s_reply_text (reply, status, body, s_event_text (event, body)) == 0)
        return 0;
    return api_reply_json (reply, status, api_event_json (event));
}

/* The page's text, or NULL (jansson's job then, or out of memory). */
static char *
s_page_text (const proto_event_t *items, size_t n, const char *next_after, char **end)
{
    size_t next_len = next_after ? strlen (next_after) : 0;
    /* sizeof counts the NUL that s_reply_text writes; the cursor quoted,
       or null. */
    size_t size =
        sizeof "{\"items\":[],\"next_after\":}" + (next_after ? next_len + 2 : sizeof "null" - 1);
    for (size_t i = 0; i < n; i++)
        size += s_event_text_size (&items[i]) + 1;
    char *body = malloc (size), *out = body;
    if (!body)
        return NULL;
    out = s_put (out, S_LIT ("{\"items\":["));
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *out++ = ',';
        if (!(out = s_event_text (&items[i], out))) {
            free (body);
            return NULL;
        }
    }
    out = s_put (out, S_LIT ("],\"next_after\":"));
    if (next_after) {
        *out++ = '"';
        out = s_put (out, next_after, next_len);
        *out++ = '"';
    } else
        out = s_put (out, S_LIT ("null"));
    *out++ = '}';
    *end = out;
    return body;
}

int
api_render_page (const proto_event_t *items, size_t n, const char *next_after, api_reply_t *reply)
{
    char *end = NULL, *body = s_page_text (items, n, next_after, &end);
    if (body)
        return s_reply_text (reply, 200, body, end);
    return api_reply_json (reply, 200, s_page_json (items, n, next_after));
}

/* A store's list page as a 200: its cursor is the plain event id. */
static int
s_render_list (const proto_reply_t *store, api_reply_t *reply)
{
    char id[PROTO_UUID_LEN + 1];
    if (store->has_next_after)
        proto_uuid_format (store->next_after, id);
    return api_render_page (store->items, store->n_items, store->has_next_after ? id : NULL, reply);
}

/* A store-side message as text for a detail (bounded, NUL-terminated). */
static void
s_store_message (const proto_reply_t *store, char *buf, size_t size)
{
    size_t n = store->message.len < size - 1 ? store->message.len : size - 1;
    if (store->message.ptr)
        memcpy (buf, store->message.ptr, n);
    buf[store->message.ptr ? n : 0] = '\0';
}

int
api_render (api_endpoint_t ep, const proto_reply_t *store, api_reply_t *reply)
{
    char message[PROTO_MESSAGE_MAX + 1];
    s_store_message (store, message, sizeof message);
    bool field_after = store->field.len == 5 && memcmp (store->field.ptr, "after", 5) == 0;
    switch (store->status) {
    case PROTO_OK:
        if (ep == API_EP_LIST)
            return s_render_list (store, reply);
        return s_render_event (&store->event, ep == API_EP_CREATE ? 201 : 200, reply);
    case PROTO_E_NOT_FOUND:
        if (ep == API_EP_LIST && field_after) {
            json_t *detail = json_array ();
            api_problem (detail, "cursor_not_found", "query", "after",
                         "No event with this id to continue after", NULL);
            return api_reply_problems (reply, detail);
        }
        return api_reply_detail (reply, 404, "Event not found");
    case PROTO_E_FEED_FULL:
        if (api_reply_detail (reply, 503, "Notification backlog full, try again later") != 0)
            return -1;
        reply->retry_after = true;
        return 0;
    case PROTO_E_STORE_FULL: {
        /* Not transient: no Retry-After, the operator must raise the cap. */
        char text[PROTO_MESSAGE_MAX + 64];
        snprintf (text, sizeof text, "Store is full, no new events accepted: %s", message);
        return api_reply_detail (reply, 503, text);
    }
    case PROTO_E_INVALID: {
        /* The store applies its own limits (its environment may differ). */
        json_t *detail = json_array ();
        char field[64] = "";
        size_t n = store->field.len < sizeof field - 1 ? store->field.len : sizeof field - 1;
        if (store->field.ptr)
            memcpy (field, store->field.ptr, n);
        field[n] = '\0';
        bool in_query = ep == API_EP_LIST;
        bool in_path = strcmp (field, "event_id") == 0;
        api_problem (detail, "store_rejected",
                     in_path    ? "path"
                     : in_query ? "query"
                                : "body",
                     field[0] ? field : NULL, message[0] ? message : "Rejected by the store", NULL);
        return api_reply_problems (reply, detail);
    }
    case PROTO_E_INTERNAL: {
        char text[PROTO_MESSAGE_MAX + 64];
        snprintf (text, sizeof text, "Store unavailable: %s", message);
        return api_reply_detail (reply, 503, text);
    }
    default: {
        char text[PROTO_MESSAGE_MAX + 64];
        snprintf (text, sizeof text, "Store protocol error (%s): %s",
                  proto_status_name (store->status), message);
        return api_reply_detail (reply, 500, text);
    }
    }
}
