/*
 * api_request — see api_request.h. A body that is not JSON at all is a 400;
 * a body that is JSON but not Unicode (bad UTF-8 bytes, a lone surrogate
 * escape) is a 422 naming the fields that hold the bad parts. jansson stops
 * at the first such byte and cannot say which field held it, so the body
 * is parsed a second time with a noncharacter in place of each bad part
 * (s_mark_bad_unicode) and the fields holding it are reported; the client
 * never sees the marks, only its own bytes or no input at all.
 */
#define _GNU_SOURCE /* memmem */
#include "api_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Checks shared by bodies, paths and queries -------------------------- */

/* Checks one string value against max; appends a problem when it fails.
   Returns true when the value is acceptable. */
static bool
s_check_string (json_t *detail, const char *where, const char *field, const char *ptr, size_t len,
                size_t max, json_t *input)
{
    proto_str_check_t check = proto_check_string (ptr, len, max);
    if (check == PROTO_STR_OK)
        return true;
    static const char *types[] = {
        [PROTO_STR_EMPTY] = "string_too_short",
        [PROTO_STR_TOO_LONG] = "string_too_long",
        [PROTO_STR_BAD_UTF8] = "string_unicode",
        [PROTO_STR_HAS_NUL] = "string_contains_nul",
    };
    char msg[128];
    proto_check_message (check, max, msg, sizeof msg);
    api_problem (detail, types[check], where, field, msg, input);
    return false;
}

/* Checks a UUID (a path event_id, the after cursor); appends a problem
   when it is not one. Returns true with out set when it is. */
