/*
 * test_gateway_errors — every client error of docs/ARCHITECTURE.md §2 over
 * real HTTP: 422 listing every problem with its type and loc (missing, wrong
 * type, empty, unknown field, over the byte limits — tested at the limit and
 * one byte over, with multi-byte UTF-8 so characters and bytes disagree —
 * invalid UTF-8, NUL, a body that is not an object, bad path and query
 * values), 400 for a body that is not JSON, 404, 405 with Allow, 413 with
 * Content-Length and with chunked encoding, 415, the Content-Types that
 * must be accepted, and 431 for a request head over --max-header-size. After every error nothing
 * may have been stored.
 */
#include "gwclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define MAX_BODY 65536

static char s_id[GW_ID_LEN + 1]; /* an existing event */
static char s_path[64];          /* /events/<s_id> */

static int
s_setup (void **state)
{
    if (gw_shared_setup (state))
        return -1;
    gw_create (gw_shared (), "errors", "the one event", s_id);
    snprintf (s_path, sizeof s_path, "/events/%s", s_id);
    return 0;
}

/* Number of events the store holds (paged listing). */
static size_t
s_count (void)
{
    static char ids[4096][GW_ID_LEN + 1];
    return gw_list_all (gw_shared (), "", 1000, ids[0], 4096);
}

static void
s_post (gw_resp_t *resp, const char *body)
{
    gw_call (gw_shared (), resp, "POST", "/events", "application/json", body, strlen (body));
}

/* `reps` copies of unit followed by tail. Caller frees. */
static char *
s_repeat (const char *unit, int reps, const char *tail)
{
    size_t n = strlen (unit);
    char *out = malloc (n * (size_t)reps + strlen (tail) + 1);
    for (int i = 0; i < reps; i++)
        memcpy (out + n * (size_t)i, unit, n);
    strcpy (out + n * (size_t)reps, tail);
    return out;
}

static void
test_422_lists_every_problem (void **state)
{
    size_t before = s_count ();
    gw_resp_t resp = { 0 };
    s_post (&resp, "{\"user_id\":5,\"description\":\"\",\"x\":1}");
    gw_assert_422 (&resp, 3, "string_type", "body/user_id", "string_too_short", "body/description",
                   "extra_forbidden", "body/x");
    s_post (&resp, "{}");
    gw_assert_422 (&resp, 2, "missing", "body/user_id", "missing", "body/description");
    s_post (&resp, "{\"description\":null,\"user_id\":[],\"a\":true,\"b\":{}}");
    gw_assert_422 (&resp, 4, "string_type", "body/description", "string_type", "body/user_id",
                   "extra_forbidden", "body/a", "extra_forbidden", "body/b");
    s_post (&resp, "{\"user_id\":\"\"}");
    gw_assert_422 (&resp, 2, "string_too_short", "body/user_id", "missing", "body/description");
    s_post (&resp, "");
    gw_assert_422 (&resp, 1, "missing", "body");
    static const char *const not_objects[] = { "[1,2]", "\"text\"", "5", "null", "true" };
    for (size_t i = 0; i < sizeof not_objects / sizeof *not_objects; i++) {
        s_post (&resp, not_objects[i]);
        gw_assert_422 (&resp, 1, "model_attributes_type", "body");
    }
    assert_int_equal (s_count (), before);
    gw_resp_clear (&resp);
}

