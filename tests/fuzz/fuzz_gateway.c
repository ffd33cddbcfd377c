/*
 * fuzz_gateway — see fuzz_gateway.h.
 */
#include "fuzz_gateway.h"

#include <string.h>

json_t *
fuzz_check_error_reply (const api_reply_t *reply, const unsigned *allowed, size_t n)
{
    bool ok = false;
    for (size_t i = 0; i < n; i++)
        ok = ok || reply->status == allowed[i];
    if (!ok)
        fprintf (stderr, "unexpected status %u\n", reply->status);
    FUZZ_CHECK (ok);
    FUZZ_CHECK (reply->body != NULL && reply->len == strlen (reply->body));
    json_error_t error;
    json_t *body = json_loadb (reply->body, reply->len, JSON_ALLOW_NUL, &error);
    FUZZ_CHECK (json_is_object (body));
    json_t *detail = json_object_get (body, "detail");
    if (reply->status != 422) {
        FUZZ_CHECK (json_is_string (detail) && json_string_length (detail) > 0);
        return body;
    }
    FUZZ_CHECK (json_is_array (detail) && json_array_size (detail) > 0);
    size_t i;
    json_t *item;
    json_array_foreach (detail, i, item)
    {
        FUZZ_CHECK (json_is_string (json_object_get (item, "type")));
        FUZZ_CHECK (json_is_string (json_object_get (item, "msg")));
        json_t *loc = json_object_get (item, "loc");
        FUZZ_CHECK (json_is_array (loc) && json_array_size (loc) >= 1);
        size_t j;
        json_t *part;
        json_array_foreach (loc, j, part) FUZZ_CHECK (json_is_string (part));
    }
    return body;
}

bool
fuzz_detail_has_loc (json_t *body, const char *where, const char *field)
{
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (body, "detail"), i, item)
    {
        json_t *loc = json_object_get (item, "loc");
        const char *a = json_string_value (json_array_get (loc, 0));
        const char *b = json_string_value (json_array_get (loc, 1));
        if (a && strcmp (a, where) == 0 && (field ? b && strcmp (b, field) == 0 : !b))
            return true;
    }
    return false;
}

static void
s_same_str (proto_str_t a, proto_str_t b)
{
    FUZZ_CHECK (a.len == b.len);
    FUZZ_CHECK (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

void
fuzz_check_request_roundtrip (proto_request_t *req, const proto_limits_t *limits)
{
    req->rid = 1;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    FUZZ_CHECK (proto_request_encode (req, &sb) == 0);
    proto_request_t back;
    proto_error_t err;
    proto_decode_t rc = proto_request_decode (sb.data, sb.size, limits, &back, &err);
    if (rc != PROTO_DECODE_OK)
        fprintf (stderr, "store refuses what the gateway accepted: %s (field %s)\n", err.message,
                 err.field);
    FUZZ_CHECK (rc == PROTO_DECODE_OK);
    FUZZ_CHECK (back.op == req->op && back.rid == req->rid && back.has == req->has);
    FUZZ_CHECK (memcmp (back.event_id, req->event_id, 16) == 0);
    FUZZ_CHECK (memcmp (back.after, req->after, 16) == 0);
    FUZZ_CHECK (back.limit == req->limit);
    s_same_str (back.user_id, req->user_id);
    s_same_str (back.description, req->description);
    s_same_str (back.status, req->status);
    msgpack_sbuffer_destroy (&sb);
}

bool
fuzz_same_json_string (json_t *value, proto_str_t str)
{
    return json_is_string (value) && json_string_length (value) == str.len
           && (str.len == 0 || memcmp (json_string_value (value), str.ptr, str.len) == 0);
}