static bool
s_check_uuid (json_t *detail, const char *where, const char *field, const char *text, size_t len,
              uint8_t out[16])
{
    if (proto_uuid_parse (text, len, out) == 0)
        return true;
    json_t *input = proto_check_string (text, len, PROTO_LIMIT_CAP) == PROTO_STR_OK
                        ? json_stringn (text, len)
                        : NULL;
    api_problem (detail, "uuid_parsing", where, field,
                 "Input should be a valid UUID in canonical form "
                 "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                 input);
    json_decref (input);
    return false;
}

/* ---- Bodies -------------------------------------------------------------- */

typedef struct {
    const char *name;
    unsigned has;  /* PROTO_HAS_* bit */
    size_t offset; /* of the proto_str_t in proto_request_t */
} s_field_t;

static const s_field_t s_fields[] = {
    { "user_id", PROTO_HAS_USER_ID, offsetof (proto_request_t, user_id) },
    { "description", PROTO_HAS_DESCRIPTION, offsetof (proto_request_t, description) },
    { "status", PROTO_HAS_STATUS, offsetof (proto_request_t, status) },
};

/* The limit that applies to the body field whose has bit is has. */
static size_t
s_field_max (const proto_limits_t *limits, unsigned has)
{
    return has == PROTO_HAS_USER_ID       ? limits->user_id_max
           : has == PROTO_HAS_DESCRIPTION ? limits->description_max
                                          : limits->status_max;
}

/* U+FDD0, a noncharacter: stands in for each bad byte or lone surrogate
   escape once a body failed to parse as Unicode, so the fields holding
   them can be named. A client's own U+FDD0 in such a body reads as bad
   too; the request is refused either way. */
#define S_MARK "\xEF\xB7\x90"
#define S_MARK_ESCAPE "\\uFDD0"

/* The 4 hex digits at p as a number, or -1. */
static long
s_hex4 (const char *p, size_t left)
{
    if (left < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = proto_hex_value (p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A copy of body with every bad UTF-8 byte replaced by S_MARK and every
   unpaired surrogate escape by S_MARK_ESCAPE (heap, *out_len set), or NULL. */
static char *
s_mark_bad_unicode (const char *body, size_t len, size_t *out_len)
{
    char *out = malloc (len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (body[i] == '\\' && i + 1 < len && body[i + 1] == 'u') {
            long hi = s_hex4 (body + i + 2, len - i - 2);
            bool high = hi >= 0xd800 && hi <= 0xdbff, low = hi >= 0xdc00 && hi <= 0xdfff;
            long lo = high && i + 7 < len && body[i + 6] == '\\' && body[i + 7] == 'u'
                          ? s_hex4 (body + i + 8, len - i - 8)
                          : -1;
            if (low || (high && !(lo >= 0xdc00 && lo <= 0xdfff))) {
                memcpy (out + o, S_MARK_ESCAPE, 6);
                o += 6;
                i += 6;
                continue;
            }
            size_t keep = high ? 12 : 2; /* a pair, or any other escape's first two chars */
            memcpy (out + o, body + i, keep);
            o += keep;
            i += keep;
            continue;
        }
        size_t n = proto_utf8_len (body + i, len - i);
        if (n == 0) {
            memcpy (out + o, S_MARK, 3);
            o += 3;
            i++;
            continue;
        }
        memcpy (out + o, body + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Parses body into *doc. Returns 0 with an object in *doc; otherwise fills
   reply (400 not JSON) or appends to detail (422: empty, not an object)
   and returns -1. *marked tells that the body was not Unicode and parsed
   only with S_MARK in place of the bad parts (the fields holding them are
   then reported by s_body_fields). */
static int
s_parse_body (const char *body, size_t len, json_t **doc, json_t *detail, api_reply_t *reply,
              bool *marked)
{
    *doc = NULL;
    *marked = false;
    if (len == 0) {
        api_problem (detail, "missing", "body", NULL, "Field required", NULL);
        return -1;
    }
    json_error_t error;
    json_t *root = json_loadb (body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (!root
        && (json_error_code (&error) == json_error_invalid_utf8
            || strncmp (error.text, "invalid Unicode", 15) == 0)) {
        /* On failure the client hears about its own bytes, not the marks. */
        json_error_t marked_error;
        size_t mlen = 0;
        char *copy = s_mark_bad_unicode (body, len, &mlen);
        if (copy)
            root = json_loadb (copy, mlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &marked_error);
        free (copy);
        *marked = root != NULL;
    }
    if (!root) {
        char msg[256];
        snprintf (msg, sizeof msg, "Body is not valid JSON: %s (line %d, column %d)", error.text,
                  error.line, error.column);
        /* jansson quotes the bytes near the error: they may be the very
           bytes that are not UTF-8, or a character cut in half, and the
           detail must stay a JSON string, so such bytes read as '?'. */
        for (size_t i = 0, n = strlen (msg); i < n;) {
            size_t k = proto_utf8_len (msg + i, n - i);
            if (k == 0)
                msg[i++] = '?';
            else
                i += k;
        }
        api_reply_detail (reply, 400, msg);
        return -1;
    }
    if (!json_is_object (root)) {
        api_problem (detail, "model_attributes_type", "body", NULL,
                     "Input should be a valid dictionary or object", *marked ? NULL : root);
        json_decref (root);
        return -1;
    }
    *doc = root;
    return 0;
}

/* Validates the object's members against the fields in mask: each present
   one must be a valid string; those in required must be present; any other
   key is an extra. Sets req's strings and has bits. */
static void
s_body_fields (json_t *root, unsigned mask, unsigned required, const proto_limits_t *limits,
               bool marked, proto_request_t *req, json_t *detail)
{
    size_t before = json_array_size (detail);
    for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++) {
        const s_field_t *f = &s_fields[i];
        if (!(mask & f->has))
            continue;
        json_t *value = json_object_get (root, f->name);
        if (!value) {
            if (required & f->has)
                api_problem (detail, "missing", "body", f->name, "Field required", root);
            continue;
        }
        if (!json_is_string (value)) {
            api_problem (detail, "string_type", "body", f->name, "Input should be a valid string",
                         value);
            continue;
        }
        const char *ptr = json_string_value (value);
        size_t len = json_string_length (value);
        if (marked && memmem (ptr, len, S_MARK, 3)) {
            api_problem (detail, "string_unicode", "body", f->name,
                         "Input should be a valid UTF-8 string", NULL);
            continue;
        }
        if (!s_check_string (detail, "body", f->name, ptr, len, s_field_max (limits, f->has),
                             value))
            continue;
        *(proto_str_t *)((char *)req + f->offset) = (proto_str_t){ ptr, len };
        req->has |= f->has;
    }
    const char *key;
    json_t *value;
    json_object_foreach (root, key, value)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++)
            if ((mask & s_fields[i].has) && strcmp (key, s_fields[i].name) == 0)
                known = true;
        if (!known)
            api_problem (detail, "extra_forbidden", "body", key, "Extra inputs are not permitted",
                         marked ? NULL : value);
    }
    /* The bad bytes sat where no member is left to name (a value replaced
       by a duplicate key): the body is still not Unicode. */
    if (marked && json_array_size (detail) == before)
        api_problem (detail, "string_unicode", "body", NULL, "Input should be a valid UTF-8 string",
                     NULL);
}

/* ---- The common body, read directly --------------------------------------

   Nearly every body is what clients and the worker send: one flat object
   whose members are plain strings (no escape, no control character), each
   key a field of mask at most once. Such a body is read here in one pass,
   its values borrowed from the body itself, without building a jansson
   document (which cost the gateway more instructions per POST than the
   rest of its own code). Any other body (an escape, another type, an
   unknown or repeated key, a value empty or over its limit or not UTF-8, a
   required field missing, anything that is not JSON) is left to jansson,
   which accepts the same bodies with the same values and lists every
   problem of the others. fuzz_gateway_create and fuzz_gateway_update hold
   both paths to jansson's reading. */

static size_t
s_skip_ws (const char *p, size_t i, size_t len)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* The plain string opening at p[i]: *out set to its bytes and the index
   after its closing quote returned, or 0 when it is not one. */
static size_t
s_plain_string (const char *p, size_t i, size_t len, proto_str_t *out)
{
    if (i >= len || p[i] != '"')
        return 0;
    size_t start = ++i;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"') {
            *out = (proto_str_t){ p + start, i - start };
            return i + 1;
        }
        if (c == '\\' || c < 0x20)
            return 0;
    }
    return 0;
}

/* True, with req filled for op (every field read, strings borrowed from
   body), when body is such a plain object with every field of required
   (a member at least); false with req untouched otherwise. */
static bool
s_plain_body (const char *body, size_t len, unsigned mask, unsigned required,
              const proto_limits_t *limits, proto_op_t op, proto_request_t *req)
{
    enum { N = sizeof s_fields / sizeof s_fields[0] };
    proto_str_t values[N] = { { 0 } };
    unsigned seen = 0;
    size_t i = s_skip_ws (body, 0, len);
    if (i >= len || body[i] != '{')
        return false;
    i = s_skip_ws (body, i + 1, len);
    for (;;) { /* a member; an empty object is left to jansson */
        proto_str_t key, value;
        if (!(i = s_plain_string (body, i, len, &key)))
            return false;
        size_t f = 0;
        while (f < N
               && !((mask & s_fields[f].has) && strlen (s_fields[f].name) == key.len
                    && memcmp (s_fields[f].name, key.ptr, key.len) == 0))
            f++;
        if (f == N || (seen & s_fields[f].has))
            return false;
        i = s_skip_ws (body, i, len);
        if (i >= len || body[i] != ':')
            return false;
        if (!(i = s_plain_string (body, s_skip_ws (body, i + 1, len), len, &value)))
            return false;
        if (proto_check_string (value.ptr, value.len, s_field_max (limits, s_fields[f].has))
            != PROTO_STR_OK)
            return false;
        values[f] = value;
        seen |= s_fields[f].has;
        i = s_skip_ws (body, i, len);
        if (i < len && body[i] == ',') {
            i = s_skip_ws (body, i + 1, len);
            continue;
        }
        if (i < len && body[i] == '}')
            break;
        return false;
    }
    if (s_skip_ws (body, i + 1, len) != len || (seen & required) != required)
        return false;
    memset (req, 0, sizeof *req);
    req->op = op;
    for (size_t f = 0; f < N; f++)
        if (seen & s_fields[f].has)
            *(proto_str_t *)((char *)req + s_fields[f].offset) = values[f];
    req->has = seen;
    return true;
}

/* Starts a parse: req zeroed for op, and returns the empty problem list
   (new reference), or NULL with reply the 500 when out of memory. */
static json_t *
s_start (proto_request_t *req, proto_op_t op, api_reply_t *reply)
{
    memset (req, 0, sizeof *req);
    req->op = op;
    json_t *detail = json_array ();
    if (!detail)
        api_reply_detail (reply, 500, "Out of memory");
    return detail;
}

/* Common tail: a 422 when detail holds problems, else success. */
static int
s_finish (json_t *detail, json_t **doc, api_reply_t *reply)
{
    if (json_array_size (detail) == 0) {
        json_decref (detail);
        return 0;
    }
    json_decref (*doc);
    *doc = NULL;
    api_reply_problems (reply, detail);
    return -1;
}

int
api_parse_create (const char *body, size_t len, const proto_limits_t *limits, proto_request_t *req,
                  json_t **doc, api_reply_t *reply)
{
    unsigned both = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION;
    if (s_plain_body (body, len, both, both, limits, PROTO_OP_CREATE, req)) {
        *doc = NULL;
        return 0;
    }
    json_t *detail = s_start (req, PROTO_OP_CREATE, reply);
    if (!detail)
        return -1;
    bool marked;
    if (s_parse_body (body, len, doc, detail, reply, &marked) == 0) {
        s_body_fields (*doc, both, both, limits, marked, req, detail);
    } else if (reply->status != 0) { /* 400, or 500 out of memory */
        json_decref (detail);
        return -1;
    }
    return s_finish (detail, doc, reply);
}

int
api_parse_update (const char *id, size_t id_len, const char *body, size_t len,
                  const proto_limits_t *limits, proto_request_t *req, json_t **doc,
                  api_reply_t *reply)
{
    unsigned all = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_STATUS;
    uint8_t event_id[16];
    if (proto_uuid_parse (id, id_len, event_id) == 0
        && s_plain_body (body, len, all, 0, limits, PROTO_OP_UPDATE, req)) {
        memcpy (req->event_id, event_id, sizeof event_id);
        req->has |= PROTO_HAS_EVENT_ID;
        *doc = NULL;
        return 0;
    }
    json_t *detail = s_start (req, PROTO_OP_UPDATE, reply);
    if (!detail)
        return -1;
    if (s_check_uuid (detail, "path", "event_id", id, id_len, req->event_id))
        req->has |= PROTO_HAS_EVENT_ID;
    bool marked;
    if (s_parse_body (body, len, doc, detail, reply, &marked) == 0) {
        size_t before = json_array_size (detail);
        s_body_fields (*doc, all, 0, limits, marked, req, detail);
        if (json_object_size (*doc) == 0 && json_array_size (detail) == before)
            api_problem (detail, "at_least_one_field", "body", NULL,
                         "At least one of status, user_id, description is required", *doc);
    } else if (reply->status != 0) { /* 400, or 500 out of memory */
        json_decref (detail);
        return -1;
    }
    return s_finish (detail, doc, reply);
}

int
api_parse_get (const char *id, size_t id_len, proto_request_t *req, api_reply_t *reply)
{
    json_t *detail = s_start (req, PROTO_OP_GET, reply);
    if (!detail)
        return -1;
    if (s_check_uuid (detail, "path", "event_id", id, id_len, req->event_id))
        req->has |= PROTO_HAS_EVENT_ID;
    json_t *doc = NULL;
    return s_finish (detail, &doc, reply);
}

/* ---- Query strings ------------------------------------------------------- */

/* A query string value as a JSON input (NULL when it is not valid text). */
static json_t *
s_param_input (const api_param_t *p)
{
    return proto_check_string (p->ptr, p->len, PROTO_LIMIT_CAP) == PROTO_STR_OK
               ? json_stringn (p->ptr, p->len)
               : NULL;
}

/* Checks an optional string parameter against max; when present and valid,
   points *out at its bytes and sets has in req, else appends a problem. */
static void
s_query_string (json_t *detail, const char *name, const api_param_t *p, size_t max, unsigned has,
                proto_str_t *out, proto_request_t *req)
{
    if (!p->present)
        return;
    json_t *input = s_param_input (p);
    if (s_check_string (detail, "query", name, p->ptr, p->len, max, input)) {
        *out = (proto_str_t){ p->ptr, p->len };
        req->has |= has;
    }
    json_decref (input);
}

/* Checks the optional limit parameter as an integer in
   1..PROTO_LIST_LIMIT_MAX, with FastAPI's three error types. More than 18
   significant digits counts as not an integer, which keeps the sum from
   overflowing. */
static void
s_query_limit (json_t *detail, const api_param_t *p, proto_request_t *req)
{
    if (!p->present)
        return;
    uint64_t value = 0;
    bool negative = p->len > 1 && p->ptr[0] == '-';
    size_t start = negative ? 1 : 0;
    size_t zeros = 0; /* leading zeros do not count toward the 18 digits */
    while (start + zeros + 1 < p->len && p->ptr[start + zeros] == '0')
        zeros++;
    bool digits = p->len > start && p->len - start - zeros <= 18;
    for (size_t i = start; digits && i < p->len; i++) {
        if (p->ptr[i] < '0' || p->ptr[i] > '9')
            digits = false;
        else
            value = value * 10 + (uint64_t)(p->ptr[i] - '0');
    }
    json_t *input = s_param_input (p);
    if (!digits)
        api_problem (detail, "int_parsing", "query", "limit",
                     "Input should be a valid integer, unable to parse string as an integer",
                     input);
    else if (negative || value < 1)
        api_problem (detail, "greater_than_equal", "query", "limit",
                     "Input should be greater than or equal to 1", input);
    else if (value > PROTO_LIST_LIMIT_MAX)
        api_problem (detail, "less_than_equal", "query", "limit",
                     "Input should be less than or equal to 1000", input);
    else {
        req->limit = (uint32_t)value;
        req->has |= PROTO_HAS_LIMIT;
    }
    json_decref (input);
}

/* Decodes the after parameter as a merged list's cursor (list_cursor.h);
   appends a problem when it is not one this API could have handed out.
   -1 when out of memory (reply the 500), else 0. */
static int
s_query_cursor (json_t *detail, const api_param_t *p, list_cursor_t **cursor, api_reply_t *reply)
{
    list_cursor_result_t rc = list_cursor_decode (p->ptr, p->len, cursor);
    if (rc == LIST_CURSOR_OK)
        return 0;
    if (rc == LIST_CURSOR_NOMEM) {
        api_reply_detail (reply, 500, "Out of memory");
        return -1;
    }
    json_t *input = p->len <= LIST_CURSOR_TEXT_MAX ? s_param_input (p) : NULL;
    api_problem (detail, "cursor_invalid", "query", "after",
                 "Input should be a cursor this API returned as next_after, passed back unchanged",
                 input);
    json_decref (input);
    return 0;
}

/* api_parse_list, and api_parse_list_merged when cursor is not NULL. */
static int
s_parse_list (const api_query_t *query, const proto_limits_t *limits, proto_request_t *req,
              list_cursor_t **cursor, api_reply_t *reply)
{
    json_t *detail = s_start (req, PROTO_OP_LIST, reply);
    if (!detail)
        return -1;
    s_query_string (detail, "user_id", &query->user_id, limits->user_id_max, PROTO_HAS_USER_ID,
                    &req->user_id, req);
    s_query_string (detail, "status", &query->status, limits->status_max, PROTO_HAS_STATUS,
                    &req->status, req);
    s_query_limit (detail, &query->limit, req);
    if (query->after.present && cursor) {
        if (s_query_cursor (detail, &query->after, cursor, reply) != 0) {
            json_decref (detail);
            return -1;
        }
    } else if (query->after.present
               && s_check_uuid (detail, "query", "after", query->after.ptr, query->after.len,
                                req->after))
        req->has |= PROTO_HAS_AFTER;
    json_t *doc = NULL;
    if (s_finish (detail, &doc, reply) == 0)
        return 0;
    if (cursor)
        list_cursor_destroy (cursor);
    return -1;
}

int
api_parse_list (const api_query_t *query, const proto_limits_t *limits, proto_request_t *req,
                api_reply_t *reply)
{
    return s_parse_list (query, limits, req, NULL, reply);
}

int
api_parse_list_merged (const api_query_t *query, const proto_limits_t *limits, proto_request_t *req,
                       list_cursor_t **cursor, api_reply_t *reply)
{
    *cursor = NULL;
    return s_parse_list (query, limits, req, cursor, reply);
}