/* user_id 256 / description 4096 / status 64 bytes, counted in bytes. */
static void
test_limits_accept_at_limit_and_refuse_one_byte_over (void **state)
{
    gw_resp_t resp = { 0 };
    char *user = s_repeat ("\xc3\xa9", 128, "");                /* é: 256 bytes */
    char *user_over = s_repeat ("\xc3\xa9", 128, "a");          /* 257 bytes */
    char *desc = s_repeat ("\xe2\x82\xac", 1365, "a");          /* €: 4096 bytes */
    char *desc_over = s_repeat ("\xe2\x82\xac", 1365, "ab");    /* 4097 bytes */
    char *status = s_repeat ("\xf0\x9f\x98\x80", 16, "");       /* 😀: 64 bytes */
    char *status_over = s_repeat ("\xf0\x9f\x98\x80", 16, "a"); /* 65 bytes */

    char id[GW_ID_LEN + 1];
    gw_create (gw_shared (), user, desc, id);
    size_t before = s_count ();
    json_t *body = json_pack ("{s:s, s:s}", "user_id", user_over, "description", desc);
    char *text = json_dumps (body, JSON_COMPACT);
    s_post (&resp, text);
    gw_assert_422 (&resp, 1, "string_too_long", "body/user_id");
    free (text);
    json_decref (body);
    body = json_pack ("{s:s, s:s}", "user_id", user_over, "description", desc_over);
    text = json_dumps (body, JSON_COMPACT);
    s_post (&resp, text);
    gw_assert_422 (&resp, 2, "string_too_long", "body/user_id", "string_too_long",
                   "body/description");
    free (text);
    json_decref (body);
    assert_int_equal (s_count (), before);

    char path[64];
    snprintf (path, sizeof path, "/events/%s", id);
    body = json_pack ("{s:s}", "status", status);
    text = json_dumps (body, JSON_COMPACT);
    assert_int_equal (gw_json (gw_shared (), &resp, "PUT", path, text), 200);
    gw_assert_event (resp.json, user, desc, status);
    free (text);
    json_decref (body);
    body = json_pack ("{s:s, s:s, s:s}", "status", status_over, "user_id", user_over, "description",
                      desc_over);
    text = json_dumps (body, JSON_COMPACT);
    gw_json (gw_shared (), &resp, "PUT", path, text);
    gw_assert_422 (&resp, 3, "string_too_long", "body/status", "string_too_long", "body/user_id",
                   "string_too_long", "body/description");
    free (text);
    json_decref (body);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0), 200);
    gw_assert_event (resp.json, user, desc, status); /* unchanged */

    free (user);
    free (user_over);
    free (desc);
    free (desc_over);
    free (status);
    free (status_over);
    gw_resp_clear (&resp);
}

static void
test_invalid_utf8_is_422_at_its_field (void **state)
{
    size_t before = s_count ();
    gw_resp_t resp = { 0 };
    s_post (&resp, "{\"user_id\":\"a\xff"
                   "b\",\"description\":\"d\"}");
    gw_assert_422 (&resp, 1, "string_unicode", "body/user_id");
    s_post (&resp, "{\"user_id\":\"\xc0\xaf\",\"description\":\"cut \xe2\x82\"}");
    gw_assert_422 (&resp, 2, "string_unicode", "body/user_id", "string_unicode",
                   "body/description");
    gw_json (gw_shared (), &resp, "PUT", s_path, "{\"status\":\"\xed\xa0\x80\"}"); /* a surrogate */
    gw_assert_422 (&resp, 1, "string_unicode", "body/status");
    assert_int_equal (s_count (), before);
    gw_resp_clear (&resp);
}

static void
test_nul_in_a_string_is_422 (void **state)
{
    size_t before = s_count ();
    gw_resp_t resp = { 0 };
    s_post (&resp, "{\"user_id\":\"a\\u0000b\",\"description\":\"d\"}");
    gw_assert_422 (&resp, 1, "string_contains_nul", "body/user_id");
    s_post (&resp, "{\"user_id\":\"u\",\"description\":\"\\u0000\"}");
    gw_assert_422 (&resp, 1, "string_contains_nul", "body/description");
    gw_json (gw_shared (), &resp, "PUT", s_path, "{\"status\":\"p\\u0000\"}");
    gw_assert_422 (&resp, 1, "string_contains_nul", "body/status");
    assert_int_equal (s_count (), before);
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", s_path, NULL, NULL, 0), 200);
    gw_assert_event (resp.json, "errors", "the one event", "pending");
    gw_resp_clear (&resp);
}

