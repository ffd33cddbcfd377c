/*
 * fuzz_gateway_create — api_parse_create on arbitrary bytes: the body of
 * POST /events exactly as a client sent it.
 *
 * Each input is parsed twice, under the default limits and under small
 * ones (so the fuzzer reaches both sides of every string limit), and the
 * outcome is checked against an oracle built from independent pieces:
 * jansson's parser (NUL escapes allowed: proto_check_string judges them)
 * and proto_check_string. Duplicate keys: the last one counts, as in
 * FastAPI. The body is accepted iff
 * it is a JSON object with exactly the members user_id and description,
 * both strings that pass the limits. An accepted request must round-trip
 * through the store codec unchanged; a refused one must be a 400 (only for
 * a body that is not JSON) or a 422 whose every problem is located in the
 * body, with the doc released.
 */
#include "fuzz_gateway.h"

#include <string.h>

/* True when the oracle accepts root under limits (fills the two values). */
static bool
s_oracle (json_t *root, const proto_limits_t *limits, json_t **user_id, json_t **description)
{
    *user_id = json_object_get (root, "user_id");
    *description = json_object_get (root, "description");
    if (!json_is_object (root) || json_object_size (root) != 2 || !json_is_string (*user_id)
        || !json_is_string (*description))
        return false;
    return proto_check_string (json_string_value (*user_id), json_string_length (*user_id),
                               limits->user_id_max)
               == PROTO_STR_OK
           && proto_check_string (json_string_value (*description),
                                  json_string_length (*description), limits->description_max)
                  == PROTO_STR_OK;
}

/* Parses under limits; returns whether the request was accepted. */
static bool
s_run (const uint8_t *data, size_t size, json_t *strict, const proto_limits_t *limits)
{
    proto_request_t req;
    json_t *doc = (json_t *)&req; /* must be overwritten */
    api_reply_t reply = { 0 };
    int rc = api_parse_create ((const char *)data, size, limits, &req, &doc, &reply);
    json_t *user_id, *description;
    bool expect = s_oracle (strict, limits, &user_id, &description);
    if (rc == 0) {
        FUZZ_CHECK (expect);
        FUZZ_CHECK (reply.status == 0 && reply.body == NULL);
        FUZZ_CHECK (doc == NULL || json_is_object (doc)); /* NULL: read directly */
        FUZZ_CHECK (req.op == PROTO_OP_CREATE);
        FUZZ_CHECK (req.has == (PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION));
        FUZZ_CHECK (fuzz_same_json_string (user_id, req.user_id));
        FUZZ_CHECK (fuzz_same_json_string (description, req.description));
        fuzz_check_request_roundtrip (&req, limits);
        json_decref (doc);
        return true;
    }
    FUZZ_CHECK (!expect);
    FUZZ_CHECK (doc == NULL);
    static const unsigned allowed[] = { 400, 422 };
    json_t *body = fuzz_check_error_reply (&reply, allowed, 2);
    if (strict)
        FUZZ_CHECK (reply.status == 422); /* JSON is never "not JSON" */
    if (reply.status == 422) {
        size_t i;
        json_t *item;
        json_array_foreach (json_object_get (body, "detail"), i, item)
        {
            const char *where =
                json_string_value (json_array_get (json_object_get (item, "loc"), 0));
            FUZZ_CHECK (strcmp (where, "body") == 0);
        }
    }
    json_decref (body);
    api_reply_clear (&reply);
    return false;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    json_t *strict = json_loadb ((const char *)data, size, JSON_ALLOW_NUL, NULL);
    proto_limits_t wide = proto_limits_default ();
    proto_limits_t narrow = { .user_id_max = 16, .description_max = 64, .status_max = 12 };
    bool in_narrow = s_run (data, size, strict, &narrow);
    bool in_wide = s_run (data, size, strict, &wide);
    FUZZ_CHECK (!in_narrow || in_wide);
    json_decref (strict);
    return 0;
}
