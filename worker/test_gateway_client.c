/*
 * Unit tests of gateway_client against a canned HTTP/1.1 server in a thread
 * of this program: the last three digits of the event id choose the answer
 * (200, 401, 403, 404, 422, 503, 429, 408, 997 = reset the connection,
 * 998 = close it without an answer, 999 = never answer). They pin
 * the retry classification of docs/ARCHITECTURE.md §4.4, the GET status
 * parsing, connection reuse, several requests in flight at once and the
 * bearer token on every request.
 */
#include "gateway_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ID(code) "0b6e1f4c-7a52-4d0e-9c1b-3f2a8d9e5" code

static int s_listen_fd = -1;
static int s_port;
static atomic_int s_accepted;
static atomic_int s_requests;
static char s_last_method[8];
static char s_last_auth[512];  /* the last request's Authorization value, "" if none */
static char s_last_rid[128];   /* the last request's X-Request-Id, "" if none */
static char s_last_path[256];  /* the last request's target */
static char s_last_ua[128];    /* the last request's User-Agent, "" if none */
static char s_last_head[8192]; /* the last request's head */

/* Serves one connection: requests until the client closes. */
static void *
s_conn_thread (void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[8192];
    size_t len = 0;
    for (;;) {
        ssize_t n = recv (fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr (buf, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strstr (buf, "Content-Length: ");
        size_t body = cl && cl < end ? (size_t)atoi (cl + 16) : 0;
        size_t total = (size_t)(end + 4 - buf) + body;
        if (len < total)
            continue;
        atomic_fetch_add (&s_requests, 1);
        snprintf (s_last_method, sizeof s_last_method, "%.*s", (int)strcspn (buf, " "), buf);
        const char *auth = strstr (buf, "\r\nAuthorization: ");
        s_last_auth[0] = '\0';
        if (auth && auth < end)
            snprintf (s_last_auth, sizeof s_last_auth, "%.*s", (int)strcspn (auth + 17, "\r\n"),
                      auth + 17);
        const char *ua = strstr (buf, "\r\nUser-Agent: ");
        s_last_ua[0] = '\0';
        if (ua && ua < end)
            snprintf (s_last_ua, sizeof s_last_ua, "%.*s", (int)strcspn (ua + 14, "\r\n"), ua + 14);
        snprintf (s_last_head, sizeof s_last_head, "%.*s", (int)(end + 4 - buf), buf);
        const char *rid = strstr (buf, "\r\nX-Request-Id: ");
        s_last_rid[0] = '\0';
        if (rid && rid < end)
            snprintf (s_last_rid, sizeof s_last_rid, "%.*s", (int)strcspn (rid + 16, "\r\n"),
                      rid + 16);
        const char *path = strchr (buf, ' ') + 1;
        snprintf (s_last_path, sizeof s_last_path, "%.*s", (int)strcspn (path, " "), path);
        int code = atoi (path + strcspn (path, " ") - 3);
        char reply[512];
        const char *json = code == 200 ? "{\"status\":\"processed\"}" : "{\"detail\":\"x\"}";
        int n_reply = snprintf (reply, sizeof reply,
                                "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                                "Content-Length: %zu\r\n\r\n%s",
                                code, strlen (json), json);
        if (code == 997) {
            struct linger reset = { .l_onoff = 1, .l_linger = 0 };
            setsockopt (fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        }
        if (code == 997 || code == 998)
            break;
        if (code != 999 && send (fd, reply, (size_t)n_reply, MSG_NOSIGNAL) < 0)
            break;
        memmove (buf, buf + total, len - total);
        len -= total;
    }
    close (fd);
    return NULL;
}

static void *
s_accept_thread (void *arg)
{
    for (;;) {
        int fd = accept (s_listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        atomic_fetch_add (&s_accepted, 1);
        pthread_t t;
        pthread_create (&t, NULL, s_conn_thread, (void *)(intptr_t)fd);
        pthread_detach (t);
    }
}

static int
s_setup (void **state)
{
    s_listen_fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    if (bind (s_listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0
        || listen (s_listen_fd, 64) != 0
        || getsockname (s_listen_fd, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    s_port = ntohs (addr.sin_port);
    pthread_t t;
    pthread_create (&t, NULL, s_accept_thread, NULL);
    pthread_detach (t);
    return 0;
}

static gateway_client_t *
s_client (int slots, long timeout_ms)
{
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/", s_port);
    gateway_client_t *client = gateway_client_new (url, timeout_ms, slots);
    assert_non_null (client);
    return client;
}

/* How many times line (a whole header line) is in the last request's head. */
static int
s_head_has (const char *line)
{
    int n = 0;
    for (const char *at = s_last_head; (at = strstr (at, line)); at += strlen (line))
        n += at > s_last_head && at[-1] == '\n' && at[strlen (line)] == '\r';
    return n;
}

/* The headers every request carries, once each: the User-Agent, and the
   Content-Type on a PUT only (a GET has no body). */
static void
s_assert_fixed_headers (bool put)
{
    assert_int_equal (s_head_has ("User-Agent: herald-worker"), 1);
    assert_int_equal (s_head_has ("Content-Type: application/json"), put ? 1 : 0);
}

/* Runs the client until one request finishes; returns its slot. */
static int
s_wait_done (gateway_client_t *client, gateway_result_t *result)
{
    for (int i = 0; i < 1000; i++) {
        assert_int_equal (gateway_client_poll (client, NULL, NULL, 0, 20), 0);
        int slot = gateway_client_next_done (client, result);
        if (slot >= 0)
            return slot;
    }
    fail_msg ("no request finished");
    return -1;
}

static gateway_result_t
s_put (gateway_client_t *client, const char *id)
{
    gateway_result_t result;
    assert_int_equal (gateway_client_start_put (client, 0, id, NULL), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    assert_string_equal (s_last_method, "PUT");
    return result;
}

static void
test_results_are_classified_for_retries (void **state)
{
    gateway_client_t *client = s_client (1, 2000);
    assert_int_equal (s_put (client, ID ("200")), GATEWAY_OK);
    assert_int_equal (s_put (client, ID ("404")), GATEWAY_NOT_FOUND);
    assert_int_equal (s_put (client, ID ("422")), GATEWAY_PERMANENT);
    assert_int_equal (s_put (client, ID ("503")), GATEWAY_TRANSIENT);
    assert_non_null (strstr (gateway_client_error (client, 0), "HTTP 503"));
    assert_int_equal (s_put (client, ID ("429")), GATEWAY_TRANSIENT);
    assert_int_equal (s_put (client, ID ("408")), GATEWAY_TRANSIENT);
    assert_int_equal (gateway_client_active (client), 0);
    gateway_client_destroy (&client);
    assert_null (client);
}

static void
test_token_is_sent_on_get_and_put_and_a_refusal_is_transient (void **state)
{
    gateway_client_t *client = s_client (1, 2000);
    assert_int_equal (s_put (client, ID ("200")), GATEWAY_OK);
    assert_string_equal (s_last_auth, "");
    s_assert_fixed_headers (true);
    gateway_result_t result;
    assert_int_equal (gateway_client_start_get (client, 0, ID ("200"), NULL), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    s_assert_fixed_headers (false);
    assert_string_equal (s_last_auth, "");
    /* Without a token a 401 says so. */
    assert_int_equal (s_put (client, ID ("401")), GATEWAY_TRANSIENT);
    assert_non_null (strstr (gateway_client_error (client, 0),
                             "HTTP 401: the gateway refused a request without a token"));

    assert_int_equal (gateway_client_set_token (client, "herald_s3cret"), 0);
    assert_int_equal (s_put (client, ID ("200")), GATEWAY_OK);
    assert_string_equal (s_last_auth, "Bearer herald_s3cret");
    s_assert_fixed_headers (true);
    assert_int_equal (gateway_client_start_get (client, 0, ID ("200"), NULL), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    s_assert_fixed_headers (false);
    assert_int_equal (result, GATEWAY_OK);
    assert_string_equal (s_last_method, "GET");
    assert_string_equal (s_last_auth, "Bearer herald_s3cret");

    assert_int_equal (s_put (client, ID ("401")), GATEWAY_TRANSIENT);
    assert_non_null (strstr (gateway_client_error (client, 0),
                             "HTTP 401: the gateway refused this worker's token"));
    assert_non_null (strstr (gateway_client_error (client, 0), "--gateway-token-file"));
    assert_int_equal (s_put (client, ID ("403")), GATEWAY_TRANSIENT);
    assert_non_null (strstr (gateway_client_error (client, 0), "HTTP 403"));
    /* A token that would break the header is refused. */
    assert_int_equal (gateway_client_set_token (client, "a\r\nX-Evil: 1"), -1);
    assert_int_equal (gateway_client_set_token (client, ""), -1);
    char long_token[GATEWAY_TOKEN_MAX + 2];
    memset (long_token, 'a', sizeof long_token - 1);
    long_token[GATEWAY_TOKEN_MAX + 1] = '\0';
    assert_int_equal (gateway_client_set_token (client, long_token), -1);
    long_token[GATEWAY_TOKEN_MAX] = '\0';
    assert_int_equal (gateway_client_set_token (client, long_token), 0);
    assert_int_equal (s_put (client, ID ("200")), GATEWAY_OK);
    assert_int_equal (strlen (s_last_auth), 7 + GATEWAY_TOKEN_MAX);
    gateway_client_destroy (&client);
}

static void
test_get_reads_status (void **state)
{
    gateway_client_t *client = s_client (1, 2000);
    gateway_result_t result;
    assert_int_equal (gateway_client_start_get (client, 0, ID ("200"), NULL), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    assert_int_equal (result, GATEWAY_OK);
    assert_string_equal (s_last_method, "GET");
    assert_string_equal (gateway_client_status (client, 0), "processed");
    /* A GET 404 is "not found" exactly like a PUT 404: the consumer then
       handles a redelivery as a first delivery. No status is left over. */
    assert_int_equal (gateway_client_start_get (client, 0, ID ("404"), NULL), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    assert_int_equal (result, GATEWAY_NOT_FOUND);
    assert_string_equal (s_last_method, "GET");
    assert_string_equal (gateway_client_status (client, 0), "");
    gateway_client_destroy (&client);
}

static void
test_connection_reused_and_slot_busy_refused (void **state)
{
    gateway_client_t *client = s_client (1, 2000);
    int accepted = atomic_load (&s_accepted);
    for (int i = 0; i < 10; i++)
        assert_int_equal (s_put (client, ID ("200")), GATEWAY_OK);
    assert_int_equal (atomic_load (&s_accepted) - accepted, 1);
    assert_int_equal (gateway_client_start_put (client, 0, ID ("200"), NULL), 0);
    assert_int_equal (gateway_client_start_put (client, 0, ID ("200"), NULL), -1);
    gateway_result_t result;
    assert_int_equal (s_wait_done (client, &result), 0);
    gateway_client_destroy (&client);
}

static void
test_requests_run_concurrently_and_time_out (void **state)
{
    enum { SLOTS = 8 };
    gateway_client_t *client = s_client (SLOTS, 300);
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < SLOTS; i++)
        assert_int_equal (gateway_client_start_put (client, i, ID ("999"), NULL), 0);
    assert_int_equal (gateway_client_active (client), SLOTS);
    bool seen[SLOTS] = { false };
    for (int i = 0; i < SLOTS; i++) {
        gateway_result_t result;
        int slot = s_wait_done (client, &result);
        assert_int_equal (result, GATEWAY_TRANSIENT);
        assert_non_null (strstr (gateway_client_error (client, slot), "timed out"));
        assert_false (seen[slot]);
        seen[slot] = true;
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true (ms < SLOTS * 300); /* in parallel, not one after another */
    gateway_client_destroy (&client);
}

static int s_late_fd;

/* Writes a byte to s_late_fd once the test's poll is under way. */
static void *
s_write_late (void *arg)
{
    (void)arg;
    struct timespec nap = { 0, 50 * 1000000L };
    nanosleep (&nap, NULL);
    if (write (s_late_fd, "x", 1) != 1)
        abort ();
    return NULL;
}

/* The caller's descriptor (the AMQP socket) is watched beside curl's
   sockets: a byte arriving while a request waits for its answer ends the
   wait. Were the descriptor not in the poll, nothing would end it before
   the request's own timeout, 60 s, and ready[1] would be false then. */
static void
test_caller_fd_wakes_the_poll_while_a_request_waits (void **state)
{
    gateway_client_t *client = s_client (1, 60000);
    int pipe_fds[2];
    assert_int_equal (pipe (pipe_fds), 0);
    assert_int_equal (gateway_client_start_put (client, 0, ID ("999"), NULL), 0);
    int fds[2] = { -1, pipe_fds[0] };
    bool ready[2] = { true, true };
    assert_int_equal (gateway_client_poll (client, fds, ready, 2, 0), 0); /* the PUT goes out */
    assert_false (ready[0]);
    assert_false (ready[1]); /* nothing written yet */
    s_late_fd = pipe_fds[1];
    pthread_t writer;
    assert_int_equal (pthread_create (&writer, NULL, s_write_late, NULL), 0);
    /* Waits with no limit of its own: curl's timers only (the request's). */
    while (!ready[1] && gateway_client_active (client) == 1)
        assert_int_equal (gateway_client_poll (client, fds, ready, 2, -1), 0);
    pthread_join (writer, NULL);
    assert_true (ready[1]);
    assert_false (ready[0]);                              /* -1 is never ready */
    assert_int_equal (gateway_client_active (client), 1); /* the request still waits */
    gateway_result_t result;
    assert_int_equal (gateway_client_next_done (client, &result), -1);
    gateway_client_destroy (&client);
    close (pipe_fds[0]);
    close (pipe_fds[1]);
}

/* A gateway that closes or resets the connection instead of answering
   fails the request with that, not with the timeout (curl is told of the
   hang-up). */
static void
test_connection_closed_without_answer_is_transient (void **state)
{
    gateway_client_t *client = s_client (1, 60000);
    gateway_result_t result;
    assert_int_equal (gateway_client_start_put (client, 0, ID ("998"), NULL), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    assert_int_equal (result, GATEWAY_TRANSIENT);
    assert_null (strstr (gateway_client_error (client, 0), "timed out"));
    /* Reset (RST) rather than closed: the same. */
    assert_int_equal (gateway_client_start_put (client, 0, ID ("997"), NULL), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    assert_int_equal (result, GATEWAY_TRANSIENT);
    assert_null (strstr (gateway_client_error (client, 0), "timed out"));
    /* The slot goes on with a new connection. */
    assert_int_equal (s_put (client, ID ("200")), GATEWAY_OK);
    gateway_client_destroy (&client);
}

static void
test_refused_connection_is_transient (void **state)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    assert_int_equal (bind (fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal (getsockname (fd, (struct sockaddr *)&addr, &len), 0);
    close (fd); /* bound once, nobody listens there now */
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", ntohs (addr.sin_port));
    gateway_client_t *client = gateway_client_new (url, 1000, 1);
    assert_non_null (client);
    gateway_result_t result;
    assert_int_equal (gateway_client_start_put (client, 0, ID ("200"), NULL), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    assert_int_equal (result, GATEWAY_TRANSIENT);
    gateway_client_destroy (&client);
    gateway_client_destroy (&client); /* no-op on NULL */
}

static void
test_request_id_is_sent_on_its_request_only (void **state)
{
    gateway_client_t *client = s_client (1, 2000);
    assert_int_equal (gateway_client_set_token (client, "herald_t0ken"), 0);
    gateway_result_t result;
    assert_int_equal (gateway_client_start_put (client, 0, ID ("200"), "req-77:a"), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    assert_string_equal (s_last_rid, "req-77:a");
    assert_string_equal (s_last_ua, "herald-worker");
    assert_string_equal (s_last_auth, "Bearer herald_t0ken"); /* the shared headers too */
    assert_int_equal (gateway_client_start_get (client, 0, ID ("200"), "req-78"), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    assert_string_equal (s_last_method, "GET");
    assert_string_equal (s_last_rid, "req-78");
    assert_string_equal (s_last_ua, "herald-worker");
    /* the next request without one sends none; an invalid one is not sent */
    assert_int_equal (s_put (client, ID ("200")), GATEWAY_OK);
    assert_string_equal (s_last_rid, "");
    assert_int_equal (gateway_client_start_put (client, 0, ID ("200"), "a b\r\nX-Evil: 1"), 0);
    assert_int_equal (s_wait_done (client, &result), 0);
    assert_string_equal (s_last_rid, "");
    gateway_client_destroy (&client);
}

/* Each request's path is the base URL's path, then /events/{id}, however
   the base is written (a trailing slash or not, a scheme or not). */
static void
test_requests_go_to_the_events_path_under_the_base_path (void **state)
{
    const char *bases[] = { "http://127.0.0.1:", "http://127.0.0.1:", "127.0.0.1:",
                            "http://127.0.0.1:", "http://127.0.0.1:" };
    const char *tails[] = { "", "/", "", "/herald/", "/herald" };
    const char *paths[] = { "/events/" ID ("200"), "/events/" ID ("200"), "/events/" ID ("200"),
                            "/herald/events/" ID ("200"), "/herald/events/" ID ("200") };
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        char url[64];
        snprintf (url, sizeof url, "%s%d%s", bases[i], s_port, tails[i]);
        gateway_client_t *client = gateway_client_new (url, 2000, 1);
        assert_non_null (client);
        /* twice: the second request on the slot sets the path again */
        for (int k = 0; k < 2; k++) {
            s_last_path[0] = '\0';
            assert_int_equal (s_put (client, ID ("200")), GATEWAY_OK);
            assert_string_equal (s_last_path, paths[i]);
        }
        gateway_result_t result;
        assert_int_equal (gateway_client_start_get (client, 0, ID ("404"), NULL), 0);
        assert_int_equal (s_wait_done (client, &result), 0);
        assert_int_equal (result, GATEWAY_NOT_FOUND);
        assert_non_null (strstr (s_last_path, "/events/" ID ("404")));
        gateway_client_destroy (&client);
    }
}

/* A base URL libcurl cannot parse fails at once, not at every request. */
static void
test_a_base_url_that_does_not_parse_is_refused (void **state)
{
    assert_null (gateway_client_new ("http://127.0.0.1:99999", 1000, 1)); /* port out of range */
    assert_null (gateway_client_new ("http://exa mple.com", 1000, 1));    /* a space in the host */
    assert_null (gateway_client_new ("", 1000, 1));
    assert_null (gateway_client_new ("htp://127.0.0.1:8000", 1000, 1)); /* not http(s) */
    assert_null (gateway_client_new ("ftp://127.0.0.1:8000", 1000, 1));
    assert_null (gateway_client_new ("http://127.0.0.1:8000/?a=1", 1000, 1));
    assert_null (gateway_client_new ("http://127.0.0.1:8000/#top", 1000, 1));
    gateway_client_t *ok = gateway_client_new ("https://gateway.example:8443/herald", 1000, 1);
    assert_non_null (ok);
    gateway_client_destroy (&ok);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_results_are_classified_for_retries),
        cmocka_unit_test (test_get_reads_status),
        cmocka_unit_test (test_token_is_sent_on_get_and_put_and_a_refusal_is_transient),
        cmocka_unit_test (test_request_id_is_sent_on_its_request_only),
        cmocka_unit_test (test_connection_reused_and_slot_busy_refused),
        cmocka_unit_test (test_requests_run_concurrently_and_time_out),
        cmocka_unit_test (test_refused_connection_is_transient),
        cmocka_unit_test (test_caller_fd_wakes_the_poll_while_a_request_waits),
        cmocka_unit_test (test_connection_closed_without_answer_is_transient),
        cmocka_unit_test (test_requests_go_to_the_events_path_under_the_base_path),
        cmocka_unit_test (test_a_base_url_that_does_not_parse_is_refused),
    };
    return cmocka_run_group_tests (tests, s_setup, NULL);
}