static void
test_put_validation (void **state)
{
    gw_resp_t resp = { 0 };
    gw_json (gw_shared (), &resp, "PUT", s_path, "{}");
    gw_assert_422 (&resp, 1, "at_least_one_field", "body");
    gw_json (gw_shared (), &resp, "PUT", s_path, "{\"x\":1}");
    gw_assert_422 (&resp, 1, "extra_forbidden", "body/x");
    gw_json (gw_shared (), &resp, "PUT", s_path, "{\"status\":5,\"user_id\":\"\",\"y\":null}");
    gw_assert_422 (&resp, 3, "string_type", "body/status", "string_too_short", "body/user_id",
                   "extra_forbidden", "body/y");
    gw_json (gw_shared (), &resp, "PUT", s_path, "[]");
    gw_assert_422 (&resp, 1, "model_attributes_type", "body");
    gw_json (gw_shared (), &resp, "PUT", "/events/not-a-uuid", "{\"status\":\"x\"}");
    gw_assert_422 (&resp, 1, "uuid_parsing", "path/event_id");
    gw_json (gw_shared (), &resp, "PUT", "/events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a2",
             "{\"status\":\"x\"}");
    gw_assert_detail (&resp, 404, "Event not found");
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", s_path, NULL, NULL, 0), 200);
    gw_assert_event (resp.json, "errors", "the one event", "pending");
    gw_resp_clear (&resp);
}

static void
test_query_validation (void **state)
{
    gw_resp_t resp = { 0 };
    static const struct {
        const char *query, *type, *loc;
    } cases[] = {
        { "limit=0", "greater_than_equal", "query/limit" },
        { "limit=-1", "greater_than_equal", "query/limit" },
        { "limit=1001", "less_than_equal", "query/limit" },
        { "limit=abc", "int_parsing", "query/limit" },
        { "limit=", "int_parsing", "query/limit" },
        { "limit=1.5", "int_parsing", "query/limit" },
        /* NULL: a malformed cursor's type (gw_cursor_error) */
        { "after=xyz", NULL, "query/after" },
        { "after=0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a", NULL, "query/after" },
    };
    char failures[4096] = "";
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[128];
        snprintf (path, sizeof path, "/events?%s", cases[i].query);
        gw_call (gw_shared (), &resp, "GET", path, NULL, NULL, 0);
        const char *why = gw_check_422 (
            &resp, 1, cases[i].type ? cases[i].type : gw_cursor_error (gw_shared ()), cases[i].loc);
        size_t used = strlen (failures);
        if (why)
            snprintf (failures + used, sizeof failures - used, "\n  GET %s: %s", path, why);
    }
    if (failures[0])
        fail_msg ("%s", failures);
    gw_call (gw_shared (), &resp, "GET", "/events?limit=abc&after=xyz", NULL, NULL, 0);
    gw_assert_422 (&resp, 2, "int_parsing", "query/limit", gw_cursor_error (gw_shared ()),
                   "query/after");
    assert_int_equal (gw_call (gw_shared (), &resp, "GET", "/events?limit=1000", NULL, NULL, 0),
                      200);
    gw_resp_clear (&resp);
}

static void
test_body_not_json_is_400 (void **state)
{
    size_t before = s_count ();
    gw_resp_t resp = { 0 };
    static const char *const bodies[] = { "not json", "{\"user_id\":", "{\"a\":1}}", "{'a':1}" };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        s_post (&resp, bodies[i]);
        assert_int_equal (resp.code, 400);
        const char *detail = json_string_value (json_object_get (resp.json, "detail"));
        if (!detail || strncmp (detail, "Body is not valid JSON", 22) != 0)
            fail_msg ("POST %s: detail %s", bodies[i], resp.body);
        gw_json (gw_shared (), &resp, "PUT", s_path, bodies[i]);
        assert_int_equal (resp.code, 400);
    }
    assert_int_equal (s_count (), before);
    gw_resp_clear (&resp);
}

