/*
 * test_gateway_auth — API tokens and protected mode (docs/ARCHITECTURE.md
 * §8, gateway/auth.h) against the real herald-gateway and herald-store:
 * tokens made by the real herald-token; no token → 401 with its challenge,
 * a bad one → 401 invalid_token, a token without the scope → 403, the right
 * one → the answer; the open endpoints stay open; SIGHUP adds and removes
 * tokens and a broken file on reload changes nothing; a broken file at start
 * and a non-loopback listen address without tokens stop the gateway with a
 * message naming the fix; --insecure and HERALD_INSECURE=1 start it there.
 *
 * The listen tests bind 0.0.0.0 on a free port for as long as the gateway
 * takes to start and answer one request over 127.0.0.1.
 */
#include "gwclient.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define S_SECRET_MAX 128
#define S_LINE_MAX 256

typedef struct {
    char secret[S_SECRET_MAX];
    char line[S_LINE_MAX]; /* the tokens-file line, with its newline */
} s_token_t;

static gw_t s_gw;
static char s_tokens_path[600];
static s_token_t s_reader, s_writer, s_admin;

typedef struct {
    long code;
    char challenge[256]; /* WWW-Authenticate */
    char body[4096];
    size_t len;
} s_resp_t;

static size_t
s_on_header (char *data, size_t size, size_t n, void *arg)
{
    s_resp_t *resp = arg;
    size_t len = size * n;
    static const char name[] = "WWW-Authenticate:";
    if (len > sizeof name && strncasecmp (data, name, sizeof name - 1) == 0) {
        size_t start = sizeof name - 1;
        while (start < len && data[start] == ' ')
            start++;
        size_t end = len;
        while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n'))
            end--;
        snprintf (resp->challenge, sizeof resp->challenge, "%.*s", (int)(end - start),
                  data + start);
    }
    return len;
}

static size_t
s_on_body (char *data, size_t size, size_t n, void *arg)
{
    s_resp_t *resp = arg;
    size_t len = size * n;
    size_t room = sizeof resp->body - 1 - resp->len;
    size_t take = len < room ? len : room;
    memcpy (resp->body + resp->len, data, take);
    resp->len += take;
    resp->body[resp->len] = '\0';
    return len;
}

/* One request to port with "Authorization: Bearer <token>" when token is
   given (authorization, when given, is sent as the whole header value
   instead). A JSON body when body is not NULL. Returns the status. */
static long
s_request (int port, const char *method, const char *path, const char *token,
           const char *authorization, const char *body, s_resp_t *resp)
{
    memset (resp, 0, sizeof *resp);
    CURL *curl = curl_easy_init ();
    assert_non_null (curl);
    char url[256], header[512];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    if (token) {
        snprintf (header, sizeof header, "Authorization: Bearer %s", token);
        headers = curl_slist_append (headers, header);
    } else if (authorization) {
        snprintf (header, sizeof header, "Authorization: %s", authorization);
        headers = curl_slist_append (headers, header);
    }
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    if (body)
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long)GW_REQUEST_TIMEOUT_MS);
    if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &resp->code);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    return resp->code;
}

/* Asserts resp's body is exactly {"detail": detail}. */
static void
s_assert_detail (s_resp_t *resp, const char *detail)
{
    json_t *root = json_loads (resp->body, 0, NULL);
    assert_non_null (root);
    assert_int_equal (json_object_size (root), 1);
    assert_string_equal (json_string_value (json_object_get (root, "detail")), detail);
    json_decref (root);
}

/* Waits for pid to exit within timeout_ms; its waitpid status, or -1. */
static int
s_wait_exit (pid_t pid, int timeout_ms)
{
    int64_t deadline = clock_mono_ms () + timeout_ms;
    int status = 0;
    while (clock_mono_ms () < deadline) {
        if (waitpid (pid, &status, WNOHANG) == pid)
            return status;
        harness_nap_ms (10);
    }
    return -1;
}

static void
s_read_file (const char *path, char *out, size_t size)
{
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    size_t n = fread (out, 1, size - 1, f);
    out[n] = '\0';
    fclose (f);
}

/* Makes a token with the real herald-token. */
static void
s_make_token (const char *name, const char *scopes, s_token_t *token)
{
    char out[700];
    snprintf (out, sizeof out, "%s/token-%s.out", harness_tmpdir (), name);
    const char *argv[] = { harness_bin ("herald-token"), "--name", name, "--scopes", scopes, NULL };
    pid_t pid = harness_spawn (argv, NULL, out, NULL);
    int status = s_wait_exit (pid, 10000);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    char text[512];
    s_read_file (out, text, sizeof text);
    char *nl = strchr (text, '\n');
    assert_non_null (nl);
    *nl = '\0';
    assert_int_equal (strncmp (text, "herald_", 7), 0);
    assert_int_equal (strlen (text), 7 + 64);
    snprintf (token->secret, sizeof token->secret, "%s", text);
    snprintf (token->line, sizeof token->line, "%s", nl + 1);
    char expect[64];
    snprintf (expect, sizeof expect, "%s %s ", name, scopes);
    assert_int_equal (strncmp (token->line, expect, strlen (expect)), 0);
    assert_non_null (strchr (token->line, '\n'));
    /* The secret itself is nowhere in the file's line. */
    assert_null (strstr (token->line, token->secret + 7));
}

