/* test_metrics_http — the metrics endpoint (common/metrics_http.h) and the
   exposition writer (common/prom.h): a scrape gets what the loop renders,
   rendered on the loop's thread and fresh for every scrape; a loop that
   does not serve makes the scrape 503 after the wait, not hang; other
   paths 404, other methods 405; protected mode refuses a non-loopback
   address unless insecure; histograms are cumulative with _count equal to
   the +Inf bucket and durations in seconds. */
#define _GNU_SOURCE
#include "metrics_http.h"
#include "prom.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    metrics_http_t *http;
    pthread_t loop;
    atomic_bool stop;
    atomic_bool serving; /* false: the loop polls but never serves */
    atomic_bool paused;  /* the loop saw serving false and will not serve */
    pthread_t render_thread;
    int renders;
} s_fixture_t;

static char *
s_render (void *arg, size_t *len)
{
    s_fixture_t *self = arg;
    self->render_thread = pthread_self ();
    self->renders++;
    char *text = NULL;
    if (asprintf (&text, "# HELP t_renders Renders.\n# TYPE t_renders counter\nt_renders %d\n",
                  self->renders)
        < 0)
        return NULL;
    *len = strlen (text);
    return text;
}

/* The service's loop: polls the fd, serves when readable. */
static void *
s_loop (void *arg)
{
    s_fixture_t *self = arg;
    struct pollfd pfd = { .fd = metrics_http_fd (self->http), .events = POLLIN };
    while (!atomic_load (&self->stop)) {
        bool serving = atomic_load (&self->serving);
        atomic_store (&self->paused, !serving);
        if (serving && poll (&pfd, 1, 20) > 0)
            metrics_http_serve (self->http);
        else if (!serving)
            usleep (20000);
    }
    return NULL;
}

static int
s_setup (void **state)
{
    s_fixture_t *self = calloc (1, sizeof *self);
    self->http = metrics_http_new ("127.0.0.1:0", false, s_render, self);
    if (!self->http)
        return -1;
    atomic_store (&self->serving, true);
    pthread_create (&self->loop, NULL, s_loop, self);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = *state;
    atomic_store (&self->stop, true);
    pthread_join (self->loop, NULL);
    metrics_http_destroy (&self->http);
    assert_null (self->http);
    free (self);
    return 0;
}

/* One HTTP/1.0 request; returns the whole response (caller frees). */
static char *
s_request (uint16_t port, const char *method, const char *path)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (connect (fd, (struct sockaddr *)&addr, sizeof addr), 0);
    char req[256];
    int n = snprintf (req, sizeof req, "%s %s HTTP/1.0\r\nHost: x\r\n\r\n", method, path);
    assert_int_equal (write (fd, req, (size_t)n), n);
    size_t cap = 65536, len = 0;
    char *resp = malloc (cap);
    ssize_t got;
    while ((got = read (fd, resp + len, cap - 1 - len)) > 0)
        len += (size_t)got;
    resp[len] = '\0';
    close (fd);
    return resp;
}

