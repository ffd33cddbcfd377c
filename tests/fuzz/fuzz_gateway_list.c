/*
 * fuzz_gateway_list — api_parse_list on a fuzzed query string: the input
 * is the raw text after '?' in GET /events?..., split and percent-decoded
 * the way libmicrohttpd hands it to the gateway ('&' between pairs, the
 * first '=' between key and value, '+' as space, %XX decoded, the first of
 * duplicate keys wins, a key without '=' is present and empty). So values
 * reach the parser with NUL bytes (raw or %00) and any bad UTF-8.
 *
 * The oracle checks each parameter on its own: user_id and status with
 * proto_check_string, after with proto_uuid_parse, limit as a decimal
 * integer in [1, 1000] (digits only). Accepted iff all present ones pass;
 * an accepted request carries exactly the present parameters and
 * round-trips through the store codec; a refused one is a 422 naming
 * exactly the bad parameters, each under "query" (every problem listed).
 */
#include "fuzz_gateway.h"

#include <stdlib.h>
#include <string.h>

static const char *s_names[] = { "user_id", "status", "limit", "after" };

static int
s_hex (char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes [p, p + len) into out (at least len bytes); returns its length. */
static size_t
s_unescape (const char *p, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '%' && i + 2 < len && s_hex (p[i + 1]) >= 0 && s_hex (p[i + 2]) >= 0) {
            out[o++] = (char)(s_hex (p[i + 1]) * 16 + s_hex (p[i + 2]));
            i += 2;
        } else
            out[o++] = p[i] == '+' ? ' ' : p[i];
    }
    return o;
}

/* Splits the query into the four parameters; values live in buf. */
static void
s_split (const char *q, size_t size, char *buf, api_query_t *query)
{
    api_param_t *params[] = { &query->user_id, &query->status, &query->limit, &query->after };
    memset (query, 0, sizeof *query);
    size_t used = 0;
    for (size_t start = 0; start <= size;) {
        const char *amp = memchr (q + start, '&', size - start);
        size_t end = amp ? (size_t)(amp - q) : size;
        const char *eq = memchr (q + start, '=', end - start);
        size_t key_end = eq ? (size_t)(eq - q) : end;
        char key[16];
        size_t key_len = 0;
        if (key_end - start < sizeof key)
            key_len = s_unescape (q + start, key_end - start, key);
        for (int i = 0; key_end - start < sizeof key && i < 4; i++)
            if (!params[i]->present && key_len == strlen (s_names[i])
                && memcmp (key, s_names[i], key_len) == 0) {
                size_t vstart = eq ? key_end + 1 : end;
                params[i]->ptr = buf + used;
                params[i]->len = s_unescape (q + vstart, end - vstart, buf + used);
                params[i]->present = true;
                used += params[i]->len;
            }
        start = end + 1;
    }
}

/* The value of a digits-only limit, saturated above the range; 0 when the
   text is empty or holds anything but digits. */
static uint64_t
s_limit_value (const api_param_t *p)
{
    uint64_t value = 0;
    for (size_t i = 0; i < p->len; i++) {
        if (p->ptr[i] < '0' || p->ptr[i] > '9')
            return 0;
        value = value * 10 + (uint64_t)(p->ptr[i] - '0');
        if (value > 1000000)
            value = 1000000; /* only the range matters */
    }
    return value;
}

static bool
s_limit_ok (const api_param_t *p)
{
    uint64_t value = s_limit_value (p);
    return value >= 1 && value <= PROTO_LIST_LIMIT_MAX;
}

static void
s_run (const api_query_t *query, const proto_limits_t *limits)
{
    const api_param_t *params[] = { &query->user_id, &query->status, &query->limit, &query->after };
    uint8_t after[16];
    bool bad[4] = {
        query->user_id.present
            && proto_check_string (query->user_id.ptr, query->user_id.len, limits->user_id_max)
                   != PROTO_STR_OK,
        query->status.present
            && proto_check_string (query->status.ptr, query->status.len, limits->status_max)
                   != PROTO_STR_OK,
        query->limit.present && !s_limit_ok (&query->limit),
        query->after.present && proto_uuid_parse (query->after.ptr, query->after.len, after) != 0,
    };
    bool any_bad = bad[0] || bad[1] || bad[2] || bad[3];
    proto_request_t req;
    api_reply_t reply = { 0 };
    int rc = api_parse_list (query, limits, &req, &reply);
    if (rc == 0) {
        FUZZ_CHECK (!any_bad);
        FUZZ_CHECK (reply.status == 0 && reply.body == NULL);
        FUZZ_CHECK (req.op == PROTO_OP_LIST);
        unsigned bits[] = { PROTO_HAS_USER_ID, PROTO_HAS_STATUS, PROTO_HAS_LIMIT, PROTO_HAS_AFTER };
        unsigned expect = 0;
        for (int i = 0; i < 4; i++)
            expect |= params[i]->present ? bits[i] : 0;
        FUZZ_CHECK (req.has == expect);
        if (query->user_id.present)
            FUZZ_CHECK (req.user_id.ptr == query->user_id.ptr
                        && req.user_id.len == query->user_id.len);
        if (query->status.present)
            FUZZ_CHECK (req.status.ptr == query->status.ptr && req.status.len == query->status.len);
        if (query->limit.present)
            FUZZ_CHECK (req.limit == s_limit_value (&query->limit));
        if (query->after.present)
            FUZZ_CHECK (memcmp (req.after, after, 16) == 0);
        fuzz_check_request_roundtrip (&req, limits);
        return;
    }
    if (!any_bad)
        fprintf (stderr, "refused a query the oracle accepts: %.*s\n", (int)reply.len,
                 reply.body ? reply.body : "");
    FUZZ_CHECK (any_bad);
    static const unsigned allowed[] = { 422 };
    json_t *body = fuzz_check_error_reply (&reply, allowed, 1);
    for (int i = 0; i < 4; i++)
        FUZZ_CHECK (fuzz_detail_has_loc (body, "query", s_names[i]) == bad[i]);
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        n += bad[i];
    FUZZ_CHECK (json_array_size (json_object_get (body, "detail")) == n);
    json_decref (body);
    api_reply_clear (&reply);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *buf = malloc (size + 1);
    FUZZ_CHECK (buf != NULL);
    api_query_t query;
    s_split ((const char *)data, size, buf, &query);
    proto_limits_t wide = proto_limits_default ();
    proto_limits_t narrow = { .user_id_max = 16, .description_max = 64, .status_max = 12 };
    s_run (&query, &narrow);
    s_run (&query, &wide);
    free (buf);
    return 0;
}
