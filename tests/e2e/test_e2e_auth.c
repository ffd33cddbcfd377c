/*
 * End-to-end checks of the worker's API token (docs/ARCHITECTURE.md §8) on
 * the real binaries and a private RabbitMQ node. The workers talk to a
 * second gateway that requires tokens (--tokens-file); the tests post and
 * count through the first one, open to loopback clients in protected mode.
 * A worker holding a read,write token made by herald-token --secret-file
 * marks every event processed; a worker whose token lacks write is refused
 * (403, logged as a configuration error), keeps its messages (retried, not
 * dropped), and delivers them once the operator grants the scope and sends
 * the gateway SIGHUP — each line printed exactly once.
 */
#include "broker.h"
#include "stack.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define ID_SIZE (STACK_ID_LEN + 1)

/* Status of one request to url with an optional bearer token (0 on
   transport error). */
static long
s_status (const char *url, const char *token)
{
    CURL *curl = curl_easy_init ();
    assert_non_null (curl);
    char header[512];
    struct curl_slist *headers = NULL;
    if (token) {
        snprintf (header, sizeof header, "Authorization: Bearer %s", token);
        headers = curl_slist_append (NULL, header);
    }
    FILE *sink = fopen ("/dev/null", "w");
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 5000L);
    long code = 0;
    if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
    fclose (sink);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    return code;
}

/* Makes a token with herald-token --secret-file: the secret lands in
   secret_path, its tokens-file line in line. */
static void
s_make_token (e2e_stack_t *stack, const char *name, const char *scopes, char *secret_path,
              size_t path_size, char *line, size_t line_size)
{
    char out[600];
    snprintf (secret_path, path_size, "%s/run%d-%s.token", harness_tmpdir (), stack->run, name);
    snprintf (out, sizeof out, "%s/run%d-%s.line", harness_tmpdir (), stack->run, name);
    const char *argv[] = { harness_bin ("herald-token"),
                           "--name",
                           name,
                           "--scopes",
                           scopes,
                           "--secret-file",
                           secret_path,
                           NULL };
    pid_t pid = harness_spawn (argv, NULL, out, NULL);
    assert_true (pid > 0);
    int status = harness_stop (pid, 0, 10000); /* signal 0: just wait */
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    struct stat st;
    assert_int_equal (stat (secret_path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    FILE *f = fopen (out, "r");
    assert_non_null (f);
    assert_non_null (fgets (line, (int)line_size, f));
    fclose (f);
}

static void
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
    chmod (path, 0600);
}

/* Starts the token-requiring gateway on http2_port (stack->gateway2, so
   stack_end stops it) and points the workers at it. */
static void
s_start_token_gateway (e2e_stack_t *stack, const char *tokens_path)
{
    stack_use_gateway2 (stack);
    char listen[64], endpoint[96], tokens[700];
    snprintf (listen, sizeof listen, "HERALD_HTTP_LISTEN=127.0.0.1:%d", stack->http2_port);
    snprintf (endpoint, sizeof endpoint, "HERALD_STORE_ENDPOINT=%s", stack->store_ep);
    snprintf (tokens, sizeof tokens, "HERALD_TOKENS_FILE=%s", tokens_path);
    const char *env[] = { listen, endpoint, tokens, NULL };
    const char *argv[] = { harness_bin ("herald-gateway"), NULL };
    const char *log = stack_log_path (stack, "gateway2");
    stack->gateway2 = harness_spawn (argv, env, log, log);
    assert_true (stack->gateway2 > 0);
    char readyz[128];
    snprintf (readyz, sizeof readyz, "%s/readyz", stack->worker_gateway_url);
    int64_t until = clock_mono_ms () + 10000;
    while (s_status (readyz, NULL) != 200) {
        assert_true (clock_mono_ms () < until);
        harness_nap_ms (20);
    }
    /* It does require a token. */
    char events[128];
    snprintf (events, sizeof events, "%s/events", stack->worker_gateway_url);
    assert_int_equal (s_status (events, NULL), 401);
}

/* A new scenario: a worker token with scopes (its secret file into
   secret, its line into line), a tokens file holding it (its path into
   tokens), then store, both gateways and the notifier; the worker is the
   caller's. */
static void
s_begin (e2e_stack_t *stack, const char *scopes, char secret[600], char line[256], char tokens[600])
{
    stack_begin (stack);
    s_make_token (stack, "worker", scopes, secret, 600, line, 256);
    snprintf (tokens, 600, "%s/run%d-tokens", harness_tmpdir (), stack->run);
    s_write (tokens, line);
    assert_int_equal (stack_start_store (stack, 0), 0);
    assert_int_equal (stack_start_gateway (stack), 0);
    s_start_token_gateway (stack, tokens);
    assert_int_equal (stack_start_notifier (stack), 0);
}

static void
test_worker_with_its_token_processes_events (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 20 };
    char ids[N * ID_SIZE], secret[600], line[256], tokens[600];
    s_begin (stack, "read,write", secret, line, tokens);
    const char *extra[] = { "--gateway-token-file", secret, NULL };
    assert_int_equal (stack_start_worker (stack, 0, extra), 0);
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    assert_int_equal (stack_wait_processed (stack, N, 30000), N);
    int dups = 0;
    assert_int_equal (stack_check_lines (stack, 0, N, ids, 1u, &dups, NULL), 0);
    assert_int_equal (dups, 0);
    assert_int_equal (
        harness_count_lines (stack_log_path (stack, "worker0"), "the gateway refused"), 0);
    stack_end (stack);
}

