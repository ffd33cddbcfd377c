/* test_api — routing, request validation (every error class of
   docs/ARCHITECTURE.md §2) and the JSON ↔ proto mapping of the gateway,
   without a server. */
#include "api.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static proto_limits_t s_limits;

/* The detail list of a 422 reply (new reference). */
static json_t *
s_detail (const api_reply_t *reply)
{
    assert_int_equal (reply->status, 422);
    json_t *root = json_loadb (reply->body, reply->len, JSON_ALLOW_NUL, NULL);
    assert_non_null (root);
    json_t *detail = json_incref (json_object_get (root, "detail"));
    json_decref (root);
    assert_true (json_is_array (detail));
    return detail;
}

/* True when detail holds a problem of this type at loc (a, b). */
static bool
s_has (json_t *detail, const char *type, const char *a, const char *b)
{
    size_t i;
    json_t *item;
    json_array_foreach (detail, i, item)
    {
        json_t *loc = json_object_get (item, "loc");
        const char *t = json_string_value (json_object_get (item, "type"));
        if (!t || strcmp (t, type) != 0 || !json_is_string (json_object_get (item, "msg")))
            continue;
        if (strcmp (json_string_value (json_array_get (loc, 0)), a) != 0)
            continue;
        if (b == NULL ? json_array_size (loc) == 1
                      : json_array_size (loc) == 2
                            && strcmp (json_string_value (json_array_get (loc, 1)), b) == 0)
            return true;
    }
    return false;
}

/* Runs api_parse_create on a literal; returns the 422 detail or NULL. */
static json_t *
s_create_problems (const char *body, size_t len, int expect_status)
{
    proto_request_t req;
    json_t *doc = NULL;
    api_reply_t reply = { 0 };
    int rc = api_parse_create (body, len, &s_limits, &req, &doc, &reply);
    if (expect_status == 0) {
        assert_int_equal (rc, 0);
        json_decref (doc);
        return NULL;
    }
    assert_int_equal (rc, -1);
    assert_null (doc);
    assert_int_equal (reply.status, expect_status);
    json_t *detail = expect_status == 422 ? s_detail (&reply) : NULL;
    api_reply_clear (&reply);
    return detail;
}

static void
test_api_resolve_routes_methods_and_trailing_slashes (void **state)
{
    api_endpoint_t ep;
    const char *id;
    size_t len;
    api_reply_t reply = { 0 };
    assert_int_equal (api_resolve ("POST", "/events", &ep, &id, &len, &reply), 0);
    assert_int_equal (ep, API_EP_CREATE);
    assert_int_equal (api_resolve ("GET", "/events/", &ep, &id, &len, &reply), 0);
    assert_int_equal (ep, API_EP_LIST);
    assert_int_equal (api_resolve ("PUT", "/events/abc/", &ep, &id, &len, &reply), 0);
    assert_int_equal (ep, API_EP_UPDATE);
    assert_int_equal (len, 3);
    assert_memory_equal (id, "abc", 3);
    assert_int_equal (api_resolve ("HEAD", "/ping/", &ep, &id, &len, &reply), 0);
    assert_int_equal (ep, API_EP_PING);

    assert_int_equal (api_resolve ("DELETE", "/events/abc", &ep, &id, &len, &reply), -1);
    assert_int_equal (reply.status, 405);
    assert_string_equal (reply.allow, "GET, HEAD, PUT");
    api_reply_clear (&reply);
    assert_int_equal (api_resolve ("POST", "/ping", &ep, &id, &len, &reply), -1);
    assert_int_equal (reply.status, 405);
    api_reply_clear (&reply);
    const char *unknown[] = { "/", "/event", "/events/a/b", "/events//", "/pingx", "" };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal (api_resolve ("GET", unknown[i], &ep, &id, &len, &reply), -1);
        assert_int_equal (reply.status, 404);
        assert_non_null (strstr (reply.body, "\"detail\""));
        api_reply_clear (&reply);
    }
}

