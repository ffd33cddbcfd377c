/*
 * api — see api.h. The 422 body follows FastAPI's shape so users of the old
 * service read the same errors: {"detail":[{"type","loc","msg","input"}]},
 * every problem of the request listed, the path's before the body's. A
 * body that is not JSON at all is a 400; a body that is JSON but not
 * Unicode (bad UTF-8 bytes, a lone surrogate escape) is reported as a 422
 * at ["body"], since jansson stops at the first such byte and cannot say
 * which field held it.
 */
#define _GNU_SOURCE /* memmem */
#include "api.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *s_endpoint_names[API_EP_COUNT_] = {
    [API_EP_UNKNOWN] = "unknown",
    [API_EP_CREATE] = "POST /events",
    [API_EP_LIST] = "GET /events",
    [API_EP_GET] = "GET /events/{event_id}",
    [API_EP_UPDATE] = "PUT /events/{event_id}",
    [API_EP_PING] = "GET /ping",
    [API_EP_HEALTHZ] = "GET /healthz",
    [API_EP_READYZ] = "GET /readyz",
    [API_EP_METRICS] = "GET /metrics",
    [API_EP_OPENAPI] = "GET /openapi.json",
    [API_EP_DOCS] = "GET /docs",
};

const char *
api_endpoint_name (api_endpoint_t ep)
{
    return ep > API_EP_UNKNOWN && ep < API_EP_COUNT_ ? s_endpoint_names[ep] : "unknown";
}

bool
api_endpoint_has_body (api_endpoint_t ep)
{
    return ep == API_EP_CREATE || ep == API_EP_UPDATE;
}

void
api_reply_clear (api_reply_t *reply)
{
    free (reply->body);
    memset (reply, 0, sizeof *reply);
}

/* Takes ownership of root. */
static int
s_reply_json (api_reply_t *reply, unsigned status, json_t *root)
{
    api_reply_clear (reply);
    reply->status = status;
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    if (!text) {
        reply->status = 500;
        return -1;
    }
    reply->body = text;
    reply->len = strlen (text);
    return 0;
}

int
api_reply_detail (api_reply_t *reply, unsigned status, const char *message)
{
    return s_reply_json (reply, status, json_pack ("{s:s}", "detail", message));
}

/* ---- Routing ------------------------------------------------------------- */

typedef struct {
    const char *path;
    api_endpoint_t get; /* GET and HEAD */
    api_endpoint_t post;
    api_endpoint_t put;
    const char *allow;
} s_route_t;

static const s_route_t s_routes[] = {
    { "/events", API_EP_LIST, API_EP_CREATE, API_EP_UNKNOWN, "GET, HEAD, POST" },
    { "/ping", API_EP_PING, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/healthz", API_EP_HEALTHZ, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/readyz", API_EP_READYZ, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/metrics", API_EP_METRICS, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/openapi.json", API_EP_OPENAPI, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/docs", API_EP_DOCS, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
};
static const s_route_t s_event_route = { "/events/{event_id}", API_EP_GET, API_EP_UNKNOWN,
                                         API_EP_UPDATE, "GET, HEAD, PUT" };

static int
s_pick (const s_route_t *route, const char *method, api_endpoint_t *ep, api_reply_t *reply)
{
    api_endpoint_t pick = API_EP_UNKNOWN;
    if (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0)
        pick = route->get;
    else if (strcmp (method, "POST") == 0)
        pick = route->post;
    else if (strcmp (method, "PUT") == 0)
        pick = route->put;
    if (pick == API_EP_UNKNOWN) {
        api_reply_detail (reply, 405, "Method Not Allowed");
        reply->allow = route->allow;
        return -1;
    }
    *ep = pick;
    return 0;
}

int
api_resolve (const char *method, const char *path, api_endpoint_t *ep, const char **id,
             size_t *id_len, api_reply_t *reply)
{
    *ep = API_EP_UNKNOWN;
    *id = NULL;
    *id_len = 0;
    size_t len = strlen (path);
    if (len > 1 && path[len - 1] == '/')
        len--;
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++)
        if (strlen (s_routes[i].path) == len && memcmp (s_routes[i].path, path, len) == 0)
            return s_pick (&s_routes[i], method, ep, reply);
    static const char prefix[] = "/events/";
    size_t plen = sizeof prefix - 1;
    if (len > plen && memcmp (path, prefix, plen) == 0 && !memchr (path + plen, '/', len - plen)) {
        *id = path + plen;
        *id_len = len - plen;
        return s_pick (&s_event_route, method, ep, reply);
    }
    api_reply_detail (reply, 404, "Not Found");
    return -1;
}