static void
test_worker_refused_keeps_messages_until_the_token_is_fixed (void **state)
{
    e2e_stack_t *stack = *state;
    enum { N = 5 };
    char ids[N * ID_SIZE], secret[600], line[256], tokens[600];
    s_begin (stack, "read", secret, line, tokens);
    const char *extra[] = { "--gateway-token-file",
                            secret,
                            "--max-attempts",
                            "1000",
                            "--retry-initial-ms",
                            "50",
                            "--retry-max-ms",
                            "200",
                            NULL };
    assert_int_equal (stack_start_worker (stack, 0, extra), 0);
    assert_int_equal (stack_post_many (stack, 0, N, ids), N);
    const char *log = stack_log_path (stack, "worker0");
    assert_true (
        harness_wait_lines (log, "HTTP 403: the gateway refused this worker's token", N, 30000)
        >= N);
    assert_int_equal (stack_count_processed (stack), 0);

    /* The operator grants write: same secret, new scopes, SIGHUP. */
    char *scopes = strstr (line, " read ");
    assert_non_null (scopes);
    char fixed[300];
    snprintf (fixed, sizeof fixed, "worker read,write%s", scopes + 5);
    s_write (tokens, fixed);
    assert_int_equal (kill (stack->gateway2, SIGHUP), 0);
    assert_int_equal (stack_wait_processed (stack, N, 30000), N);
    int dups = 0;
    assert_int_equal (stack_check_lines (stack, 0, N, ids, 1u, &dups, NULL), 0);
    assert_int_equal (dups, 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    stack_end (stack);
}

static void
test_worker_refuses_a_missing_token_file (void **state)
{
    e2e_stack_t *stack = *state;
    stack_begin (stack);
    const char *extra[] = { "--gateway-token-file", "/nonexistent/worker.token", NULL };
    assert_int_equal (stack_start_worker (stack, 0, extra), 0);
    int status = harness_stop (stack->workers[0], 0, 10000);
    stack->workers[0] = 0;
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 2);
    assert_int_equal (harness_count_lines (stack_log_path (stack, "worker0"),
                                           "/nonexistent/worker.token: No such file"),
                      1);
    stack_end (stack);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_worker_with_its_token_processes_events),
        cmocka_unit_test (test_worker_refused_keeps_messages_until_the_token_is_fixed),
        cmocka_unit_test (test_worker_refuses_a_missing_token_file),
    };
    return cmocka_run_group_tests (tests, stack_group_setup, stack_group_teardown);
}
