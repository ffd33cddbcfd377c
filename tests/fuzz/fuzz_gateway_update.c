/*
 * fuzz_gateway_update — api_parse_update on a fuzzed path id and body: the
 * input is "<event_id>\n<body>" (no newline: all id, empty body), the id
 * being what api_resolve cut out of PUT /events/{event_id}.
 *
 * The oracle, from independent pieces (proto_uuid_parse, jansson's
 * parser with NUL escapes allowed, proto_check_string): accepted iff the
 * id is a canonical UUID and the body a non-empty JSON object whose
 * members are among status, user_id, description, each a string within
 * its limit. An accepted
 * request carries exactly those members and round-trips through the store
 * codec; a refused one is a 400 (body not JSON) or a 422 that names the
 * path first when the id is bad, and never names the path when it is not.
 */
#include "fuzz_gateway.h"

#include <string.h>

static const struct {
    const char *name;
    unsigned has;
    size_t offset;
} s_fields[] = {
    { "user_id", PROTO_HAS_USER_ID, offsetof (proto_request_t, user_id) },
    { "description", PROTO_HAS_DESCRIPTION, offsetof (proto_request_t, description) },
    { "status", PROTO_HAS_STATUS, offsetof (proto_request_t, status) },
};

static size_t
s_max (const proto_limits_t *limits, unsigned has)
{
    return has == PROTO_HAS_USER_ID       ? limits->user_id_max
           : has == PROTO_HAS_DESCRIPTION ? limits->description_max
                                          : limits->status_max;
}

/* True when the oracle accepts the body; *has gets the members present. */
static bool
s_body_ok (json_t *root, const proto_limits_t *limits, unsigned *has)
{
    *has = 0;
    if (!json_is_object (root) || json_object_size (root) == 0)
        return false;
    size_t known = 0;
    for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++) {
        json_t *value = json_object_get (root, s_fields[i].name);
        if (!value)
            continue;
        known++;
        if (!json_is_string (value)
            || proto_check_string (json_string_value (value), json_string_length (value),
                                   s_max (limits, s_fields[i].has))
                   != PROTO_STR_OK)
            return false;
        *has |= s_fields[i].has;
    }
    return known == json_object_size (root);
}

static bool
s_run (const char *id, size_t id_len, const char *body, size_t len, json_t *strict,
       const proto_limits_t *limits)
{
    proto_request_t req;
    json_t *doc = (json_t *)&req; /* must be overwritten */
    api_reply_t reply = { 0 };
    int rc = api_parse_update (id, id_len, body, len, limits, &req, &doc, &reply);
    uint8_t uuid[16];
    bool id_ok = proto_uuid_parse (id, id_len, uuid) == 0;
    unsigned has;
    bool body_ok = s_body_ok (strict, limits, &has);
    if (rc == 0) {
        FUZZ_CHECK (id_ok && body_ok);
        FUZZ_CHECK (reply.status == 0 && reply.body == NULL);
        FUZZ_CHECK (req.op == PROTO_OP_UPDATE);
        FUZZ_CHECK (req.has == (has | PROTO_HAS_EVENT_ID));
        FUZZ_CHECK (memcmp (req.event_id, uuid, 16) == 0);
        for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++)
            if (has & s_fields[i].has)
                FUZZ_CHECK (fuzz_same_json_string (
                    json_object_get (strict, s_fields[i].name),
                    *(const proto_str_t *)((const char *)&req + s_fields[i].offset)));
        fuzz_check_request_roundtrip (&req, limits);
        json_decref (doc);
        return true;
    }
    FUZZ_CHECK (!(id_ok && body_ok));
    FUZZ_CHECK (doc == NULL);
    static const unsigned allowed[] = { 400, 422 };
    json_t *reply_body = fuzz_check_error_reply (&reply, allowed, 2);
    if (strict)
        FUZZ_CHECK (reply.status == 422);
    if (reply.status == 422) {
        json_t *first = json_array_get (json_object_get (reply_body, "detail"), 0);
        const char *where = json_string_value (json_array_get (json_object_get (first, "loc"), 0));
        FUZZ_CHECK (fuzz_detail_has_loc (reply_body, "path", "event_id") == !id_ok);
        if (!id_ok)
            FUZZ_CHECK (strcmp (where, "path") == 0);
    }
    json_decref (reply_body);
    api_reply_clear (&reply);
    return false;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *id = (const char *)data;
    const char *nl = memchr (data, '\n', size);
    size_t id_len = nl ? (size_t)(nl - id) : size;
    const char *body = nl ? nl + 1 : id + size;
    size_t len = size - (size_t)(body - id);
    json_t *strict = json_loadb (body, len, JSON_ALLOW_NUL, NULL);
    proto_limits_t wide = proto_limits_default ();
    proto_limits_t narrow = { .user_id_max = 16, .description_max = 64, .status_max = 12 };
    bool in_narrow = s_run (id, id_len, body, len, strict, &narrow);
    bool in_wide = s_run (id, id_len, body, len, strict, &wide);
    FUZZ_CHECK (!in_narrow || in_wide);
    json_decref (strict);
    return 0;
}