static void
test_api_content_type_accepts_json_only (void **state)
{
    assert_true (api_content_type_is_json (NULL));
    assert_true (api_content_type_is_json ("application/json"));
    assert_true (api_content_type_is_json ("Application/JSON; charset=utf-8"));
    assert_false (api_content_type_is_json ("text/plain"));
    assert_false (api_content_type_is_json ("application/jsonx"));
    assert_false (api_content_type_is_json ("application/x-www-form-urlencoded"));
}

static void
test_api_create_maps_fields_to_the_request (void **state)
{
    const char body[] = "{\"user_id\":\"u-42\",\"description\":\"Your order shipped\"}";
    proto_request_t req;
    json_t *doc = NULL;
    api_reply_t reply = { 0 };
    assert_int_equal (api_parse_create (body, sizeof body - 1, &s_limits, &req, &doc, &reply), 0);
    assert_int_equal (req.op, PROTO_OP_CREATE);
    assert_int_equal (req.has, PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION);
    assert_int_equal (req.user_id.len, 4);
    assert_memory_equal (req.user_id.ptr, "u-42", 4);
    assert_int_equal (req.description.len, 18);
    json_decref (doc);
}

/* A plain body is read directly (no document, values borrowed from the
   body); anything else goes through jansson. Both give the same request. */