static void
test_unknown_path_is_404_and_wrong_method_is_405 (void **state)
{
    gw_resp_t resp = { 0 };
    static const char *const unknown[] = { "/nope", "/events/x/y", "/eventsx", "/pingpong" };
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        gw_call (gw_shared (), &resp, "GET", unknown[i], NULL, NULL, 0);
        gw_assert_detail (&resp, 404, "Not Found");
    }
    static const struct {
        const char *method, *path, *allow[2];
    } cases[] = {
        { "DELETE", "/events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a2", { "GET", "PUT" } },
        { "POST", "/events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a2", { "GET", "PUT" } },
        { "POST", "/ping", { "GET", NULL } },
        { "PUT", "/events", { "GET", "POST" } },
        { "DELETE", "/events/", { "GET", "POST" } },
        { "PATCH", "/healthz", { "GET", NULL } },
        { "POST", "/metrics", { "GET", NULL } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gw_call (gw_shared (), &resp, cases[i].method, cases[i].path, NULL, NULL, 0);
        gw_assert_detail (&resp, 405, "Method Not Allowed");
        for (int k = 0; k < 2; k++)
            if (cases[i].allow[k] && !strstr (resp.allow, cases[i].allow[k]))
                fail_msg ("%s %s: Allow \"%s\" lacks %s", cases[i].method, cases[i].path,
                          resp.allow, cases[i].allow[k]);
        if (!cases[i].allow[1] && (strstr (resp.allow, "POST") || strstr (resp.allow, "PUT")))
            fail_msg ("%s %s: Allow \"%s\" names too much", cases[i].method, cases[i].path,
                      resp.allow);
    }
    gw_resp_clear (&resp);
}

/* A JSON body of exactly `size` bytes (a description padded with 'x'). */
static char *
s_body_of (size_t size)
{
    const char *head = "{\"user_id\":\"big\",\"description\":\"";
    char *body = malloc (size + 1);
    memset (body, 'x', size);
    memcpy (body, head, strlen (head));
    memcpy (body + size - 2, "\"}", 2);
    body[size] = '\0';
    return body;
}

static void
test_body_over_64k_is_413 (void **state)
{
    size_t before = s_count ();
    gw_resp_t resp = { 0 };
    char *body = s_body_of (MAX_BODY); /* at the limit: read, then refused as too long */
    s_post (&resp, body);
    gw_assert_422 (&resp, 1, "string_too_long", "body/description");
    free (body);
    body = s_body_of (MAX_BODY + 1);
    s_post (&resp, body);
    gw_assert_detail (&resp, 413, "Request body too large (limit 65536 bytes)");
    free (body);

    /* the same two bodies over a raw socket, chunked */
    for (size_t size = MAX_BODY; size <= MAX_BODY + 1; size++) {
        body = s_body_of (size);
        size_t cap = size + 4096, n = 0;
        char *raw = malloc (cap);
        n += (size_t)snprintf (raw, cap,
                               "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Content-Type: application/json\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n");
        for (size_t off = 0; off < size; off += 4000) {
            size_t part = size - off < 4000 ? size - off : 4000;
            n += (size_t)snprintf (raw + n, cap - n, "%zx\r\n", part);
            memcpy (raw + n, body + off, part);
            n += part;
            memcpy (raw + n, "\r\n", 2);
            n += 2;
        }
        memcpy (raw + n, "0\r\n\r\n", 5);
        n += 5;
        assert_int_equal (gw_raw_exchange (gw_shared ()->http_port, raw, n, &resp, 5000), 0);
        if (size == MAX_BODY)
            gw_assert_422 (&resp, 1, "string_too_long", "body/description");
        else
            gw_assert_detail (&resp, 413, "Request body too large (limit 65536 bytes)");
        free (raw);
        free (body);
    }
    /* a Content-Length far above the limit is refused without waiting for it */
    const char *huge = "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{";
    assert_int_equal (gw_raw_exchange (gw_shared ()->http_port, huge, strlen (huge), &resp, 5000),
                      0);
    gw_assert_detail (&resp, 413, "Request body too large (limit 65536 bytes)");
    assert_int_equal (s_count (), before);
    gw_resp_clear (&resp);
}

