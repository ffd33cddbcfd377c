/*
 * fuzz_gateway_render — a store reply frame, as untrusted as any (the
 * gateway decodes whatever arrives on its DEALER), through
 * proto_reply_decode and then api_render for each endpoint that talks to
 * the store: the path from store bytes to the HTTP answer.
 *
 * Checks that the status follows the reply status as api.h documents it
 * (OK 200/201, not found 404 or a 422 for a list cursor, feed full 503
 * with Retry-After, invalid 422, internal 503, protocol mismatch 500),
 * that every body is JSON, that a rendered event shows the decoded id and
 * strings unchanged, and that an event or page written directly (no string
 * needing escapes) has exactly the bytes jansson alone would give.
 */
#include "clock.h"
#include "fuzz_gateway.h"

#include <string.h>

static void
s_check_event (json_t *json, const proto_event_t *ev)
{
    char id[PROTO_UUID_LEN + 1];
    proto_uuid_format (ev->id, id);
    FUZZ_CHECK (json_is_object (json));
    FUZZ_CHECK (strcmp (json_string_value (json_object_get (json, "event_id")), id) == 0);
    FUZZ_CHECK (fuzz_same_json_string (json_object_get (json, "user_id"), ev->user_id));
    FUZZ_CHECK (fuzz_same_json_string (json_object_get (json, "description"), ev->description));
    FUZZ_CHECK (fuzz_same_json_string (json_object_get (json, "status"), ev->status));
    FUZZ_CHECK (json_string_length (json_object_get (json, "created_at")) == CLOCK_UTC_LEN);
    FUZZ_CHECK (json_string_length (json_object_get (json, "updated_at")) == CLOCK_UTC_LEN);
}

static void
s_render (api_endpoint_t ep, const proto_reply_t *store)
{
    api_reply_t reply = { 0 };
    int rc = api_render (ep, store, &reply);
    if (rc != 0) {
        /* Only when a body could not be built (a string the JSON encoder
           refuses): a 500 with no body, which the server sends empty. */
        FUZZ_CHECK (reply.status == 500 && reply.body == NULL);
        return;
    }
    json_t *body = json_loadb (reply.body, reply.len, JSON_ALLOW_NUL, NULL);
    FUZZ_CHECK (json_is_object (body));
    FUZZ_CHECK (reply.len == strlen (reply.body));
    FUZZ_CHECK (reply.retry_after == (store->status == PROTO_E_FEED_FULL));
    switch (store->status) {
    case PROTO_OK:
        FUZZ_CHECK (reply.status == (ep == API_EP_CREATE ? 201u : 200u));
        json_t *tree = ep == API_EP_LIST ? api_page_json (store) : api_event_json (&store->event);
        char *want = json_dumps (tree, JSON_COMPACT);
        FUZZ_CHECK (want && strlen (want) == reply.len
                    && memcmp (want, reply.body, reply.len) == 0);
        free (want);
        json_decref (tree);
        if (ep == API_EP_LIST) {
            json_t *items = json_object_get (body, "items");
            FUZZ_CHECK (json_array_size (items) == store->n_items);
            for (size_t i = 0; i < store->n_items; i++)
                s_check_event (json_array_get (items, i), &store->items[i]);
            json_t *next = json_object_get (body, "next_after");
            FUZZ_CHECK (store->has_next_after ? json_is_string (next) : json_is_null (next));
        } else
            s_check_event (body, &store->event);
        break;
    case PROTO_E_NOT_FOUND:
        FUZZ_CHECK (reply.status == 404 || (reply.status == 422 && ep == API_EP_LIST));
        break;
    case PROTO_E_FEED_FULL:
    case PROTO_E_STORE_FULL:
        FUZZ_CHECK (reply.status == 503);
        break;
    case PROTO_E_INVALID:
        FUZZ_CHECK (reply.status == 422);
        break;
    case PROTO_E_INTERNAL:
        FUZZ_CHECK (reply.status == 503);
        break;
    default:
        FUZZ_CHECK (reply.status == 500);
        break;
    }
    if (store->status != PROTO_OK) {
        static const unsigned allowed[] = { 404, 422, 500, 503 };
        json_decref (fuzz_check_error_reply (&reply, allowed, 4));
    }
    json_decref (body);
    api_reply_clear (&reply);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    proto_reply_t store;
    proto_error_t err;
    if (proto_reply_decode (data, size, &store, &err) != PROTO_DECODE_OK)
        return 0; /* the decoder's own target checks this side */
    static const api_endpoint_t eps[] = { API_EP_CREATE, API_EP_LIST, API_EP_GET, API_EP_UPDATE };
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++)
        s_render (eps[i], &store);
    proto_reply_clear (&store);
    return 0;
}