bool
api_content_type_is_json (const char *value)
{
    if (!value)
        return true;
    while (*value == ' ' || *value == '\t')
        value++;
    static const char json[] = "application/json";
    size_t n = sizeof json - 1;
    if (strncasecmp (value, json, n) != 0)
        return false;
    value += n;
    while (*value == ' ' || *value == '\t')
        value++;
    return *value == '\0' || *value == ';';
}

/* ---- Problems (the 422 list) --------------------------------------------- */

/* Appends one problem. input is a borrowed JSON value or NULL (omitted). */
static void
s_problem (json_t *detail, const char *type, const char *where, const char *field, const char *msg,
           json_t *input)
{
    json_t *loc = field ? json_pack ("[ss]", where, field) : json_pack ("[s]", where);
    json_t *item = json_pack ("{s:s,s:o,s:s}", "type", type, "loc", loc, "msg", msg);
    if (item && input)
        json_object_set (item, "input", input);
    if (item)
        json_array_append_new (detail, item);
}

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
    s_problem (detail, types[check], where, field, msg, input);
    return false;
}

static int
s_reply_problems (api_reply_t *reply, json_t *detail)
{
    return s_reply_json (reply, 422, json_pack ("{s:o}", "detail", detail));
}

/* Checks a path event_id; appends a problem when it is not a UUID. */
static bool
s_check_uuid (json_t *detail, const char *where, const char *field, const char *text, size_t len,
              uint8_t out[16])
{
    if (proto_uuid_parse (text, len, out) == 0)
        return true;
    json_t *input = proto_check_string (text, len, PROTO_LIMIT_CAP) == PROTO_STR_OK
                        ? json_stringn (text, len)
                        : NULL;
    s_problem (detail, "uuid_parsing", where, field,
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

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs,
   no surrogates, nothing above U+10FFFF), or 0 when it is not one. */
static size_t
s_utf8_len (const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
    if (n == 0 || n > left || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((n == 3 && c == 0xe0 && p[1] < 0xa0) || (n == 3 && c == 0xed && p[1] >= 0xa0)
        || (n == 4 && c == 0xf0 && p[1] < 0x90) || (n == 4 && c == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* The 4 hex digits at p as a number, or -1. */
static long
s_hex4 (const char *p, size_t left)
{
    if (left < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
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
        const unsigned char *p = (const unsigned char *)body + i;
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
        size_t n = s_utf8_len (p, len - i);
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
        s_problem (detail, "missing", "body", NULL, "Field required", NULL);
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
            size_t k = s_utf8_len ((const unsigned char *)msg + i, n - i);
            if (k == 0)
                msg[i++] = '?';
            else
                i += k;
        }
        api_reply_detail (reply, 400, msg);
        return -1;
    }
    if (!json_is_object (root)) {
        s_problem (detail, "model_attributes_type", "body", NULL,
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
                s_problem (detail, "missing", "body", f->name, "Field required", root);
            continue;
        }
        if (!json_is_string (value)) {
            s_problem (detail, "string_type", "body", f->name, "Input should be a valid string",
                       value);
            continue;
        }
        const char *ptr = json_string_value (value);
        size_t len = json_string_length (value);
        if (marked && memmem (ptr, len, S_MARK, 3)) {
            s_problem (detail, "string_unicode", "body", f->name,
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
            s_problem (detail, "extra_forbidden", "body", key, "Extra inputs are not permitted",
                       marked ? NULL : value);
    }
    /* The bad bytes sat where no member is left to name (a value replaced
       by a duplicate key): the body is still not Unicode. */
    if (marked && json_array_size (detail) == before)
        s_problem (detail, "string_unicode", "body", NULL, "Input should be a valid UTF-8 string",
                   NULL);
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
    s_reply_problems (reply, detail);
    return -1;
}

int
api_parse_create (const char *body, size_t len, const proto_limits_t *limits, proto_request_t *req,
                  json_t **doc, api_reply_t *reply)
{
    memset (req, 0, sizeof *req);
    req->op = PROTO_OP_CREATE;
    json_t *detail = json_array ();
    if (!detail)
        return api_reply_detail (reply, 500, "Out of memory"), -1;
    bool marked;
    if (s_parse_body (body, len, doc, detail, reply, &marked) == 0) {
        unsigned both = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION;
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
    memset (req, 0, sizeof *req);
    req->op = PROTO_OP_UPDATE;
    json_t *detail = json_array ();
    if (!detail)
        return api_reply_detail (reply, 500, "Out of memory"), -1;
    if (s_check_uuid (detail, "path", "event_id", id, id_len, req->event_id))
        req->has |= PROTO_HAS_EVENT_ID;
    bool marked;
    if (s_parse_body (body, len, doc, detail, reply, &marked) == 0) {
        unsigned all = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_STATUS;
        size_t before = json_array_size (detail);
        s_body_fields (*doc, all, 0, limits, marked, req, detail);
        if (json_object_size (*doc) == 0 && json_array_size (detail) == before)
            s_problem (detail, "at_least_one_field", "body", NULL,
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
    memset (req, 0, sizeof *req);
    req->op = PROTO_OP_GET;
    json_t *detail = json_array ();
    if (!detail)
        return api_reply_detail (reply, 500, "Out of memory"), -1;
    if (s_check_uuid (detail, "path", "event_id", id, id_len, req->event_id))
        req->has |= PROTO_HAS_EVENT_ID;
    json_t *doc = NULL;
    return s_finish (detail, &doc, reply);
}

/* A query string value as a JSON input (NULL when it is not valid text). */
static json_t *
s_param_input (const api_param_t *p)
{
    return proto_check_string (p->ptr, p->len, PROTO_LIMIT_CAP) == PROTO_STR_OK
               ? json_stringn (p->ptr, p->len)
               : NULL;
}

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
        s_problem (detail, "int_parsing", "query", "limit",
                   "Input should be a valid integer, unable to parse string as an integer", input);
    else if (negative || value < 1)
        s_problem (detail, "greater_than_equal", "query", "limit",
                   "Input should be greater than or equal to 1", input);
    else if (value > PROTO_LIST_LIMIT_MAX)
        s_problem (detail, "less_than_equal", "query", "limit",
                   "Input should be less than or equal to 1000", input);
    else {
        req->limit = (uint32_t)value;
        req->has |= PROTO_HAS_LIMIT;
    }
    json_decref (input);
}

int
api_parse_list (const api_query_t *query, const proto_limits_t *limits, proto_request_t *req,
                api_reply_t *reply)
{
    memset (req, 0, sizeof *req);
    req->op = PROTO_OP_LIST;
    json_t *detail = json_array ();
    if (!detail)
        return api_reply_detail (reply, 500, "Out of memory"), -1;
    s_query_string (detail, "user_id", &query->user_id, limits->user_id_max, PROTO_HAS_USER_ID,
                    &req->user_id, req);
    s_query_string (detail, "status", &query->status, limits->status_max, PROTO_HAS_STATUS,
                    &req->status, req);
    s_query_limit (detail, &query->limit, req);
    if (query->after.present
        && s_check_uuid (detail, "query", "after", query->after.ptr, query->after.len, req->after))
        req->has |= PROTO_HAS_AFTER;
    json_t *doc = NULL;
    return s_finish (detail, &doc, reply);
}

/* ---- Replies ------------------------------------------------------------- */

json_t *
api_event_json (const proto_event_t *event)
{
    char id[PROTO_UUID_LEN + 1], created[PROTO_TIME_LEN + 1], updated[PROTO_TIME_LEN + 1];
    proto_uuid_format (event->id, id);
    proto_time_format (event->created_at, created);
    proto_time_format (event->updated_at, updated);
    return json_pack ("{s:s,s:s%,s:s%,s:s%,s:s,s:s}", "event_id", id, "user_id",
                      event->user_id.ptr ? event->user_id.ptr : "", event->user_id.len,
                      "description", event->description.ptr ? event->description.ptr : "",
                      event->description.len, "status", event->status.ptr ? event->status.ptr : "",
                      event->status.len, "created_at", created, "updated_at", updated);
}

json_t *
api_page_json (const proto_reply_t *store)
{
    json_t *items = json_array ();
    for (size_t i = 0; items && i < store->n_items; i++)
        if (json_array_append_new (items, api_event_json (&store->items[i])) != 0) {
            json_decref (items);
            items = NULL;
        }
    json_t *next = json_null ();
    if (store->has_next_after) {
        char id[PROTO_UUID_LEN + 1];
        proto_uuid_format (store->next_after, id);
        next = json_string (id);
    }
    return json_pack ("{s:o,s:o}", "items", items, "next_after", next);
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
     - 1 + PROTO_UUID_LEN + 2 * PROTO_TIME_LEN)

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
    char id[PROTO_UUID_LEN + 1], created[PROTO_TIME_LEN + 1], updated[PROTO_TIME_LEN + 1];
    proto_uuid_format (event->id, id);
    proto_time_format (event->created_at, created);
    proto_time_format (event->updated_at, updated);
    out = s_put (out, S_LIT ("{\"event_id\":\""));
    out = s_put (out, id, PROTO_UUID_LEN);
    out = s_put (out, S_LIT ("\",\"user_id\":\""));
    out = s_put (out, event->user_id.ptr, event->user_id.len);
    out = s_put (out, S_LIT ("\",\"description\":\""));
    out = s_put (out, event->description.ptr, event->description.len);
    out = s_put (out, S_LIT ("\",\"status\":\""));
    out = s_put (out, event->status.ptr, event->status.len);
    out = s_put (out, S_LIT ("\",\"created_at\":\""));
    out = s_put (out, created, PROTO_TIME_LEN);
    out = s_put (out, S_LIT ("\",\"updated_at\":\""));
    out = s_put (out, updated, PROTO_TIME_LEN);
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

static int
s_render_event (const proto_event_t *event, unsigned status, api_reply_t *reply)
{
    char *body = malloc (s_event_text_size (event) + 1);
    if (body && s_reply_text (reply, status, body, s_event_text (event, body)) == 0)
        return 0;
    return s_reply_json (reply, status, api_event_json (event));
}

/* The list page's text, or NULL (jansson's job then, or out of memory). */
static char *
s_list_text (const proto_reply_t *store, char **end)
{
    /* sizeof counts the NUL that proto_uuid_format and s_reply_text write. */
    size_t size = sizeof "{\"items\":[],\"next_after\":\"\"}" + PROTO_UUID_LEN;
    for (size_t i = 0; i < store->n_items; i++)
        size += s_event_text_size (&store->items[i]) + 1;
    char *body = malloc (size), *out = body;
    if (!body)
        return NULL;
    out = s_put (out, S_LIT ("{\"items\":["));
    for (size_t i = 0; i < store->n_items; i++) {
        if (i > 0)
            *out++ = ',';
        if (!(out = s_event_text (&store->items[i], out))) {
            free (body);
            return NULL;
        }
    }
    out = s_put (out, S_LIT ("],\"next_after\":"));
    if (store->has_next_after) {
        *out++ = '"';
        proto_uuid_format (store->next_after, out); /* writes a NUL after, within size */
        out += PROTO_UUID_LEN;
        *out++ = '"';
    } else
        out = s_put (out, S_LIT ("null"));
    *out++ = '}';
    *end = out;
    return body;
}

static int
s_render_list (const proto_reply_t *store, api_reply_t *reply)
{
    char *end = NULL, *body = s_list_text (store, &end);
    if (body)
        return s_reply_text (reply, 200, body, end);
    return s_reply_json (reply, 200, api_page_json (store));
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
            s_problem (detail, "cursor_not_found", "query", "after",
                       "No event with this id to continue after", NULL);
            return s_reply_problems (reply, detail);
        }
        return api_reply_detail (reply, 404, "Event not found");
    case PROTO_E_FEED_FULL:
        if (api_reply_detail (reply, 503, "Notification backlog full, try again later") != 0)
            return -1;
        reply->retry_after = true;
        return 0;
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
        s_problem (detail, "store_rejected",
                   in_path    ? "path"
                   : in_query ? "query"
                              : "body",
                   field[0] ? field : NULL, message[0] ? message : "Rejected by the store", NULL);
        return s_reply_problems (reply, detail);
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