/* Writes the tokens file (mode 0600) from the given lines. */
static void
s_write_tokens (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs ("# written by test_gateway_auth\n", f);
    fputs (text, f);
    fclose (f);
    chmod (path, 0600);
}

static int
s_setup (void **state)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    s_make_token ("reader", "read", &s_reader);
    s_make_token ("writer", "read,write", &s_writer);
    s_make_token ("ops", "admin", &s_admin);
    snprintf (s_tokens_path, sizeof s_tokens_path, "%s/tokens", harness_tmpdir ());
    char text[1024];
    snprintf (text, sizeof text, "%s%s%s", s_reader.line, s_writer.line, s_admin.line);
    s_write_tokens (s_tokens_path, text);
    gw_init (&s_gw);
    const char *extra[] = { "--tokens-file", s_tokens_path, NULL };
    if (gw_start_store (&s_gw, NULL) || gw_start_gateway (&s_gw, extra))
        return -1;
    return 0;
}

static int
s_teardown (void **state)
{
    gw_fini (&s_gw);
    curl_global_cleanup ();
    return 0;
}

static void
test_auth_no_token_is_401_with_a_bearer_challenge (void **state)
{
    s_resp_t r;
    const char *paths[][2] = { { "GET", "/events" },
                               { "POST", "/events" },
                               { "GET", "/events/5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b" },
                               { "PUT", "/events/5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b" },
                               { "GET", "/metrics" } };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *body = strcmp (paths[i][0], "GET") == 0 ? NULL : "{\"status\":\"processed\"}";
        assert_int_equal (
            s_request (s_gw.http_port, paths[i][0], paths[i][1], NULL, NULL, body, &r), 401);
        assert_string_equal (r.challenge, "Bearer realm=\"herald\"");
        s_assert_detail (&r, "Not authenticated");
    }
    /* Another scheme is no Bearer credential either. */
    assert_int_equal (
        s_request (s_gw.http_port, "GET", "/events", NULL, "Basic cmVhZGVyOnJlYWRlcg==", NULL, &r),
        401);
    assert_string_equal (r.challenge, "Bearer realm=\"herald\"");
}

static void
test_auth_bad_token_is_401_invalid_token (void **state)
{
    s_resp_t r;
    assert_int_equal (
        s_request (s_gw.http_port, "GET", "/events", "herald_not-a-token", NULL, NULL, &r), 401);
    assert_string_equal (r.challenge, "Bearer realm=\"herald\", error=\"invalid_token\"");
    s_assert_detail (&r, "Invalid token");
    /* One character off is as wrong as any other token. */
    char near[S_SECRET_MAX];
    snprintf (near, sizeof near, "%s", s_writer.secret);
    near[strlen (near) - 1] = near[strlen (near) - 1] == '0' ? '1' : '0';
    assert_int_equal (s_request (s_gw.http_port, "POST", "/events", near, NULL,
                                 "{\"user_id\":\"u\",\"description\":\"d\"}", &r),
                      401);
    assert_string_equal (r.challenge, "Bearer realm=\"herald\", error=\"invalid_token\"");
}