static void
test_chunked_body_within_limit_is_accepted (void **state)
{
    const char *raw =
        "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        "c\r\n{\"user_id\":\"\r\n"
        "22\r\nchunked\",\"description\":\"in parts\"}\r\n0\r\n\r\n";
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_raw_exchange (gw_shared ()->http_port, raw, strlen (raw), &resp, 5000), 0);
    assert_int_equal (resp.code, 201);
    gw_assert_event (resp.json, "chunked", "in parts", "pending");
    gw_resp_clear (&resp);
}

/* The shapes of a big request head: one long field, many fields, many
   cookies. */
typedef enum { S_HEAD_PAD, S_HEAD_FIELDS, S_HEAD_COOKIES } s_head_t;

/* POST /events over a raw socket with k more of shape in its head: an
   X-Pad field of k bytes, k fields of 100 bytes, or a Cookie field of k
   cookies of 16 bytes. The answer into resp; returns its status (0: no
   answer). */
static long
s_post_head (int port, s_head_t shape, size_t k, gw_resp_t *resp)
{
    const char *body = "{\"user_id\":\"head\",\"description\":\"padded\"}";
    size_t cap = k * 128 + 512;
    char *raw = malloc (cap);
    size_t n = (size_t)snprintf (raw, cap,
                                 "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                                 "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                                 strlen (body));
    if (shape == S_HEAD_PAD) {
        n += (size_t)snprintf (raw + n, cap - n, "X-Pad: ");
        memset (raw + n, 'p', k);
        n += k;
        n += (size_t)snprintf (raw + n, cap - n, "\r\n");
    } else if (shape == S_HEAD_FIELDS) {
        for (size_t i = 0; i < k; i++)
            n += (size_t)snprintf (raw + n, cap - n, "X-F%04zu: %090d\r\n", i, 0);
    } else {
        n += (size_t)snprintf (raw + n, cap - n, "Cookie: ");
        for (size_t i = 0; i < k; i++)
            n += (size_t)snprintf (raw + n, cap - n, "%sc%04zu=%08d", i ? "; " : "", i, 0);
        n += (size_t)snprintf (raw + n, cap - n, "\r\n");
    }
    n += (size_t)snprintf (raw + n, cap - n, "\r\n%s", body);
    long code = gw_raw_exchange (port, raw, n, resp, 5000) == 0 ? resp->code : 0;
    free (raw);
    return code;
}

/* Heads of growing size (k from `from` to `to` by `step`): a 201 while the
   head leaves the gateway room for its answer, then a 431 (ours, JSON, or
   past the pool's end libmicrohttpd's own), or, for a head so close to the
   pool's size that no answer's headers fit beside it, a closed connection:
   refused all the same. Every event the store holds was answered 201: none
   made and left unanswered. Returns the largest k served. */
static size_t
s_sweep (int port, s_head_t shape, size_t from, size_t to, size_t step, const char *detail)
{
    size_t before = s_count (), served = 0, created = 0;
    int ours = 0;
    gw_resp_t resp = { 0 };
    for (size_t k = from; k <= to; k += step) {
        long code = s_post_head (port, shape, k, &resp);
        if (code == 201) {
            /* the served sizes come first, without a gap */
            assert_int_equal (served, k == from ? 0 : k - step);
            served = k;
            created++;
        } else if (code == 431 && resp.json) {
            gw_assert_detail (&resp, 431, detail);
            ours++;
        } else if (code != 431 && code != 0)
            fail_msg ("head of shape %d, k %zu: status %ld", (int)shape, k, code);
    }
    assert_true (created > 0 && ours > 0);
    assert_int_equal (s_count (), before + created);
    gw_resp_clear (&resp);
    return served;
}