static void
test_scrape_gets_a_fresh_render_made_on_the_loop_thread (void **state)
{
    s_fixture_t *self = *state;
    uint16_t port = metrics_http_port (self->http);
    assert_true (port > 0);
    char *resp = s_request (port, "GET", "/metrics");
    assert_non_null (strstr (resp, "HTTP/1.0 200") ? resp : strstr (resp, "HTTP/1.1 200"));
    assert_non_null (strstr (resp, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null (strstr (resp, "\r\n\r\n# HELP t_renders Renders.\n"));
    assert_non_null (strstr (resp, "t_renders 1\n"));
    assert_true (pthread_equal (self->render_thread, self->loop));
    free (resp);
    resp = s_request (port, "GET", "/metrics/");
    assert_non_null (strstr (resp, "t_renders 2\n"));
    free (resp);
}

static void
test_other_paths_are_404_and_other_methods_405 (void **state)
{
    s_fixture_t *self = *state;
    uint16_t port = metrics_http_port (self->http);
    char *resp = s_request (port, "GET", "/");
    assert_non_null (strstr (resp, " 404 "));
    free (resp);
    resp = s_request (port, "POST", "/metrics");
    assert_non_null (strstr (resp, " 405 "));
    assert_non_null (strstr (resp, "Allow: GET, HEAD"));
    free (resp);
    assert_int_equal (self->renders, 0);
}

static void
test_a_loop_that_does_not_serve_makes_the_scrape_503_not_hang (void **state)
{
    s_fixture_t *self = *state;
    atomic_store (&self->serving, false);
    while (!atomic_load (&self->paused))
        usleep (1000);
    char *resp = s_request (metrics_http_port (self->http), "GET", "/metrics");
    assert_non_null (strstr (resp, " 503 "));
    free (resp);
    assert_int_equal (self->renders, 0);
    /* Serving again: the next scrape is answered (the stale ring too). */
    atomic_store (&self->serving, true);
    resp = s_request (metrics_http_port (self->http), "GET", "/metrics");
    assert_non_null (strstr (resp, " 200 "));
    free (resp);
}

static void
test_protected_mode_refuses_a_non_loopback_address_unless_insecure (void **state)
{
    (void)state;
    assert_null (metrics_http_new ("0.0.0.0:0", false, s_render, NULL));
    assert_null (metrics_http_new ("not-an-address", false, s_render, NULL));
    metrics_http_t *http = metrics_http_new ("0.0.0.0:0", true, s_render, NULL);
    assert_non_null (http);
    metrics_http_destroy (&http);
    http = metrics_http_new ("[::1]:0", false, s_render, NULL);
    if (http) /* a machine without IPv6 loopback cannot bind it */
        metrics_http_destroy (&http);
}

static void
test_histogram_is_cumulative_in_seconds (void **state)
{
    (void)state;
    prom_histogram_t h = { 0 };
    prom_observe_us (&h, 5);       /* le 1e-05 */
    prom_observe_us (&h, 10);      /* le 1e-05: bounds are inclusive */
    prom_observe_us (&h, 11);      /* le 2.5e-05 */
    prom_observe_us (&h, -3);      /* counts as 0 */
    prom_observe_us (&h, 9000000); /* past the last bound: +Inf only */
    assert_int_equal (prom_histogram_count (&h), 5);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    prom_histogram_write (out, "t_seconds", "op=\"get\"", &h);
    prom_histogram_write (out, "u_seconds", NULL, &h);
    fclose (out);
    assert_non_null (strstr (text, "t_seconds_bucket{op=\"get\",le=\"1e-05\"} 3\n"));
    assert_non_null (strstr (text, "t_seconds_bucket{op=\"get\",le=\"2.5e-05\"} 4\n"));
    assert_non_null (strstr (text, "t_seconds_bucket{op=\"get\",le=\"5\"} 4\n"));
    assert_non_null (strstr (text, "t_seconds_bucket{op=\"get\",le=\"+Inf\"} 5\n"));
    assert_non_null (strstr (text, "t_seconds_sum{op=\"get\"} 9.000026\n"));
    assert_non_null (strstr (text, "t_seconds_count{op=\"get\"} 5\n"));
    assert_non_null (strstr (text, "u_seconds_bucket{le=\"+Inf\"} 5\n"));
    assert_non_null (strstr (text, "u_seconds_count 5\n"));
    free (text);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_scrape_gets_a_fresh_render_made_on_the_loop_thread,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_other_paths_are_404_and_other_methods_405, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (
            test_a_loop_that_does_not_serve_makes_the_scrape_503_not_hang, s_setup, s_teardown),
        cmocka_unit_test (test_protected_mode_refuses_a_non_loopback_address_unless_insecure),
        cmocka_unit_test (test_histogram_is_cumulative_in_seconds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