static void
test_auth_scopes_grant_their_routes_only (void **state)
{
    s_resp_t r;
    const char *create = "{\"user_id\":\"auth\",\"description\":\"scoped\"}";
    assert_int_equal (
        s_request (s_gw.http_port, "POST", "/events", s_reader.secret, NULL, create, &r), 403);
    assert_string_equal (r.challenge,
                         "Bearer realm=\"herald\", error=\"insufficient_scope\", scope=\"write\"");
    s_assert_detail (&r, "Token 'reader' lacks the 'write' scope");
    assert_int_equal (
        s_request (s_gw.http_port, "POST", "/events", s_admin.secret, NULL, create, &r), 403);

    assert_int_equal (
        s_request (s_gw.http_port, "POST", "/events", s_writer.secret, NULL, create, &r), 201);
    json_t *ev = json_loads (r.body, 0, NULL);
    assert_non_null (ev);
    char path[64];
    snprintf (path, sizeof path, "/events/%s",
              json_string_value (json_object_get (ev, "event_id")));
    json_decref (ev);

    assert_int_equal (s_request (s_gw.http_port, "GET", path, s_reader.secret, NULL, NULL, &r),
                      200);
    assert_non_null (strstr (r.body, "\"scoped\""));
    assert_int_equal (
        s_request (s_gw.http_port, "GET", "/events?user_id=auth", s_reader.secret, NULL, NULL, &r),
        200);
    assert_non_null (strstr (r.body, "\"scoped\""));
    assert_int_equal (s_request (s_gw.http_port, "GET", path, s_admin.secret, NULL, NULL, &r), 403);
    assert_string_equal (r.challenge,
                         "Bearer realm=\"herald\", error=\"insufficient_scope\", scope=\"read\"");
    assert_int_equal (s_request (s_gw.http_port, "PUT", path, s_reader.secret, NULL,
                                 "{\"status\":\"processed\"}", &r),
                      403);
    assert_int_equal (s_request (s_gw.http_port, "PUT", path, s_writer.secret, NULL,
                                 "{\"status\":\"processed\"}", &r),
                      200);
    assert_non_null (strstr (r.body, "\"processed\""));

    assert_int_equal (
        s_request (s_gw.http_port, "GET", "/metrics", s_writer.secret, NULL, NULL, &r), 403);
    assert_string_equal (r.challenge,
                         "Bearer realm=\"herald\", error=\"insufficient_scope\", scope=\"admin\"");
    assert_int_equal (s_request (s_gw.http_port, "GET", "/metrics", s_admin.secret, NULL, NULL, &r),
                      200);
    /* The refusals are counted by route and code. */
    assert_true (gw_metric (r.body, "herald_http_requests_total", "route=\"POST /events\"",
                            "code=\"403\"", NULL)
                 >= 2);
    assert_true (gw_metric (r.body, "herald_http_requests_total", "route=\"GET /events\"",
                            "code=\"401\"", NULL)
                 >= 1);
}

static void
test_auth_open_endpoints_need_no_token (void **state)
{
    s_resp_t r;
    const char *open[] = { "/healthz", "/readyz", "/ping", "/docs", "/openapi.json" };
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
        assert_int_equal (s_request (s_gw.http_port, "GET", open[i], NULL, NULL, NULL, &r), 200);
        assert_string_equal (r.challenge, "");
        /* A wrong token does not close them either. */
        assert_int_equal (s_request (s_gw.http_port, "GET", open[i], "wrong", NULL, NULL, &r), 200);
    }
    /* Unknown paths are 404 whoever asks. */
    assert_int_equal (s_request (s_gw.http_port, "GET", "/nope", NULL, NULL, NULL, &r), 404);
}

/* Polls GET /events with token until it answers code (a reload is
   asynchronous to the signal). */
static long
s_wait_code (const char *token, long code)
{
    s_resp_t r;
    int64_t deadline = clock_mono_ms () + 5000;
    long got;
    while ((got = s_request (s_gw.http_port, "GET", "/events?limit=1", token, NULL, NULL, &r))
               != code
           && clock_mono_ms () < deadline)
        harness_nap_ms (20);
    return got;
}

static void
test_auth_sighup_reloads_the_tokens_file (void **state)
{
    s_token_t late;
    memset (&late, 0, sizeof late);
    s_make_token ("late", "read", &late);
    assert_int_equal (s_wait_code (late.secret, 401), 401);

    char text[1024];
    snprintf (text, sizeof text, "%s%s%s%s", s_reader.line, s_writer.line, s_admin.line, late.line);
    s_write_tokens (s_tokens_path, text);
    assert_int_equal (kill (s_gw.gateway, SIGHUP), 0);
    assert_int_equal (s_wait_code (late.secret, 200), 200);

    /* A broken file on reload keeps the tokens in use. */
    s_write_tokens (s_tokens_path, "late read not-a-hash\n");
    assert_int_equal (kill (s_gw.gateway, SIGHUP), 0);
    char log[700], logtext[65536];
    snprintf (log, sizeof log, "%s/gateway-%d.log", harness_tmpdir (), s_gw.run);
    assert_int_equal (harness_wait_lines (log, "not reloaded", 1, 5000), 1);
    s_read_file (log, logtext, sizeof logtext);
    char where[700];
    snprintf (where, sizeof where, "%s:2: bad hash", s_tokens_path);
    assert_non_null (strstr (logtext, where));
    assert_int_equal (s_wait_code (late.secret, 200), 200);
    assert_true (harness_alive (s_gw.gateway));

    /* Removing a token revokes it; the others stay. */
    snprintf (text, sizeof text, "%s%s%s", s_reader.line, s_writer.line, s_admin.line);
    s_write_tokens (s_tokens_path, text);
    assert_int_equal (kill (s_gw.gateway, SIGHUP), 0);
    assert_int_equal (s_wait_code (late.secret, 401), 401);
    assert_int_equal (s_wait_code (s_reader.secret, 200), 200);
}

/* Starts herald-gateway with argv's tail (after the binary) and env;
   stderr into a file named after tag. Returns its PID. */