/* --max-header-size is each connection's memory for its request head: a
   head that leaves REQUEST_ANSWER_ROOM (1 KiB) of it for the answer's
   headers, counting what libmicrohttpd keeps of it (64 bytes a field or a
   cookie, a copy of the Cookie field), is served, a bigger one refused,
   storing nothing, whether it is one long field, many fields or many
   cookies. The default 8 KiB; raised to 16 KiB. */
static void
test_request_head_over_max_header_size_is_431 (void **state)
{
    int port = gw_shared ()->http_port;
    const char *limit = "Request header fields too large (limit 7168 bytes, each field counting "
                        "64 more)";
    size_t served = s_sweep (port, S_HEAD_PAD, 6 * 1024, 9 * 1024, 64, limit);
    assert_true (served >= 6 * 1024 + 256 && served < 7 * 1024); /* the head is ~470 bytes more */
    served = s_sweep (port, S_HEAD_FIELDS, 20, 90, 2, limit);
    assert_true (served >= 36 && served <= 42); /* (100 + 64) bytes a field */
    served = s_sweep (port, S_HEAD_COOKIES, 50, 100, 2, limit);
    assert_true (served >= 64 && served <= 76); /* (16 + 64 + 16) bytes a cookie */

    const char *const extra[] = { "--max-header-size", "16384", NULL };
    gw_t big;
    assert_int_equal (gw_start_gateway_on (&big, gw_shared (), extra), 0);
    assert_int_equal (gw_wait_readyz (&big, 200, 10000), 0);
    served = s_sweep (big.http_port, S_HEAD_PAD, 14 * 1024, 17 * 1024, 64,
                      "Request header fields too large (limit 15360 bytes, each field counting "
                      "64 more)");
    assert_true (served >= 14 * 1024 + 256 && served < 15 * 1024);
    gw_fini (&big);
}

static void
test_content_type_must_be_json (void **state)
{
    size_t before = s_count ();
    gw_resp_t resp = { 0 };
    const char *body = "{\"user_id\":\"ct\",\"description\":\"d\"}";
    static const char *const refused[] = { "text/plain", "application/x-www-form-urlencoded",
                                           "application/jsonx", "multipart/form-data" };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        gw_call (gw_shared (), &resp, "POST", "/events", refused[i], body, strlen (body));
        gw_assert_detail (&resp, 415, "Content-Type must be application/json");
        gw_call (gw_shared (), &resp, "PUT", s_path, refused[i], "{\"status\":\"x\"}", 14);
        gw_assert_detail (&resp, 415, "Content-Type must be application/json");
    }
    assert_int_equal (s_count (), before);
    static const char *const accepted[] = { "application/json", "application/json; charset=utf-8",
                                            "Application/JSON", NULL };
    for (size_t i = 0; i < sizeof accepted / sizeof *accepted; i++) {
        if (gw_call (gw_shared (), &resp, "POST", "/events", accepted[i], body, strlen (body))
            != 201)
            fail_msg ("Content-Type %s: %ld %s", accepted[i] ? accepted[i] : "(none)", resp.code,
                      resp.body);
        gw_assert_event (resp.json, "ct", "d", "pending");
    }
    assert_int_equal (s_count (), before + 3 + 1);
    gw_resp_clear (&resp);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_422_lists_every_problem),
        cmocka_unit_test (test_limits_accept_at_limit_and_refuse_one_byte_over),
        cmocka_unit_test (test_invalid_utf8_is_422_at_its_field),
        cmocka_unit_test (test_nul_in_a_string_is_422),
        cmocka_unit_test (test_put_validation),
        cmocka_unit_test (test_query_validation),
        cmocka_unit_test (test_body_not_json_is_400),
        cmocka_unit_test (test_unknown_path_is_404_and_wrong_method_is_405),
        cmocka_unit_test (test_body_over_64k_is_413),
        cmocka_unit_test (test_chunked_body_within_limit_is_accepted),
        cmocka_unit_test (test_content_type_must_be_json),
        cmocka_unit_test (test_request_head_over_max_header_size_is_431),
    };
    return cmocka_run_group_tests (tests, s_setup, gw_shared_teardown);
}
