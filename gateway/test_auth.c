/* test_auth — the gateway's access decisions (gateway/auth.h): the scope
   each endpoint needs, the Authorization header, 401 vs 403 and their
   challenges, protected mode for clients and listen addresses, reload. */
#include "auth.h"
#include "tokens.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The tokens file every test reads (mkstemp'd by the group setup). */
static char s_path[] = "/tmp/herald-test-auth-XXXXXX";

static void
s_write_tokens (const char *text)
{
    FILE *f = fopen (s_path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

/* "NAME SCOPES HASH\n" for secret. */
static void
s_line (char *out, size_t size, const char *name, const char *scopes, const char *secret)
{
    uint8_t hash[TOKENS_HASH_LEN];
    char hex[TOKENS_HASH_HEX + 1];
    tokens_hash (secret, strlen (secret), hash);
    tokens_hash_hex (hash, hex);
    snprintf (out, size, "%s %s %s\n", name, scopes, hex);
}

/* Three tokens: reader (read), writer (read,write), ops (admin). */
static void
s_write_default (void)
{
    char a[160], b[160], c[160], text[512];
    s_line (a, sizeof a, "reader", "read", "reader-secret");
    s_line (b, sizeof b, "writer", "read,write", "writer-secret");
    s_line (c, sizeof c, "ops", "admin", "admin-secret");
    snprintf (text, sizeof text, "# test\n%s%s%s", a, b, c);
    s_write_tokens (text);
}

static int
s_setup (void **state)
{
    int fd = mkstemp (s_path);
    if (fd < 0)
        return -1;
    close (fd);
    s_write_default ();
    return 0;
}

static int
s_teardown (void **state)
{
    unlink (s_path);
    return 0;
}

static struct sockaddr_in
s_v4 (const char *ip)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (1234) };
    assert_int_equal (inet_pton (AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static struct sockaddr_in6
s_v6 (const char *ip)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons (1234) };
    assert_int_equal (inet_pton (AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

/* auth_check's status (0 when allowed) and the reply's challenge. */
static unsigned
s_check (auth_t *auth, api_endpoint_t ep, const char *authorization, const char **challenge)
{
    struct sockaddr_in lo = s_v4 ("127.0.0.1");
    api_reply_t reply = { 0 };
    unsigned status = 0;
    if (auth_check (auth, ep, authorization, (struct sockaddr *)&lo, &reply) != 0) {
        status = reply.status;
        assert_non_null (reply.body);
        assert_non_null (strstr (reply.body, "{\"detail\":\""));
    }
    if (challenge)
        *challenge = reply.www_authenticate;
    api_reply_clear (&reply);
    return status;
}

static void
test_auth_scope_map (void **state)
{
    assert_int_equal (auth_scope_for (API_EP_LIST), TOKENS_SCOPE_READ);
    assert_int_equal (auth_scope_for (API_EP_GET), TOKENS_SCOPE_READ);
    assert_int_equal (auth_scope_for (API_EP_CREATE), TOKENS_SCOPE_WRITE);
    assert_int_equal (auth_scope_for (API_EP_UPDATE), TOKENS_SCOPE_WRITE);
    assert_int_equal (auth_scope_for (API_EP_METRICS), TOKENS_SCOPE_ADMIN);
    api_endpoint_t open[] = { API_EP_PING,    API_EP_HEALTHZ, API_EP_READYZ,
                              API_EP_OPENAPI, API_EP_DOCS,    API_EP_UNKNOWN };
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
        assert_int_equal (auth_scope_for (open[i]), 0);
}

static void
test_auth_missing_or_malformed_credentials_are_401_with_a_bare_challenge (void **state)
{
    auth_t *auth = auth_new (s_path, false);
    assert_non_null (auth);
    const char *challenge = NULL;
    const char *bad[] = { NULL,
                          "",
                          "Bearer",
                          "Bearer ",
                          "Basic cmVhZGVyOnNlY3JldA==",
                          "Bearerreader-secret",
                          "Bearer reader secret",
                          "Bearer a\"b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (s_check (auth, API_EP_LIST, bad[i], &challenge), 401);
        assert_string_equal (challenge, "Bearer realm=\"herald\"");
    }
    auth_destroy (&auth);
    assert_null (auth);
}

static void
test_auth_unknown_token_is_401_invalid_token (void **state)
{
    auth_t *auth = auth_new (s_path, false);
    const char *challenge = NULL;
    assert_int_equal (s_check (auth, API_EP_GET, "Bearer reader-secreT", &challenge), 401);
    assert_string_equal (challenge, "Bearer realm=\"herald\", error=\"invalid_token\"");
    assert_int_equal (s_check (auth, API_EP_GET, "Bearer x", &challenge), 401);
    auth_destroy (&auth);
}

static void
test_auth_scopes_decide_per_endpoint (void **state)
{
    auth_t *auth = auth_new (s_path, false);
    const char *challenge = NULL;
    /* The scheme is case-insensitive; blanks around the token are fine. */
    assert_int_equal (s_check (auth, API_EP_LIST, "Bearer reader-secret", NULL), 0);
    assert_int_equal (s_check (auth, API_EP_GET, "bearer   reader-secret  ", NULL), 0);
    assert_int_equal (s_check (auth, API_EP_CREATE, "Bearer reader-secret", &challenge), 403);
    assert_string_equal (challenge,
                         "Bearer realm=\"herald\", error=\"insufficient_scope\", scope=\"write\"");
    assert_int_equal (s_check (auth, API_EP_UPDATE, "Bearer reader-secret", NULL), 403);
    assert_int_equal (s_check (auth, API_EP_METRICS, "Bearer reader-secret", NULL), 403);
    assert_int_equal (s_check (auth, API_EP_CREATE, "Bearer writer-secret", NULL), 0);
    assert_int_equal (s_check (auth, API_EP_UPDATE, "Bearer writer-secret", NULL), 0);
    assert_int_equal (s_check (auth, API_EP_GET, "Bearer writer-secret", NULL), 0);
    assert_int_equal (s_check (auth, API_EP_METRICS, "Bearer writer-secret", &challenge), 403);
    assert_string_equal (challenge,
                         "Bearer realm=\"herald\", error=\"insufficient_scope\", scope=\"admin\"");
    /* admin grants /metrics and nothing else. */
    assert_int_equal (s_check (auth, API_EP_METRICS, "Bearer admin-secret", NULL), 0);
    assert_int_equal (s_check (auth, API_EP_LIST, "Bearer admin-secret", &challenge), 403);
    assert_string_equal (challenge,
                         "Bearer realm=\"herald\", error=\"insufficient_scope\", scope=\"read\"");
    /* Open endpoints need nothing, whatever is sent. */
    assert_int_equal (s_check (auth, API_EP_HEALTHZ, NULL, NULL), 0);
    assert_int_equal (s_check (auth, API_EP_READYZ, "Bearer wrong", NULL), 0);
    assert_int_equal (s_check (auth, API_EP_DOCS, NULL, NULL), 0);
    auth_destroy (&auth);
}

static void
test_auth_tokens_let_any_client_in_and_any_listen_address (void **state)
{
    auth_t *auth = auth_new (s_path, false);
    struct sockaddr_in far = s_v4 ("10.1.2.3");
    api_reply_t reply = { 0 };
    assert_int_equal (
        auth_check (auth, API_EP_LIST, "Bearer reader-secret", (struct sockaddr *)&far, &reply), 0);
    struct sockaddr_in any = s_v4 ("0.0.0.0");
    assert_int_equal (auth_check_listen (auth, (struct sockaddr *)&any), 0);
    auth_destroy (&auth);
}

static void
test_auth_loopback_addresses (void **state)
{
    struct sockaddr_in a = s_v4 ("127.0.0.1"), b = s_v4 ("127.255.0.9"), c = s_v4 ("128.0.0.1"),
                       d = s_v4 ("0.0.0.0"), e = s_v4 ("192.168.1.10");
    struct sockaddr_in6 f = s_v6 ("::1"), g = s_v6 ("::ffff:127.0.0.2"), h = s_v6 ("::"),
                        i = s_v6 ("::ffff:10.0.0.1"), j = s_v6 ("fe80::1");
    assert_true (auth_is_loopback ((struct sockaddr *)&a));
    assert_true (auth_is_loopback ((struct sockaddr *)&b));
    assert_false (auth_is_loopback ((struct sockaddr *)&c));
    assert_false (auth_is_loopback ((struct sockaddr *)&d));
    assert_false (auth_is_loopback ((struct sockaddr *)&e));
    assert_true (auth_is_loopback ((struct sockaddr *)&f));
    assert_true (auth_is_loopback ((struct sockaddr *)&g));
    assert_false (auth_is_loopback ((struct sockaddr *)&h));
    assert_false (auth_is_loopback ((struct sockaddr *)&i));
    assert_false (auth_is_loopback ((struct sockaddr *)&j));
}

static void
test_auth_protected_mode_answers_only_loopback_clients (void **state)
{
    auth_t *auth = auth_new (NULL, false);
    assert_non_null (auth);
    struct sockaddr_in lo = s_v4 ("127.0.0.1"), far = s_v4 ("10.1.2.3");
    struct sockaddr_in6 lo6 = s_v6 ("::1"), far6 = s_v6 ("2001:db8::1");
    api_reply_t reply = { 0 };
    assert_int_equal (auth_check (auth, API_EP_CREATE, NULL, (struct sockaddr *)&lo, &reply), 0);
    assert_int_equal (auth_check (auth, API_EP_METRICS, NULL, (struct sockaddr *)&lo6, &reply), 0);
    assert_int_equal (auth_check (auth, API_EP_LIST, NULL, (struct sockaddr *)&far, &reply), -1);
    assert_int_equal (reply.status, 403);
    assert_non_null (strstr (reply.body, "Protected mode"));
    assert_null (reply.www_authenticate);
    api_reply_clear (&reply);
    /* Even the open endpoints: protected mode is about who, not what. */
    assert_int_equal (auth_check (auth, API_EP_HEALTHZ, NULL, (struct sockaddr *)&far6, &reply),
                      -1);
    assert_int_equal (reply.status, 403);
    api_reply_clear (&reply);
    assert_int_equal (auth_check (auth, API_EP_HEALTHZ, NULL, NULL, &reply), -1);
    api_reply_clear (&reply);
    /* And it listens only on loopback. */
    struct sockaddr_in any = s_v4 ("0.0.0.0"), lan = s_v4 ("192.168.1.10");
    struct sockaddr_in6 any6 = s_v6 ("::");
    assert_int_equal (auth_check_listen (auth, (struct sockaddr *)&lo), 0);
    assert_int_equal (auth_check_listen (auth, (struct sockaddr *)&lo6), 0);
    assert_int_equal (auth_check_listen (auth, (struct sockaddr *)&any), -1);
    assert_int_equal (auth_check_listen (auth, (struct sockaddr *)&lan), -1);
    assert_int_equal (auth_check_listen (auth, (struct sockaddr *)&any6), -1);
    auth_destroy (&auth);
}

static void
test_auth_insecure_lets_everyone_in (void **state)
{
    auth_t *auth = auth_new (NULL, true);
    struct sockaddr_in far = s_v4 ("10.1.2.3"), any = s_v4 ("0.0.0.0");
    api_reply_t reply = { 0 };
    assert_int_equal (auth_check (auth, API_EP_CREATE, NULL, (struct sockaddr *)&far, &reply), 0);
    assert_int_equal (auth_check_listen (auth, (struct sockaddr *)&any), 0);
    auth_destroy (&auth);
}

static void
test_auth_new_refuses_a_bad_file (void **state)
{
    s_write_tokens ("ok read 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
                    "bad\n");
    assert_null (auth_new (s_path, false));
    assert_null (auth_new ("/nonexistent/herald-tokens", false));
    s_write_default (); /* back to the three tokens for the next test */
}

static void
test_auth_reload_swaps_tokens_and_keeps_them_on_a_bad_file (void **state)
{
    auth_t *auth = auth_new (s_path, false);
    assert_int_equal (s_check (auth, API_EP_LIST, "Bearer reader-secret", NULL), 0);
    char line[160];
    s_line (line, sizeof line, "new", "read", "new-secret");
    assert_int_equal (s_check (auth, API_EP_LIST, "Bearer new-secret", NULL), 401);
    s_write_tokens (line); /* reader, writer and ops gone; new added */
    assert_int_equal (auth_reload (auth), 0);
    assert_int_equal (s_check (auth, API_EP_LIST, "Bearer new-secret", NULL), 0);
    assert_int_equal (s_check (auth, API_EP_LIST, "Bearer reader-secret", NULL), 401);
    s_write_tokens ("broken line\n");
    assert_int_equal (auth_reload (auth), -1);
    assert_int_equal (s_check (auth, API_EP_LIST, "Bearer new-secret", NULL), 0);
    unlink (s_path);
    assert_int_equal (auth_reload (auth), -1);
    assert_int_equal (s_check (auth, API_EP_LIST, "Bearer new-secret", NULL), 0);
    auth_destroy (&auth);
    auth_t *none = auth_new (NULL, false);
    assert_int_equal (auth_reload (none), 0);
    auth_destroy (&none);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_auth_scope_map),
        cmocka_unit_test (test_auth_missing_or_malformed_credentials_are_401_with_a_bare_challenge),
        cmocka_unit_test (test_auth_unknown_token_is_401_invalid_token),
        cmocka_unit_test (test_auth_scopes_decide_per_endpoint),
        cmocka_unit_test (test_auth_tokens_let_any_client_in_and_any_listen_address),
        cmocka_unit_test (test_auth_loopback_addresses),
        cmocka_unit_test (test_auth_protected_mode_answers_only_loopback_clients),
        cmocka_unit_test (test_auth_insecure_lets_everyone_in),
        cmocka_unit_test (test_auth_new_refuses_a_bad_file),
        cmocka_unit_test (test_auth_reload_swaps_tokens_and_keeps_them_on_a_bad_file),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