static pid_t
s_spawn_gateway (const char *tag, const char *const *args, const char *const *env, char *err_path,
                 size_t size)
{
    const char *argv[16] = { harness_bin ("herald-gateway") };
    size_t n = 1;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    snprintf (err_path, size, "%s/gateway-%s.log", harness_tmpdir (), tag);
    pid_t pid = harness_spawn (argv, env, NULL, err_path);
    assert_true (pid > 0);
    return pid;
}

static void
test_auth_bad_tokens_file_at_start_refuses_to_start (void **state)
{
    char path[600], err[700], text[4096];
    snprintf (path, sizeof path, "%s/broken-tokens", harness_tmpdir ());
    s_write_tokens (path, "# fine\nreader read,wrte "
                          "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n");
    char listen[64];
    snprintf (listen, sizeof listen, "127.0.0.1:%d", harness_free_port ());
    const char *args[] = { "--listen", listen, "--store-endpoint", s_gw.store_ep, "--tokens-file",
                           path,       NULL };
    pid_t pid = s_spawn_gateway ("broken", args, NULL, err, sizeof err);
    int status = s_wait_exit (pid, 10000);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) != 0);
    s_read_file (err, text, sizeof text);
    char where[700];
    snprintf (where, sizeof where, "%s:3: bad scopes 'read,wrte'", path);
    assert_non_null (strstr (text, where));

    const char *missing[] = { "--listen", listen, "--tokens-file", "/nonexistent/tokens", NULL };
    pid = s_spawn_gateway ("missing", missing, NULL, err, sizeof err);
    status = s_wait_exit (pid, 10000);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) != 0);
    s_read_file (err, text, sizeof text);
    assert_non_null (strstr (text, "/nonexistent/tokens: No such file or directory"));
}

static void
test_auth_protected_mode_refuses_a_non_loopback_listen_address (void **state)
{
    int port = harness_free_port ();
    char listen[64], err[700], text[4096];
    snprintf (listen, sizeof listen, "0.0.0.0:%d", port);
    const char *args[] = { "--listen", listen, "--store-endpoint", s_gw.store_ep, NULL };
    pid_t pid = s_spawn_gateway ("protected", args, NULL, err, sizeof err);
    int status = s_wait_exit (pid, 10000);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) != 0);
    s_read_file (err, text, sizeof text);
    assert_non_null (strstr (text, "protected mode: refusing to listen on a non-loopback"));
    assert_non_null (strstr (text, "--tokens-file"));
    assert_non_null (strstr (text, "--insecure"));
    /* It never listened. */
    assert_int_equal (harness_wait_tcp (port, 200), -1);
}

/* Starts a gateway on 0.0.0.0 with args' tail and env, checks that a
   request without a token gets code over 127.0.0.1, stops it. */
static void
s_check_wildcard_listen (const char *tag, const char *extra, const char *const *env, long code)
{
    int port = harness_free_port ();
    char listen[64], err[700];
    snprintf (listen, sizeof listen, "0.0.0.0:%d", port);
    const char *args[] = {
        "--listen",    listen, "--store-endpoint",
        s_gw.store_ep, extra,  extra && strcmp (extra, "--tokens-file") == 0 ? s_tokens_path : NULL,
        NULL
    };
    pid_t pid = s_spawn_gateway (tag, args, env, err, sizeof err);
    assert_int_equal (harness_wait_tcp (port, 10000), 0);
    s_resp_t r;
    assert_int_equal (s_request (port, "POST", "/events", NULL, NULL,
                                 "{\"user_id\":\"wild\",\"description\":\"card\"}", &r),
                      code);
    int status = harness_stop (pid, SIGTERM, 10000);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

static void
test_auth_insecure_or_tokens_allow_a_non_loopback_listen_address (void **state)
{
    s_check_wildcard_listen ("insecure-flag", "--insecure", NULL, 201);
    const char *env[] = { "HERALD_INSECURE=1", NULL };
    s_check_wildcard_listen ("insecure-env", NULL, env, 201);
    s_check_wildcard_listen ("with-tokens", "--tokens-file", NULL, 401);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_auth_no_token_is_401_with_a_bearer_challenge),
        cmocka_unit_test (test_auth_bad_token_is_401_invalid_token),
        cmocka_unit_test (test_auth_scopes_grant_their_routes_only),
        cmocka_unit_test (test_auth_open_endpoints_need_no_token),
        cmocka_unit_test (test_auth_sighup_reloads_the_tokens_file),
        cmocka_unit_test (test_auth_bad_tokens_file_at_start_refuses_to_start),
        cmocka_unit_test (test_auth_protected_mode_refuses_a_non_loopback_listen_address),
        cmocka_unit_test (test_auth_insecure_or_tokens_allow_a_non_loopback_listen_address),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
