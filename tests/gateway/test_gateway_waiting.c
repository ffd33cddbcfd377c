/*
 * test_gateway_waiting — requests that wait for the store without their
 * connection suspended (gateway/server.c: a busy loop leaves them in
 * libmicrohttpd's loop and parks them only when it goes idle). The risky
 * case is a client that resets its connection while its request waits so:
 * libmicrohttpd then completes the request while the store still has it,
 * and the gateway must count it, keep it until the store's answer comes
 * and free it then: no use after free (the ASan stage runs this test), no
 * leak, no answer written anywhere, and the gateway serves on.
 *
 * Clients that reset their connections at random moments after their
 * request keep the loop busy; the test runs until the gateway has counted
 * some abandoned requests (herald_http_abandoned_requests_total), so the
 * path is known to have run, or fails after HUNT_MS. The first
 * CREATES_MAX requests are creates (a body uploaded, then the store), the
 * rest gets of an id the store does not hold (the store's 404): nothing
 * drains the store's change feed here, and on a fast machine the hunt
 * took 128,875 creates, past the feed's default bound of 100,000, after
 * which creates are refused (503) and the last check could not create.
 *
 * The window is short: a request waits unparked only until the loop's
 * first pass with nothing to do. With the resetting clients alone, a
 * fresh run (2026-12-06, another test beside it) went 476,933 clients
 * without a hit; so PINGERS threads keep the loop busy as well, each
 * asking GET /ping (answered without the store) on a kept-alive
 * connection, one request after another.
 */
#include "gwclient.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define LEAVERS 4         /* threads of resetting clients */
#define HUNT_MS 60000     /* longest wait for the gateway to count some */
#define ABANDONED_MIN 3   /* abandoned requests to see before stopping */
#define MAX_DELAY_US 800  /* a client resets 0..this long after its request */
#define CREATES_MAX 50000 /* then gets: half the store's default --feed-max */
#define PINGERS 2         /* threads keeping the loop busy with GET /ping */

static gw_t s_gw;
static atomic_bool s_stop;
static atomic_long s_sent;

static int
s_begin (void **state)
{
    gw_init (&s_gw);
    return 0;
}

static int
s_end (void **state)
{
    gw_fini (&s_gw);
    return 0;
}

/* Sleeps under a millisecond, which harness_nap_ms cannot. */
static void
s_sleep_us (long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };
    nanosleep (&ts, NULL);
}

/* One resetting client after another: connect, send a create (or, past
   CREATES_MAX, a get), wait a random moment, close with RST (SO_LINGER 0). */
static void *
s_leaver (void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    static const char body[] =
        "{\"user_id\":\"leaver\",\"description\":\"gone before the answer\"}";
    static const char get[] = "GET /events/5f0c2a7e-8d1b-4c3a-9e6f-1a2b3c4d5e6f HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\n\r\n";
    char create[512];
    int create_len = snprintf (create, sizeof create,
                               "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                               "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                               sizeof body - 1, body);
    while (!atomic_load (&s_stop)) {
        int fd = gw_raw_connect (s_gw.http_port);
        if (fd < 0) {
            harness_nap_ms (1);
            continue;
        }
        bool creates = atomic_load (&s_sent) < CREATES_MAX;
        const char *request = creates ? create : get;
        size_t len = creates ? (size_t)create_len : sizeof get - 1;
        if (write (fd, request, len) == (ssize_t)len)
            atomic_fetch_add (&s_sent, 1);
        s_sleep_us ((long)(rand_r (&seed) % MAX_DELAY_US));
        struct linger reset = { 1, 0 };
        setsockopt (fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        close (fd);
    }
    return NULL;
}

/* GET /ping on one kept-alive connection, one request after another
   (a new connection when the gateway closes it), until s_stop. */
static void *
s_pinger (void *arg)
{
    (void)arg;
    static const char ping[] = "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    char buf[4096];
    int fd = -1;
    while (!atomic_load (&s_stop)) {
        if (fd < 0 && (fd = gw_raw_connect (s_gw.http_port)) < 0) {
            harness_nap_ms (1);
            continue;
        }
        if (write (fd, ping, sizeof ping - 1) != (ssize_t)(sizeof ping - 1)
            || read (fd, buf, sizeof buf) <= 0) {
            close (fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close (fd);
    return NULL;
}

static double
s_metric (const char *name)
{
    gw_resp_t resp = { 0 };
    long code = gw_call (&s_gw, &resp, "GET", "/metrics", NULL, NULL, 0);
    double value = code == 200 ? gw_metric (resp.body, name, (const char *)NULL) : -1;
    gw_resp_clear (&resp);
    assert_int_equal (code, 200);
    return value;
}

static void
test_clients_that_reset_while_the_store_works_are_counted_and_the_gateway_serves_on (void **state)
{
    assert_int_equal (gw_start_all (&s_gw), 0);
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 10000), 0);

    pthread_t threads[LEAVERS], pingers[PINGERS];
    atomic_store (&s_stop, false);
    for (int i = 0; i < PINGERS; i++)
        assert_int_equal (pthread_create (&pingers[i], NULL, s_pinger, NULL), 0);
    for (int i = 0; i < LEAVERS; i++)
        assert_int_equal (pthread_create (&threads[i], NULL, s_leaver, (void *)(uintptr_t)(i + 1)),
                          0);
    int64_t deadline = clock_mono_ms () + HUNT_MS;
    double abandoned = 0;
    while (abandoned < ABANDONED_MIN && clock_mono_ms () < deadline) {
        harness_nap_ms (100);
        abandoned = s_metric ("herald_http_abandoned_requests_total");
    }
    atomic_store (&s_stop, true);
    for (int i = 0; i < LEAVERS; i++)
        pthread_join (threads[i], NULL);
    for (int i = 0; i < PINGERS; i++)
        pthread_join (pingers[i], NULL);
    print_message ("%ld resetting clients, %g requests abandoned while the store had them\n",
                   atomic_load (&s_sent), abandoned);
    if (abandoned < ABANDONED_MIN)
        fail_msg ("the gateway counted %g abandoned requests in %d ms of %ld resetting clients",
                  abandoned, HUNT_MS, atomic_load (&s_sent));

    /* Every request is over: none is counted in flight once the store has
       answered them all, and the gateway answers as before. */
    assert_true (harness_alive (s_gw.gateway));
    deadline = clock_mono_ms () + 5000;
    double inflight = 1;
    while (clock_mono_ms () < deadline
           && (inflight = s_metric ("herald_http_inflight_requests")) > 1)
        harness_nap_ms (20); /* the /metrics request itself is in flight: 1 */
    assert_true (inflight == 1);
    char id[GW_ID_LEN + 1], path[64];
    gw_create (&s_gw, "stayer", "waited for its answer", id);
    snprintf (path, sizeof path, "/events/%s", id);
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (&s_gw, &resp, "GET", path, NULL, NULL, 0), 200);
    gw_assert_event (resp.json, "stayer", "waited for its answer", "pending");
    gw_resp_clear (&resp);
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 5000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_clients_that_reset_while_the_store_works_are_counted_and_the_gateway_serves_on,
            s_begin, s_end),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