static void
test_api_plain_bodies_are_read_directly_others_by_jansson (void **state)
{
    static const struct {
        const char *body;
        bool plain;
        const char *user_id, *description;
    } cases[] = {
        { "{\"user_id\":\"u\",\"description\":\"d\"}", true, "u", "d" },
        { " \r\n{ \"description\" : \"caf\xc3\xa9\" ,\t\"user_id\":\"u 1\" }\n", true, "u 1",
          "caf\xc3\xa9" },
        /* an escape, a repeated key (the last counts): jansson */
        { "{\"user_id\":\"u\\n\",\"description\":\"d\"}", false, "u\n", "d" },
        { "{\"user_id\":\"x\",\"description\":\"d\",\"user_id\":\"u\"}", false, "u", "d" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proto_request_t req;
        json_t *doc = NULL;
        api_reply_t reply = { 0 };
        const char *body = cases[i].body;
        size_t len = strlen (body);
        assert_int_equal (api_parse_create (body, len, &s_limits, &req, &doc, &reply), 0);
        assert_int_equal (doc == NULL, cases[i].plain);
        assert_int_equal (req.has, PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION);
        assert_int_equal (req.user_id.len, strlen (cases[i].user_id));
        assert_memory_equal (req.user_id.ptr, cases[i].user_id, req.user_id.len);
        assert_int_equal (req.description.len, strlen (cases[i].description));
        assert_memory_equal (req.description.ptr, cases[i].description, req.description.len);
        if (cases[i].plain)
            assert_true (req.user_id.ptr > body && req.user_id.ptr < body + len);
        json_decref (doc);
    }
    /* Not plain and not valid: jansson's answers, as before. */
    static const struct {
        const char *body;
        int status;
    } bad[] = {
        { "{\"user_id\":\"u\",\"description\":\"d\",}", 400 },
        { "{\"user_id\":\"u\",\"description\":\"d\"} x", 400 },
        { "{\"user_id\":\"u\",\"description\":\"d\"", 400 },
        { "{\"user_id\":\"u\",\"description\":\"\"}", 422 },
        { "{\"user_id\":\"u\",\"description\":\"d\",\"status\":\"s\"}", 422 },
        { "{\"user_id\":\"u\"}", 422 },
        { "{\"user_id\":\"\xff\",\"description\":\"d\"}", 422 },
        { "{\"user_id\":\"u\x01\",\"description\":\"d\"}", 400 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proto_request_t req;
        json_t *doc = NULL;
        api_reply_t reply = { 0 };
        assert_int_equal (
            api_parse_create (bad[i].body, strlen (bad[i].body), &s_limits, &req, &doc, &reply),
            -1);
        assert_int_equal (reply.status, bad[i].status);
        assert_null (doc);
        api_reply_clear (&reply);
    }
    /* The worker's update. */
    const char *id = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    const char *processed = "{\"status\":\"processed\"}";
    proto_request_t req;
    json_t *doc = (json_t *)&req;
    api_reply_t reply = { 0 };
    assert_int_equal (api_parse_update (id, strlen (id), processed, strlen (processed), &s_limits,
                                        &req, &doc, &reply),
                      0);
    assert_null (doc);
    assert_int_equal (req.op, PROTO_OP_UPDATE);
    assert_int_equal (req.has, PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS);
    assert_int_equal (req.status.len, 9);
    assert_memory_equal (req.status.ptr, "processed", 9);
    assert_int_equal (req.event_id[0], 0x3f);
    assert_int_equal (req.event_id[15], 0xa6);
    /* a bad id with a plain body: the 422 names the path */
    assert_int_equal (
        api_parse_update ("nope", 4, processed, strlen (processed), &s_limits, &req, &doc, &reply),
        -1);
    assert_int_equal (reply.status, 422);
    json_t *detail = s_detail (&reply);
    json_t *loc = json_object_get (json_array_get (detail, 0), "loc");
    assert_string_equal (json_string_value (json_array_get (loc, 0)), "path");
    assert_string_equal (json_string_value (json_array_get (loc, 1)), "event_id");
    json_decref (detail);
    api_reply_clear (&reply);
}

static void
test_api_create_lists_every_problem (void **state)
{
    const char body[] = "{\"user_id\":5,\"description\":\"\",\"x\":1}";
    json_t *d = s_create_problems (body, sizeof body - 1, 422);
    assert_int_equal (json_array_size (d), 3);
    assert_true (s_has (d, "string_type", "body", "user_id"));
    assert_true (s_has (d, "string_too_short", "body", "description"));
    assert_true (s_has (d, "extra_forbidden", "body", "x"));
    json_decref (d);

    d = s_create_problems ("{}", 2, 422);
    assert_int_equal (json_array_size (d), 2);
    assert_true (s_has (d, "missing", "body", "user_id"));
    assert_true (s_has (d, "missing", "body", "description"));
    json_decref (d);
}

static void
test_api_create_enforces_string_limits_in_bytes (void **state)
{
    /* 128 two-byte characters = 256 bytes: at the limit; one more byte over. */
    char user[2 * 128 + 2];
    for (int i = 0; i < 128; i++)
        memcpy (user + 2 * i, "\xc3\xa9", 2);
    user[256] = '\0';
    char body[512];
    int n = snprintf (body, sizeof body, "{\"user_id\":\"%s\",\"description\":\"d\"}", user);
    assert_null (s_create_problems (body, (size_t)n, 0));
    n = snprintf (body, sizeof body, "{\"user_id\":\"%sx\",\"description\":\"d\"}", user);
    json_t *d = s_create_problems (body, (size_t)n, 422);
    assert_true (s_has (d, "string_too_long", "body", "user_id"));
    json_decref (d);

    char *big = malloc (4096 + 64);
    n = snprintf (big, 4096 + 64, "{\"user_id\":\"u\",\"description\":\"%4096d\"}", 7);
    assert_null (s_create_problems (big, (size_t)n, 0));
    n = snprintf (big, 4096 + 64, "{\"user_id\":\"u\",\"description\":\"%4097d\"}", 7);
    d = s_create_problems (big, (size_t)n, 422);
    assert_true (s_has (d, "string_too_long", "body", "description"));
    json_decref (d);
    free (big);
}

static void
test_api_create_rejects_nul_bad_unicode_and_non_objects (void **state)
{
    const char nul[] = "{\"user_id\":\"a\\u0000b\",\"description\":\"d\"}";
    json_t *d = s_create_problems (nul, sizeof nul - 1, 422);
    assert_true (s_has (d, "string_contains_nul", "body", "user_id"));
    json_decref (d);

    const char bad[] = "{\"user_id\":\"\xff\",\"description\":\"d\"}";
    d = s_create_problems (bad, sizeof bad - 1, 422);
    assert_int_equal (json_array_size (d), 1);
    assert_true (s_has (d, "string_unicode", "body", "user_id"));
    json_decref (d);
    /* A lone surrogate escape in one field, an overlong in the other; a
       proper pair and an escaped backslash before "ud800" are fine. */
    const char surrogate[] = "{\"user_id\":\"\\ud800x\",\"description\":\"\xc0\xaf\"}";
    d = s_create_problems (surrogate, sizeof surrogate - 1, 422);
    assert_int_equal (json_array_size (d), 2);
    assert_true (s_has (d, "string_unicode", "body", "user_id"));
    assert_true (s_has (d, "string_unicode", "body", "description"));
    json_decref (d);
    const char pair[] = "{\"user_id\":\"\\ud83d\\ude00\\\\ud800\",\"description\":\"\xff\"}";
    d = s_create_problems (pair, sizeof pair - 1, 422);
    assert_int_equal (json_array_size (d), 1);
    assert_true (s_has (d, "string_unicode", "body", "description"));
    json_decref (d);
    /* A bad byte outside any string is not JSON at all. */
    const char outside[] = "{\"user_id\":\"u\",\xff\"description\":\"d\"}";
    assert_null (s_create_problems (outside, sizeof outside - 1, 400));
    /* ... and the 400 names the client's byte, not the gateway's mark. */
    proto_request_t req;
    json_t *doc = NULL;
    api_reply_t reply = { 0 };
    assert_int_equal (api_parse_create ("\xff", 1, &s_limits, &req, &doc, &reply), -1);
    assert_int_equal (reply.status, 400);
    assert_non_null (strstr (reply.body, "0xff"));
    assert_null (strstr (reply.body, "FDD0"));
    api_reply_clear (&reply);

    d = s_create_problems ("[1,2]", 5, 422);
    assert_true (s_has (d, "model_attributes_type", "body", NULL));
    json_decref (d);
    d = s_create_problems ("", 0, 422);
    assert_true (s_has (d, "missing", "body", NULL));
    json_decref (d);
    assert_null (s_create_problems ("{\"user_id\":", 11, 400));
    assert_null (s_create_problems ("hello", 5, 400));
}

static void
test_api_update_needs_a_uuid_and_one_field (void **state)
{
    const char *id = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
    proto_request_t req;
    json_t *doc = NULL;
    api_reply_t reply = { 0 };
    const char ok[] = "{\"status\":\"processed\"}";
    assert_int_equal (
        api_parse_update (id, strlen (id), ok, sizeof ok - 1, &s_limits, &req, &doc, &reply), 0);
    assert_int_equal (req.has, PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS);
    assert_int_equal (req.event_id[0], 0x5f);
    json_decref (doc);

    assert_int_equal (api_parse_update ("nope", 4, "{}", 2, &s_limits, &req, &doc, &reply), -1);
    json_t *d = s_detail (&reply);
    assert_int_equal (json_array_size (d), 2);
    assert_true (s_has (d, "uuid_parsing", "path", "event_id"));
    assert_true (s_has (d, "at_least_one_field", "body", NULL));
    json_decref (d);
    api_reply_clear (&reply);

    const char long_status[] = "{\"status\":\"01234567890123456789012345678901234567890123456789"
                               "0123456789abcde\",\"y\":null}";
    assert_int_equal (api_parse_update (id, strlen (id), long_status, sizeof long_status - 1,
                                        &s_limits, &req, &doc, &reply),
                      -1);
    d = s_detail (&reply);
    assert_true (s_has (d, "string_too_long", "body", "status"));
    assert_true (s_has (d, "extra_forbidden", "body", "y"));
    json_decref (d);
    api_reply_clear (&reply);
}

static void
test_api_get_rejects_malformed_ids (void **state)
{
    proto_request_t req;
    api_reply_t reply = { 0 };
    const char *bad[] = { "123", "5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b",
                          "{5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b}",
                          "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5g" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (api_parse_get (bad[i], strlen (bad[i]), &req, &reply), -1);
        json_t *d = s_detail (&reply);
        assert_true (s_has (d, "uuid_parsing", "path", "event_id"));
        json_decref (d);
        api_reply_clear (&reply);
    }
    const char *upper = "5F0C1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B";
    assert_int_equal (api_parse_get (upper, strlen (upper), &req, &reply), 0);
    assert_int_equal (req.event_id[0], 0x5f);
}

static api_param_t
s_p (const char *text)
{
    return (api_param_t){ text, text ? strlen (text) : 0, text != NULL };
}

static void
test_api_list_validates_every_query_value (void **state)
{
    proto_request_t req;
    api_reply_t reply = { 0 };
    api_query_t q = { s_p ("u-1"), s_p ("pending"), s_p ("1000"),
                      s_p ("5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b") };
    assert_int_equal (api_parse_list (&q, &s_limits, &req, &reply), 0);
    assert_int_equal (req.has,
                      PROTO_HAS_USER_ID | PROTO_HAS_STATUS | PROTO_HAS_LIMIT | PROTO_HAS_AFTER);
    assert_int_equal (req.limit, 1000);

    api_query_t none = { 0 };
    assert_int_equal (api_parse_list (&none, &s_limits, &req, &reply), 0);
    assert_int_equal (req.has, 0);

    struct {
        const char *limit;
        const char *type;
    } limits[] = { { "0", "greater_than_equal" },
                   { "1001", "less_than_equal" },
                   { "abc", "int_parsing" },
                   { "", "int_parsing" },
                   { "-1", "greater_than_equal" },
                   { "1.5", "int_parsing" },
                   { "99999999999999999999", "int_parsing" } };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        api_query_t bad = { .limit = s_p (limits[i].limit) };
        assert_int_equal (api_parse_list (&bad, &s_limits, &req, &reply), -1);
        json_t *d = s_detail (&reply);
        assert_true (s_has (d, limits[i].type, "query", "limit"));
        json_decref (d);
        api_reply_clear (&reply);
    }
    api_query_t all_bad = { s_p (""), { "a\0b", 3, true }, s_p ("x"), s_p ("zzz") };
    assert_int_equal (api_parse_list (&all_bad, &s_limits, &req, &reply), -1);
    json_t *d = s_detail (&reply);
    assert_int_equal (json_array_size (d), 4);
    assert_true (s_has (d, "string_too_short", "query", "user_id"));
    assert_true (s_has (d, "string_contains_nul", "query", "status"));
    assert_true (s_has (d, "int_parsing", "query", "limit"));
    assert_true (s_has (d, "uuid_parsing", "query", "after"));
    json_decref (d);
    api_reply_clear (&reply);
}

static proto_event_t
s_event (void)
{
    proto_event_t e = { .user_id = PROTO_STR ("u-42"),
                        .description = PROTO_STR ("Your \"order\" shipped"),
                        .status = PROTO_STR ("pending"),
                        .created_at = 1795600800123,
                        .updated_at = 1795600800123 };
    proto_uuid_parse ("5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", 36, e.id);
    return e;
}

static void
test_api_render_maps_store_replies_to_http (void **state)
{
    proto_reply_t store = { .op = PROTO_OP_CREATE, .status = PROTO_OK, .event = s_event () };
    api_reply_t reply = { 0 };
    assert_int_equal (api_render (API_EP_CREATE, &store, &reply), 0);
    assert_int_equal (reply.status, 201);
    json_t *ev = json_loadb (reply.body, reply.len, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (ev, "event_id")),
                         "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
    assert_string_equal (json_string_value (json_object_get (ev, "description")),
                         "Your \"order\" shipped");
    assert_string_equal (json_string_value (json_object_get (ev, "status")), "pending");
    assert_string_equal (json_string_value (json_object_get (ev, "created_at")),
                         "2026-11-25T10:00:00.123Z");
    assert_string_equal (json_string_value (json_object_get (ev, "updated_at")),
                         "2026-11-25T10:00:00.123Z");
    assert_int_equal (json_object_size (ev), 6);
    json_decref (ev);
    api_reply_clear (&reply);
    /* an updated event: its two times apart */
    store.event.updated_at = store.event.created_at + 86401333;
    assert_int_equal (api_render (API_EP_CREATE, &store, &reply), 0);
    ev = json_loadb (reply.body, reply.len, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (ev, "created_at")),
                         "2026-11-25T10:00:00.123Z");
    assert_string_equal (json_string_value (json_object_get (ev, "updated_at")),
                         "2026-11-26T10:00:01.456Z");
    json_decref (ev);
    api_reply_clear (&reply);

    proto_event_t items[2] = { s_event (), s_event () };
    proto_reply_t list = {
        .op = PROTO_OP_LIST, .items = items, .n_items = 2, .has_next_after = true
    };
    memcpy (list.next_after, items[1].id, 16);
    assert_int_equal (api_render (API_EP_LIST, &list, &reply), 0);
    json_t *page = json_loadb (reply.body, reply.len, 0, NULL);
    assert_int_equal (json_array_size (json_object_get (page, "items")), 2);
    assert_string_equal (json_string_value (json_object_get (page, "next_after")),
                         "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
    json_decref (page);
    list.has_next_after = false;
    assert_int_equal (api_render (API_EP_LIST, &list, &reply), 0);
    page = json_loadb (reply.body, reply.len, 0, NULL);
    assert_true (json_is_null (json_object_get (page, "next_after")));
    json_decref (page);

    struct {
        proto_status_t status;
        api_endpoint_t ep;
        const char *field;
        unsigned http;
    } cases[] = {
        { PROTO_E_NOT_FOUND, API_EP_GET, "event_id", 404 },
        { PROTO_E_NOT_FOUND, API_EP_LIST, "after", 422 },
        { PROTO_E_FEED_FULL, API_EP_CREATE, NULL, 503 },
        { PROTO_E_STORE_FULL, API_EP_CREATE, NULL, 503 },
        { PROTO_E_INTERNAL, API_EP_CREATE, NULL, 503 },
        { PROTO_E_INVALID, API_EP_CREATE, "user_id", 422 },
        { PROTO_E_VERSION, API_EP_GET, NULL, 500 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proto_reply_t err = { .status = cases[i].status, .message = PROTO_STR ("why") };
        if (cases[i].field)
            err.field = (proto_str_t){ cases[i].field, strlen (cases[i].field) };
        assert_int_equal (api_render (cases[i].ep, &err, &reply), 0);
        assert_int_equal (reply.status, cases[i].http);
        assert_non_null (strstr (reply.body, "\"detail\""));
        assert_int_equal (reply.retry_after, cases[i].status == PROTO_E_FEED_FULL);
        api_reply_clear (&reply);
    }
    /* The store's cap says so in the detail, with the store's reason. */
    proto_reply_t full = { .status = PROTO_E_STORE_FULL,
                           .message = PROTO_STR ("store is full (3 events, max-events 3)") };
    assert_int_equal (api_render (API_EP_CREATE, &full, &reply), 0);
    assert_int_equal (reply.status, 503);
    assert_non_null (strstr (reply.body, "Store is full, no new events accepted: store is full (3 "
                                         "events, max-events 3)"));
    api_reply_clear (&reply);
}

/* api_render's body for ep must be what jansson alone gives. */
static void
s_assert_same_as_jansson (api_endpoint_t ep, const proto_reply_t *store)
{
    api_reply_t reply = { 0 };
    assert_int_equal (api_render (ep, store, &reply), 0);
    json_t *tree = ep == API_EP_LIST ? api_page_json (store) : api_event_json (&store->event);
    char *want = json_dumps (tree, JSON_COMPACT);
    assert_non_null (want);
    assert_int_equal (reply.len, strlen (want));
    assert_memory_equal (reply.body, want, reply.len);
    assert_int_equal (reply.body[reply.len], '\0');
    free (want);
    json_decref (tree);
    api_reply_clear (&reply);
}

static void
test_api_render_writes_events_as_jansson_does (void **state)
{
    (void)state;
    /* Plain strings take the direct path, the others jansson's; the bytes
       must not tell which. */
    static const char *texts[] = {
        "",
        "u-42",
        "plain text / with slash",
        "del \x7f is not escaped",
        "quote \"",
        "back\\slash",
        "tab\tand\nnewline",
        "\x01\x1f controls",
        "caf\xc3\xa9 \xf0\x9f\x93\xa6",
        "\xe2\x80\xa8 line separator",
    };
    size_t n = sizeof texts / sizeof texts[0];
    proto_event_t items[3];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            proto_event_t e = s_event ();
            e.user_id = (proto_str_t){ texts[i], strlen (texts[i]) };
            e.description = (proto_str_t){ texts[j], strlen (texts[j]) };
            e.status = (proto_str_t){ texts[(i + j) % n], strlen (texts[(i + j) % n]) };
            e.created_at = (int64_t)(i * 86400000 * 400 + j);
            e.updated_at = -e.created_at;
            proto_reply_t one = { .op = PROTO_OP_GET, .status = PROTO_OK, .event = e };
            s_assert_same_as_jansson (API_EP_GET, &one);
            items[0] = e;
            items[1] = s_event ();
            items[2] = e;
            proto_reply_t page = { .op = PROTO_OP_LIST,
                                   .status = PROTO_OK,
                                   .items = items,
                                   .n_items = 1 + (i + j) % 3,
                                   .has_next_after = (i & 1) != 0 };
            memcpy (page.next_after, e.id, 16);
            s_assert_same_as_jansson (API_EP_LIST, &page);
        }
    proto_reply_t empty = { .op = PROTO_OP_LIST, .status = PROTO_OK };
    s_assert_same_as_jansson (API_EP_LIST, &empty);

    /* Random ASCII (every byte but NUL) at every length up to 64. */
    srand (42);
    char user[64], description[64];
    for (int round = 0; round < 2000; round++) {
        size_t ul = (size_t)rand () % sizeof user, dl = (size_t)rand () % sizeof description;
        for (size_t k = 0; k < ul; k++)
            user[k] = (char)(1 + rand () % 127);
        for (size_t k = 0; k < dl; k++)
            description[k] = (char)(round % 2 ? 1 + rand () % 127 : 32 + rand () % 95);
        proto_event_t e = s_event ();
        e.user_id = (proto_str_t){ user, ul };
        e.description = (proto_str_t){ description, dl };
        proto_reply_t one = { .op = PROTO_OP_CREATE, .status = PROTO_OK, .event = e };
        s_assert_same_as_jansson (API_EP_CREATE, &one);
    }
}

int
main (void)
{
    s_limits = proto_limits_default ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_api_resolve_routes_methods_and_trailing_slashes),
        cmocka_unit_test (test_api_content_type_accepts_json_only),
        cmocka_unit_test (test_api_create_maps_fields_to_the_request),
        cmocka_unit_test (test_api_plain_bodies_are_read_directly_others_by_jansson),
        cmocka_unit_test (test_api_create_lists_every_problem),
        cmocka_unit_test (test_api_create_enforces_string_limits_in_bytes),
        cmocka_unit_test (test_api_create_rejects_nul_bad_unicode_and_non_objects),
        cmocka_unit_test (test_api_update_needs_a_uuid_and_one_field),
        cmocka_unit_test (test_api_get_rejects_malformed_ids),
        cmocka_unit_test (test_api_list_validates_every_query_value),
        cmocka_unit_test (test_api_render_maps_store_replies_to_http),
        cmocka_unit_test (test_api_render_writes_events_as_jansson_does),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
