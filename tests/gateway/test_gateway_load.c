/*
 * test_gateway_load — the gateway under many clients and hostile ones:
 * 1,000 creates over 100 parallel connections (curl multi), every one 201
 * with its own id, all listed afterwards; garbage on the HTTP port (random
 * bytes, a huge header line, a request line with no version, NULs, absurd
 * lengths, half-sent requests, connect-and-close storms) after which it
 * still serves; 300 stalled half-sent connections that must not stop 50
 * normal requests; and --idle-timeout closing stalled connections.
 *
 * One store and gateway for the program; the concurrent test runs first
 * so an unfiltered listing holds exactly its events.
 */
#include "gwclient.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define CREATES 1000
#define PARALLEL 100
#define STALLED 200 /* under the default per-client limit (256): one client */
#define NORMAL 50

typedef struct {
    CURL *easy;
    char body[128];
    char reply[4096];
    harness_body_t gathered; /* into reply */
    int index;
} slot_t;

static void
s_slot_start (slot_t *slot, CURLM *multi, struct curl_slist *headers, const gw_t *gw, int index)
{
    char url[128];
    snprintf (url, sizeof url, "%s/events", gw->base_url);
    snprintf (slot->body, sizeof slot->body,
              "{\"user_id\":\"load-%d\",\"description\":\"concurrent create %d\"}", index % 37,
              index);
    slot->gathered = (harness_body_t){ slot->reply, 0, sizeof slot->reply - 1 };
    slot->reply[0] = '\0';
    slot->index = index;
    curl_easy_setopt (slot->easy, CURLOPT_URL, url);
    curl_easy_setopt (slot->easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (slot->easy, CURLOPT_POSTFIELDS, slot->body);
    curl_easy_setopt (slot->easy, CURLOPT_WRITEFUNCTION, harness_body_append);
    curl_easy_setopt (slot->easy, CURLOPT_WRITEDATA, &slot->gathered);
    curl_easy_setopt (slot->easy, CURLOPT_PRIVATE, slot);
    curl_easy_setopt (slot->easy, CURLOPT_TIMEOUT_MS, (long)GW_REQUEST_TIMEOUT_MS);
    curl_easy_setopt (slot->easy, CURLOPT_NOSIGNAL, 1L);
    curl_multi_add_handle (multi, slot->easy);
}

static int
s_cmp_id (const void *a, const void *b)
{
    return strcmp (a, b);
}

/* CREATES creates over PARALLEL connections to gw; asserts each is a 201
   with the event it asked for, ids into ids (sorted, checked distinct). */
static void
s_create_concurrently (const gw_t *gw, char (*ids)[GW_ID_LEN + 1])
{
    static slot_t slots[PARALLEL];
    CURLM *multi = curl_multi_init ();
    curl_multi_setopt (multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)PARALLEL);
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    int started = 0, done = 0, created = 0;
    long connects = 0;
    int64_t start = clock_mono_ms (), deadline = start + 60000;
    for (int i = 0; i < PARALLEL; i++) {
        slots[i].easy = curl_easy_init ();
        s_slot_start (&slots[i], multi, headers, gw, started++);
    }
    while (done < CREATES && clock_mono_ms () < deadline) {
        int running = 0, left = 0;
        curl_multi_perform (multi, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read (multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            slot_t *slot;
            curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
            long code = 0;
            curl_easy_getinfo (msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            long opened = 0;
            curl_easy_getinfo (msg->easy_handle, CURLINFO_NUM_CONNECTS, &opened);
            connects += opened;
            if (msg->data.result != CURLE_OK || code != 201)
                fail_msg ("create %d: curl %d, HTTP %ld, %s", slot->index, msg->data.result, code,
                          slot->reply);
            json_t *ev = json_loads (slot->reply, 0, NULL);
            char user[32], desc[64];
            snprintf (user, sizeof user, "load-%d", slot->index % 37);
            snprintf (desc, sizeof desc, "concurrent create %d", slot->index);
            gw_assert_event (ev, user, desc, "pending");
            snprintf (ids[slot->index], GW_ID_LEN + 1, "%s",
                      json_string_value (json_object_get (ev, "event_id")));
            json_decref (ev);
            created++;
            done++;
            curl_multi_remove_handle (multi, slot->easy);
            if (started < CREATES)
                s_slot_start (slot, multi, headers, gw, started++);
        }
        if (done < CREATES)
            curl_multi_poll (multi, NULL, 0, 100, NULL);
    }
    int64_t took = clock_mono_ms () - start;
    for (int i = 0; i < PARALLEL; i++) {
        curl_multi_remove_handle (multi, slots[i].easy);
        curl_easy_cleanup (slots[i].easy);
    }
    curl_multi_cleanup (multi);
    curl_slist_free_all (headers);
    assert_int_equal (created, CREATES);
    print_message ("%d creates over %d parallel handles, %ld connections, in %lld ms (%.0f/s)\n",
                   CREATES, PARALLEL, connects, (long long)took,
                   CREATES * 1000.0 / (double)(took ? took : 1));
    assert_true (connects >= PARALLEL); /* they really ran side by side */

    qsort (ids, CREATES, GW_ID_LEN + 1, s_cmp_id);
    for (int i = 1; i < CREATES; i++)
        assert_string_not_equal (ids[i - 1], ids[i]);
}

static void
test_1000_concurrent_creates_are_all_stored (void **state)
{
    static char ids[CREATES][GW_ID_LEN + 1], listed[CREATES + 1][GW_ID_LEN + 1];
    s_create_concurrently (gw_shared (), ids);
    assert_int_equal (gw_list_all (gw_shared (), "", 1000, listed[0], CREATES + 1), CREATES);
    qsort (listed, CREATES, GW_ID_LEN + 1, s_cmp_id);
    for (int i = 0; i < CREATES; i++)
        assert_string_equal (listed[i], ids[i]);
}

/* The same through a gateway running two event loops (--threads 2), each
   with its own HTTP daemon and store socket, on the same store. */
static void
test_concurrent_creates_on_two_event_loops (void **state)
{
    enum { LISTED_MAX = 8 * CREATES };
    static char ids[CREATES][GW_ID_LEN + 1], listed[LISTED_MAX][GW_ID_LEN + 1];
    const char *const extra[] = { "--threads", "2", NULL };
    gw_t two;
    assert_int_equal (gw_start_gateway_on (&two, gw_shared (), extra), 0);
    assert_int_equal (gw_wait_readyz (&two, 200, 10000), 0);
    s_create_concurrently (&two, ids);
    size_t n = gw_list_all (&two, "", 1000, listed[0], LISTED_MAX);
    qsort (listed, n, GW_ID_LEN + 1, s_cmp_id);
    for (int i = 0; i < CREATES; i++)
        if (!bsearch (ids[i], listed, n, GW_ID_LEN + 1, s_cmp_id))
            fail_msg ("event %s created through --threads 2 is not listed", ids[i]);
    gw_fini (&two);
}

/* The gateway is alive and answers a normal request correctly. */
static void
s_assert_serving (const char *after)
{
    assert_true (harness_alive (gw_shared ()->gateway));
    gw_resp_t resp = { 0 };
    if (gw_call (gw_shared (), &resp, "GET", "/ping", NULL, NULL, 0) != 200)
        fail_msg ("after %s: GET /ping gave %ld", after, resp.code);
    assert_string_equal (json_string_value (json_object_get (resp.json, "ping")), "pong");
    gw_resp_clear (&resp);
}

/* Sends bytes; if an answer comes within 3 s it must be a client error (or
   505 for an HTTP version the server does not speak). */
static void
s_garbage (const char *name, const void *data, size_t len)
{
    gw_resp_t resp = { 0 };
    if (gw_raw_exchange (gw_shared ()->http_port, data, len, &resp, 3000) == 0
        && (resp.code < 400 || resp.code > 499) && resp.code != 505)
        fail_msg ("%s: answered %ld", name, resp.code);
    gw_resp_clear (&resp);
    s_assert_serving (name);
}

static void
test_garbage_on_the_http_port_leaves_it_serving (void **state)
{
    unsigned seed = 42;
    char noise[4100];
    for (int round = 0; round < 5; round++) {
        for (size_t i = 0; i < 4096; i++)
            noise[i] = (char)(rand_r (&seed) & 0xff);
        memcpy (noise + 4096, "\r\n\r\n", 4);
        s_garbage ("random bytes", noise, sizeof noise);
    }
    size_t big = 256 * 1024;
    char *huge = malloc (big + 64);
    int n = snprintf (huge, 64, "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset (huge + n, 'a', big);
    memcpy (huge + n + big, "\r\n\r\n", 4);
    s_garbage ("huge header line", huge, (size_t)n + big + 4);
    memset (huge, 'A', big);
    s_garbage ("huge request line", huge, big);
    free (huge);
    static const char *const texts[] = {
        "GET /ping\r\n\r\n",
        "GET\r\n\r\n",
        "\r\n\r\n\r\n\r\n",
        "GET /ping HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET /ping HTTP/1.1\r\nno colon here\r\n\r\n",
        "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
        "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
        ("POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
         "chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n"),
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        s_garbage (texts[i], texts[i], strlen (texts[i]));
    const char nul[] = "GET /pi\0ng HTTP/1.1\r\nHost: x\r\n\r\n";
    s_garbage ("NUL in request line", nul, sizeof nul - 1);

    /* half-sent requests, closed by the client */
    const char *half = "POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: 60\r\n\r\n{\"user_id\":\"ha";
    for (size_t cut = 5; cut <= strlen (half); cut += 17) {
        int fd = gw_raw_connect (gw_shared ()->http_port);
        assert_true (fd >= 0);
        assert_true (send (fd, half, cut, MSG_NOSIGNAL) == (ssize_t)cut);
        close (fd);
    }
    s_assert_serving ("half-sent requests");
    /* connect-and-close storm */
    for (int i = 0; i < 200; i++) {
        int fd = gw_raw_connect (gw_shared ()->http_port);
        assert_true (fd >= 0);
        close (fd);
    }
    s_assert_serving ("connect storm");
    char id[GW_ID_LEN + 1];
    gw_create (gw_shared (), "after-garbage", "still storing", id);

    /* libmicrohttpd's notes on what it answered itself go through the
       gateway's log at debug: at the default level none of it was logged */
    char path[700], log[8192];
    snprintf (path, sizeof path, "%s/gateway-%d.log", harness_tmpdir (), gw_shared ()->run);
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    size_t len = fread (log, 1, sizeof log - 1, file);
    fclose (file);
    log[len] = '\0';
    assert_non_null (strstr (log, "INFO herald-gateway: listening on"));
    if (strstr (log, "libmicrohttpd") || strstr (log, "Error processing request"))
        fail_msg ("client errors logged at the default level:\n%s", log);
}

static void
test_stalled_connections_do_not_block_others (void **state)
{
    int fds[STALLED];
    const char *half =
        "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 60\r\n\r\n{\"user_id\":";
    for (int i = 0; i < STALLED; i++) {
        fds[i] = gw_raw_connect (gw_shared ()->http_port);
        assert_true (fds[i] >= 0);
        assert_true (send (fds[i], half, strlen (half), MSG_NOSIGNAL) == (ssize_t)strlen (half));
    }
    gw_t client = { 0 };
    gw_init (&client);
    client.http_port = gw_shared ()->http_port;
    snprintf (client.base_url, sizeof client.base_url, "%s", gw_shared ()->base_url);
    client.fresh = true; /* each request on its own new connection */
    gw_resp_t resp = { 0 };
    int64_t start = clock_mono_ms (), slowest = 0;
    for (int i = 0; i < NORMAL; i++) {
        if (i % 2) {
            if (gw_call (&client, &resp, "GET", "/ping", NULL, NULL, 0) != 200)
                fail_msg ("ping %d with %d stalled connections: %ld", i, STALLED, resp.code);
        } else {
            char body[96];
            snprintf (body, sizeof body, "{\"user_id\":\"beside-stalled\",\"description\":\"%d\"}",
                      i);
            if (gw_json (&client, &resp, "POST", "/events", body) != 201)
                fail_msg ("create %d with %d stalled connections: %ld", i, STALLED, resp.code);
        }
        if (resp.elapsed_ms > slowest)
            slowest = resp.elapsed_ms;
    }
    print_message ("%d requests beside %d stalled connections in %lld ms (slowest %lld ms)\n",
                   NORMAL, STALLED, (long long)(clock_mono_ms () - start), (long long)slowest);
    char ids[NORMAL][GW_ID_LEN + 1];
    assert_int_equal (gw_list_all (&client, "user_id=beside-stalled", 100, ids[0], NORMAL),
                      NORMAL / 2);
    /* the stalled clients were not answered half-way: none got a 2xx */
    for (int i = 0; i < STALLED; i++) {
        char buf[64];
        ssize_t n = recv (fds[i], buf, sizeof buf - 1, MSG_DONTWAIT);
        if (n > 0) {
            buf[n] = '\0';
            assert_null (strstr (buf, " 201 "));
        }
        close (fds[i]);
    }
    gw_resp_clear (&resp);
    gw_fini (&client);
    s_assert_serving ("stalled connections");
}

/* Polls fd until the peer closes it; ms it took, -1 after timeout_ms. */
static int64_t
s_wait_closed (int fd, int timeout_ms)
{
    int64_t start = clock_mono_ms ();
    while (clock_mono_ms () - start < timeout_ms) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        if (poll (&pfd, 1, 50) > 0) {
            char buf[512];
            ssize_t n = recv (fd, buf, sizeof buf, 0);
            if (n <= 0)
                return clock_mono_ms () - start;
        }
    }
    return -1;
}

static void
test_idle_timeout_closes_stalled_connections (void **state)
{
    const char *const extra[] = { "--idle-timeout", "1", NULL };
    gw_t idle;
    assert_int_equal (gw_start_gateway_on (&idle, gw_shared (), extra), 0);
    assert_int_equal (gw_wait_readyz (&idle, 200, 10000), 0);
    int silent = gw_raw_connect (idle.http_port);
    int half = gw_raw_connect (idle.http_port);
    assert_true (silent >= 0 && half >= 0);
    const char *part = "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    assert_true (send (half, part, strlen (part), MSG_NOSIGNAL) == (ssize_t)strlen (part));
    int64_t closed_silent = s_wait_closed (silent, 10000);
    int64_t closed_half = s_wait_closed (half, 10000);
    print_message ("idle timeout 1 s: closed after %lld and %lld ms\n", (long long)closed_silent,
                   (long long)closed_half);
    assert_true (closed_silent >= 0 && closed_half >= 0);
    close (silent);
    close (half);
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (&idle, &resp, "GET", "/ping", NULL, NULL, 0), 200);
    gw_resp_clear (&resp);
    gw_fini (&idle);
}

/* --max-connections bounds what idle clients can hold: at the limit an
   extra connection is refused or left waiting unserved; once one closes,
   clients are served again. */
static void
test_connection_limit_refuses_extra_connections (void **state)
{
    enum { LIMIT = 4 };
    const char *const extra[] = { "--max-connections", "4", NULL };
    gw_t lim;
    assert_int_equal (gw_start_gateway_on (&lim, gw_shared (), extra), 0);
    int fds[LIMIT];
    for (int i = 0; i < LIMIT; i++) {
        fds[i] = gw_raw_connect (lim.http_port);
        assert_true (fds[i] >= 0);
    }
    /* give the gateway time to accept all four (bounded poll on a probe) */
    int64_t until = clock_mono_ms () + 5000;
    int over = gw_raw_connect (lim.http_port);
    assert_true (over >= 0);
    const char *ping = "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    assert_true (send (over, ping, strlen (ping), MSG_NOSIGNAL) == (ssize_t)strlen (ping));
    bool refused = false;
    while (clock_mono_ms () < until - 4000) {
        struct pollfd pfd = { over, POLLIN, 0 };
        if (poll (&pfd, 1, 50) > 0) {
            char buf[256];
            ssize_t n = recv (over, buf, sizeof buf - 1, 0);
            if (n > 0) {
                buf[n] = '\0';
                fail_msg ("a connection over --max-connections was served: %s", buf);
            }
            refused = true;
            break;
        }
    }
    for (int i = 0; i < LIMIT; i++)
        close (fds[i]);
    if (refused)
        close (over);
    else {
        /* it waited in the backlog: a freed slot now serves it */
        struct pollfd pfd = { over, POLLIN, 0 };
        assert_true (poll (&pfd, 1, 5000) > 0);
        char buf[256];
        ssize_t n = recv (over, buf, sizeof buf - 1, 0);
        assert_true (n > 0);
        buf[n] = '\0';
        assert_non_null (strstr (buf, " 200 "));
        close (over);
    }
    print_message ("connection over the limit was %s\n",
                   refused ? "refused" : "held unserved until a slot freed");
    gw_resp_t resp = { 0 };
    int64_t deadline = clock_mono_ms () + 5000;
    while (gw_call (&lim, &resp, "GET", "/ping", NULL, NULL, 0) != 200
           && clock_mono_ms () < deadline)
        ;
    assert_int_equal (resp.code, 200);
    gw_resp_clear (&resp);
    gw_fini (&lim);
}

/* Two gateways on one port (SO_REUSEPORT): SIGKILL one, the other serves. */
static void
test_two_gateways_share_a_port_and_survive_one_killed (void **state)
{
    gw_t a, b;
    assert_int_equal (gw_start_gateway_on (&a, gw_shared (), NULL), 0);
    b = a;
    b.gateway = 0;
    b.curl = NULL;
    gw_init (&b);
    b.http_port = a.http_port;
    snprintf (b.base_url, sizeof b.base_url, "%s", a.base_url);
    snprintf (b.store_ep, sizeof b.store_ep, "%s", gw_shared ()->store_ep);
    assert_int_equal (gw_start_gateway (&b, NULL), 0);
    /* the port already accepts (a): wait until b has bound it too, seen
       as b's line in its log (ports are fresh, so the line is b's) */
    char log[700];
    snprintf (log, sizeof log, "%s/gateway-%d.log", harness_tmpdir (), b.run);
    char needle[64];
    snprintf (needle, sizeof needle, "listening on http://127.0.0.1:%d", b.http_port);
    assert_true (harness_wait_lines (log, needle, 1, 10000) >= 1);
    kill (a.gateway, SIGKILL);
    waitpid (a.gateway, NULL, 0);
    a.gateway = 0;
    b.fresh = true; /* new connections land on the survivor */
    gw_resp_t resp = { 0 };
    for (int i = 0; i < 20; i++)
        assert_int_equal (gw_call (&b, &resp, "GET", "/readyz", NULL, NULL, 0), 200);
    gw_resp_clear (&resp);
    gw_fini (&a);
    gw_fini (&b);
}

/* Sends a ping on fd and reads its status; 0 if none came within 5 s. */
static long
s_ping_on (int fd)
{
    const char *ping = "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (send (fd, ping, strlen (ping), MSG_NOSIGNAL) != (ssize_t)strlen (ping))
        return 0;
    return gw_read_head (fd, 5000, NULL, 0);
}

/* --max-connections-per-client: one client address holds at most its share;
   its next connection is refused, while another client is still served. */
static void
test_one_client_cannot_take_every_connection (void **state)
{
    enum { PER_CLIENT = 4 };
    const char *const extra[] = { "--max-connections", "16", "--max-connections-per-client", "4",
                                  NULL };
    gw_t lim;
    assert_int_equal (gw_start_gateway_on (&lim, gw_shared (), extra), 0);
    int fds[PER_CLIENT];
    for (int i = 0; i < PER_CLIENT; i++) {
        fds[i] = gw_raw_connect_from (lim.http_port, "127.0.0.2");
        assert_true (fds[i] >= 0);
        assert_int_equal (s_ping_on (fds[i]), 200); /* served, and kept open */
    }
    int over = gw_raw_connect_from (lim.http_port, "127.0.0.2");
    assert_true (over >= 0);
    assert_int_equal (s_ping_on (over), 0); /* refused: closed unanswered */
    assert_true (s_wait_closed (over, 5000) >= 0 || errno == ECONNRESET);
    close (over);
    int other = gw_raw_connect_from (lim.http_port, "127.0.0.3");
    assert_true (other >= 0);
    assert_int_equal (s_ping_on (other), 200); /* another client is served */
    close (other);
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (&lim, &resp, "GET", "/metrics", NULL, NULL, 0), 200);
    assert_true (gw_metric (resp.body, "herald_http_refused_connections_total", NULL) >= 1);
    /* a slot freed is the client's again */
    close (fds[0]);
    int64_t until = clock_mono_ms () + 5000;
    long code = 0;
    while (code != 200 && clock_mono_ms () < until) {
        int again = gw_raw_connect_from (lim.http_port, "127.0.0.2");
        code = again >= 0 ? s_ping_on (again) : 0;
        if (again >= 0)
            close (again);
    }
    assert_int_equal (code, 200);
    for (int i = 1; i < PER_CLIENT; i++)
        close (fds[i]);
    gw_resp_clear (&resp);
    gw_fini (&lim);
}

/* --request-timeout: clients that trickle a request one byte at a time
   (never idle, so the idle timeout never fires) are disconnected at the
   request deadline, while a normal client is served meanwhile. */
static void
test_slow_clients_are_cut_at_the_request_deadline (void **state)
{
    enum { SLOW = 5 };
    const char *const extra[] = { "--request-timeout", "2", "--idle-timeout", "120", NULL };
    gw_t gw;
    assert_int_equal (gw_start_gateway_on (&gw, gw_shared (), extra), 0);
    static const char request[] = "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n";
    int fds[SLOW];
    int64_t closed[SLOW];
    size_t sent[SLOW];
    for (int i = 0; i < SLOW; i++) {
        fds[i] = gw_raw_connect_from (gw.http_port, "127.0.0.2");
        assert_true (fds[i] >= 0);
        closed[i] = -1;
        sent[i] = 0;
    }
    gw_resp_t resp = { 0 };
    int64_t start = clock_mono_ms (), served = 0;
    int open = SLOW;
    while (open > 0 && clock_mono_ms () - start < 20000) {
        for (int i = 0; i < SLOW; i++) {
            if (closed[i] >= 0)
                continue;
            /* one byte of the head, then of the body: never complete */
            char byte = sent[i] < sizeof request - 1 ? request[sent[i]] : 'x';
            char buf[256];
            ssize_t n = recv (fds[i], buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                || send (fds[i], &byte, 1, MSG_NOSIGNAL) != 1) {
                closed[i] = clock_mono_ms () - start;
                open--;
                continue;
            }
            if (n > 0)
                fail_msg ("a slow client got an answer before its request was complete");
            sent[i]++;
        }
        /* the normal client meanwhile */
        if (gw_call (&gw, &resp, "GET", "/ping", NULL, NULL, 0) == 200)
            served++;
        harness_nap_ms (200);
    }
    for (int i = 0; i < SLOW; i++) {
        print_message ("slow client %d: %zu bytes sent, cut after %lld ms\n", i, sent[i],
                       (long long)closed[i]);
        if (closed[i] < 0)
            fail_msg ("slow client %d still connected after 20 s (--request-timeout 2)", i);
        close (fds[i]);
    }
    assert_true (served > 0);
    assert_int_equal (gw_call (&gw, &resp, "GET", "/metrics", NULL, NULL, 0), 200);
    assert_true (gw_metric (resp.body, "herald_http_cut_connections_total", NULL) >= SLOW);
    /* a keep-alive client pausing between requests is not cut mid-request */
    int keep = gw_raw_connect (gw.http_port);
    assert_true (keep >= 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_ping_on (keep), 200);
        harness_nap_ms (500);
    }
    close (keep);
    gw_resp_clear (&resp);
    gw_fini (&gw);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_1000_concurrent_creates_are_all_stored),
        cmocka_unit_test (test_concurrent_creates_on_two_event_loops),
        cmocka_unit_test (test_garbage_on_the_http_port_leaves_it_serving),
        cmocka_unit_test (test_stalled_connections_do_not_block_others),
        cmocka_unit_test (test_idle_timeout_closes_stalled_connections),
        cmocka_unit_test (test_connection_limit_refuses_extra_connections),
        cmocka_unit_test (test_one_client_cannot_take_every_connection),
        cmocka_unit_test (test_slow_clients_are_cut_at_the_request_deadline),
        cmocka_unit_test (test_two_gateways_share_a_port_and_survive_one_killed),
    };
    int rc = cmocka_run_group_tests (tests, gw_shared_setup, gw_shared_teardown);
    curl_global_cleanup ();
    return rc;
}
