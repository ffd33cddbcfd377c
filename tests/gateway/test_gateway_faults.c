/*
 * test_gateway_faults — the gateway when its store misbehaves, and its own
 * lifecycle: 503 fast while no store runs (and recovery when one appears,
 * 503 again when it dies), 504 when the store is frozen mid-request (the
 * store's late reply must not be handed to a later request), 503 when the
 * store's notification backlog is full (and nothing stored), 500 or 504 when
 * what answers on the store endpoint sends replies the gateway cannot use
 * (a fake store in a thread of this test: an error status no gateway request
 * should cause, an undecodable reply, garbage, a reply to a request never
 * sent) and a normal answer right after, --check, and a prompt exit 0 on
 * SIGTERM even with idle, half-sent and in-flight requests open.
 *
 * Each test starts its own store and gateway on fresh ports.
 */
#define _GNU_SOURCE /* strcasestr */
#include "gwclient.h"
#include "proto.h"

#include <msgpack.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <zmq.h>

#define FAST_MS 1000   /* "well under" the 2 s default store timeout */
#define TIMEOUT_MS 500 /* --timeout-ms for the 504 test */

static gw_t s_gw;

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

/* Waits up to timeout_ms for pid to exit; its waitpid status, -1 on
   timeout (the process is then still running). */
static int
s_wait_exit (pid_t pid, int timeout_ms)
{
    int64_t deadline = clock_mono_ms () + timeout_ms;
    int status;
    do {
        if (waitpid (pid, &status, WNOHANG) == pid)
            return status;
        harness_nap_ms (10);
    } while (clock_mono_ms () < deadline);
    return -1;
}

/* Every store-backed route answers 503 Store unavailable, fast. */
static void
s_assert_all_503_fast (void)
{
    gw_resp_t resp = { 0 };
    static const struct {
        const char *method, *path, *body;
    } cases[] = {
        { "POST", "/events", "{\"user_id\":\"u\",\"description\":\"d\"}" },
        { "GET", "/events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a2", NULL },
        { "PUT", "/events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a2", "{\"status\":\"x\"}" },
        { "GET", "/events", NULL },
        { "GET", "/readyz", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gw_json (&s_gw, &resp, cases[i].method, cases[i].path, cases[i].body);
        gw_assert_detail (&resp, 503, "Store unavailable");
        if (resp.elapsed_ms >= FAST_MS)
            fail_msg ("%s %s took %lld ms for its 503", cases[i].method, cases[i].path,
                      (long long)resp.elapsed_ms);
    }
    assert_int_equal (gw_call (&s_gw, &resp, "GET", "/healthz", NULL, NULL, 0), 200);
    assert_int_equal (gw_call (&s_gw, &resp, "GET", "/ping", NULL, NULL, 0), 200);
    assert_int_equal (gw_call (&s_gw, &resp, "GET", "/metrics", NULL, NULL, 0), 200);
    assert_true (gw_metric (resp.body, "herald_store_up", NULL) == 0);
    gw_resp_clear (&resp);
}

static void
test_no_store_is_503_fast_and_recovers (void **state)
{
    assert_int_equal (gw_start_gateway (&s_gw, NULL), 0);
    s_assert_all_503_fast ();

    /* a store appears on the configured endpoint: the gateway uses it */
    assert_int_equal (gw_start_store (&s_gw, NULL), 0);
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 10000), 0);
    char id[GW_ID_LEN + 1];
    gw_create (&s_gw, "back", "store is back", id);

    /* the store dies: 503 again, fast, once the gateway has noticed */
    kill (s_gw.store, SIGKILL);
    assert_true (s_wait_exit (s_gw.store, 5000) != -1);
    s_gw.store = 0;
    assert_int_equal (gw_wait_readyz (&s_gw, 503, 10000), 0);
    s_assert_all_503_fast ();
    assert_true (harness_alive (s_gw.gateway));
}

static void
test_frozen_store_is_504_and_late_reply_is_dropped (void **state)
{
    char timeout[16];
    snprintf (timeout, sizeof timeout, "%d", TIMEOUT_MS);
    const char *const extra[] = { "--timeout-ms", timeout, NULL };
    assert_int_equal (gw_start_store (&s_gw, NULL), 0);
    assert_int_equal (gw_start_gateway (&s_gw, extra), 0);
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 10000), 0);
    char a[GW_ID_LEN + 1], path_a[64];
    gw_create (&s_gw, "before", "made before the freeze", a);
    snprintf (path_a, sizeof path_a, "/events/%s", a);

    assert_int_equal (kill (s_gw.store, SIGSTOP), 0);
    gw_resp_t resp = { 0 };
    gw_json (&s_gw, &resp, "POST", "/events", "{\"user_id\":\"late\",\"description\":\"frozen\"}");
    gw_assert_detail (&resp, 504, "Store did not answer in time");
    print_message ("504 after %lld ms (--timeout-ms %d)\n", (long long)resp.elapsed_ms, TIMEOUT_MS);
    if (resp.elapsed_ms < TIMEOUT_MS - 100 || resp.elapsed_ms > TIMEOUT_MS + 1500)
        fail_msg ("504 after %lld ms with --timeout-ms %d", (long long)resp.elapsed_ms, TIMEOUT_MS);
    gw_json (&s_gw, &resp, "PUT", path_a, "{\"description\":\"frozen put\"}");
    gw_assert_detail (&resp, 504, "Store did not answer in time");
    gw_call (&s_gw, &resp, "GET", "/events?user_id=before", NULL, NULL, 0);
    gw_assert_detail (&resp, 504, "Store did not answer in time");
    assert_int_equal (gw_call (&s_gw, &resp, "GET", "/healthz", NULL, NULL, 0), 200);

    /* the store wakes up and answers all three, too late: the gateway must
       count and drop those replies, and later requests get their own */
    assert_int_equal (kill (s_gw.store, SIGCONT), 0);
    int64_t deadline = clock_mono_ms () + 10000;
    double late = 0;
    while (late < 3 && clock_mono_ms () < deadline) {
        assert_int_equal (gw_call (&s_gw, &resp, "GET", "/metrics", NULL, NULL, 0), 200);
        late = gw_metric (resp.body, "herald_store_late_replies_total", NULL);
        if (late < 3)
            harness_nap_ms (20);
    }
    if (late < 3)
        fail_msg ("herald_store_late_replies_total is %g after 3 timed-out requests", late);

    for (int i = 0; i < 5; i++) {
        assert_int_equal (gw_call (&s_gw, &resp, "GET", path_a, NULL, NULL, 0), 200);
        assert_string_equal (json_string_value (json_object_get (resp.json, "event_id")), a);
        char b[GW_ID_LEN + 1], user[32];
        snprintf (user, sizeof user, "after-%d", i);
        gw_create (&s_gw, user, "made after the thaw", b);
        assert_string_not_equal (a, b);
        assert_int_equal (gw_call (&s_gw, &resp, "GET", "/events?user_id=before", NULL, NULL, 0),
                          200);
        json_t *items = json_object_get (resp.json, "items");
        assert_int_equal (json_array_size (items), 1);
        assert_string_equal (
            json_string_value (json_object_get (json_array_get (items, 0), "event_id")), a);
    }
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 5000), 0);
    gw_resp_clear (&resp);
}

static void
test_full_backlog_is_503_for_creates_and_stores_nothing (void **state)
{
    const char *const extra[] = { "--feed-max", "3", NULL };
    assert_int_equal (gw_start_store (&s_gw, extra), 0);
    assert_int_equal (gw_start_gateway (&s_gw, NULL), 0);
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 10000), 0);
    char ids[3][GW_ID_LEN + 1];
    for (int i = 0; i < 3; i++)
        gw_create (&s_gw, "backlog", "fills the feed", ids[i]);
    gw_resp_t resp = { 0 };
    gw_json (&s_gw, &resp, "POST", "/events", "{\"user_id\":\"backlog\",\"description\":\"4th\"}");
    gw_assert_detail (&resp, 503, "Notification backlog full, try again later");
    /* reads still work and show nothing was stored */
    char path[64];
    snprintf (path, sizeof path, "/events/%s", ids[0]);
    assert_int_equal (gw_call (&s_gw, &resp, "GET", path, NULL, NULL, 0), 200);
    gw_assert_event (resp.json, "backlog", "fills the feed", "pending");
    char listed[8][GW_ID_LEN + 1];
    assert_int_equal (gw_list_all (&s_gw, "user_id=backlog", 100, listed[0], 8), 3);
    /* a worker's `processed` still gets through: updates have a headroom
       past the bound that creates never take (store/feed.h) */
    gw_json (&s_gw, &resp, "PUT", path, "{\"status\":\"processed\"}");
    assert_int_equal (resp.code, 200);
    gw_assert_event (resp.json, "backlog", "fills the feed", "processed");
    gw_json (&s_gw, &resp, "POST", "/events", "{\"user_id\":\"backlog\",\"description\":\"5th\"}");
    gw_assert_detail (&resp, 503, "Notification backlog full, try again later");
    assert_int_equal (gw_list_all (&s_gw, "user_id=backlog", 100, listed[0], 8), 3);
    assert_int_equal (gw_call (&s_gw, &resp, "GET", "/readyz", NULL, NULL, 0), 200);
    gw_resp_clear (&resp);
}

static void
test_full_store_is_503_on_create_only (void **state)
{
    const char *const extra[] = { "--max-events", "2", NULL };
    assert_int_equal (gw_start_store (&s_gw, extra), 0);
    assert_int_equal (gw_start_gateway (&s_gw, NULL), 0);
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 10000), 0);
    char ids[2][GW_ID_LEN + 1];
    for (int i = 0; i < 2; i++)
        gw_create (&s_gw, "capped", "within the cap", ids[i]);
    gw_resp_t resp = { 0 };
    gw_json (&s_gw, &resp, "POST", "/events", "{\"user_id\":\"capped\",\"description\":\"3rd\"}");
    gw_assert_detail (&resp, 503,
                      "Store is full, no new events accepted: store is full (2 events, max-events "
                      "2): create refused");
    /* updates and reads go on */
    char path[64];
    snprintf (path, sizeof path, "/events/%s", ids[0]);
    gw_json (&s_gw, &resp, "PUT", path, "{\"status\":\"processed\"}");
    assert_int_equal (resp.code, 200);
    char listed[8][GW_ID_LEN + 1];
    assert_int_equal (gw_list_all (&s_gw, "user_id=capped", 100, listed[0], 8), 2);
    gw_resp_clear (&resp);
}

static long
s_read_status (int fd, int timeout_ms)
{
    return gw_read_head (fd, timeout_ms, NULL, 0);
}

static void
test_inflight_limit_is_503_fast (void **state)
{
    const char *const extra[] = { "--max-inflight", "2", "--timeout-ms", "6000", NULL };
    assert_int_equal (gw_start_store (&s_gw, NULL), 0);
    assert_int_equal (gw_start_gateway (&s_gw, extra), 0);
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 10000), 0);
    /* two requests held in flight by a frozen store fill the window ... */
    kill (s_gw.store, SIGSTOP);
    int fds[2];
    const char *get = "GET /events?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for (int i = 0; i < 2; i++) {
        fds[i] = gw_raw_connect (s_gw.http_port);
        assert_true (fds[i] >= 0);
        assert_int_equal (send (fds[i], get, strlen (get), MSG_NOSIGNAL), (ssize_t)strlen (get));
    }
    /* ... once both have arrived ("received and not yet answered" counts
       the scrape itself too) ... */
    gw_resp_t resp = { 0 };
    int64_t deadline = clock_mono_ms () + 4000;
    double held = 0;
    while (held < 3 && clock_mono_ms () < deadline) {
        assert_int_equal (gw_call (&s_gw, &resp, "GET", "/metrics", NULL, NULL, 0), 200);
        held = gw_metric (resp.body, "herald_http_inflight_requests", NULL);
    }
    assert_true (held >= 3);
    /* ... so a third store request is refused at once */
    gw_call (&s_gw, &resp, "GET", "/events?limit=1", NULL, NULL, 0);
    assert_int_equal (resp.code, 503);
    assert_non_null (json_string_value (json_object_get (resp.json, "detail")));
    if (resp.elapsed_ms >= FAST_MS)
        fail_msg ("503 over the in-flight limit took %lld ms", (long long)resp.elapsed_ms);
    /* the store thaws: the two held requests are answered, then all is normal */
    kill (s_gw.store, SIGCONT);
    for (int i = 0; i < 2; i++) {
        long code = s_read_status (fds[i], 5000);
        if (code != 200 && code != 504)
            fail_msg ("held request %d answered %ld", i, code);
        close (fds[i]);
    }
    char id[GW_ID_LEN + 1];
    gw_create (&s_gw, "inflight", "after the window freed", id);
    gw_resp_clear (&resp);
}

/* ---- A misbehaving store ------------------------------------------------
 * A ROUTER in a thread of this test, bound where herald-store would be,
 * answers pings normally (so /readyz says ready) and every other request
 * with the next reply of its script. */

typedef enum {
    S_REPLY_MALFORMED,      /* a well-formed error reply, status "malformed" */
    S_REPLY_UNKNOWN_STATUS, /* v and rid right, a status no protocol version has */
    S_REPLY_GARBAGE,        /* not MessagePack at all: no rid to route by */
    S_REPLY_OTHER_RID,      /* a well-formed reply to a request never sent */
    S_REPLY_EVENT,          /* a correct answer: the requested event */
} s_reply_t;

typedef struct {
    const char *endpoint;
    const s_reply_t *script;
    size_t n;
    atomic_size_t answered; /* script replies sent */
    atomic_bool stop;
    char error[256]; /* set when the fake itself failed */
} s_fake_store_t;

/* Encodes the reply of the given kind to req into out; 0 or -1. */
static int
s_fake_reply (s_reply_t kind, const proto_request_t *req, msgpack_sbuffer *out)
{
    static const char garbage[] = "\\xc1\\xc1 not MessagePack";
    proto_reply_t reply = { .op = req->op, .rid = req->rid, .status = PROTO_OK };
    msgpack_packer pk;
    switch (kind) {
    case S_REPLY_MALFORMED:
        return proto_reply_encode_error (req->op, req->rid, PROTO_E_MALFORMED,
                                         "request is not a map", NULL, out);
    case S_REPLY_UNKNOWN_STATUS:
        msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
        return msgpack_pack_map (&pk, 3) | msgpack_pack_str_with_body (&pk, "v", 1)
               | msgpack_pack_uint8 (&pk, PROTO_VERSION)
               | msgpack_pack_str_with_body (&pk, "rid", 3) | msgpack_pack_uint64 (&pk, req->rid)
               | msgpack_pack_str_with_body (&pk, "status", 6)
               | msgpack_pack_str_with_body (&pk, "bogus", 5);
    case S_REPLY_GARBAGE:
        return msgpack_sbuffer_write (out, garbage, sizeof garbage - 1);
    case S_REPLY_OTHER_RID:
        return proto_reply_encode_error (req->op, req->rid + 1000000, PROTO_E_NOT_FOUND,
                                         "Event not found", NULL, out);
    case S_REPLY_EVENT:
        memcpy (reply.event.id, req->event_id, sizeof reply.event.id);
        reply.event.user_id = PROTO_STR ("u-fake");
        reply.event.description = PROTO_STR ("from the fake store");
        reply.event.status = PROTO_STR ("pending");
        reply.event.created_at = reply.event.updated_at = 1764000000000;
        reply.event.seq = 1;
        return proto_reply_encode (&reply, out);
    }
    return -1;
}

/* Receives one [identity, request] message and answers it; 0, or -1 with
   fake->error set. */
static int
s_fake_serve_one (s_fake_store_t *fake, void *router, msgpack_sbuffer *out)
{
    zmq_msg_t identity, frame;
    zmq_msg_init (&identity);
    zmq_msg_init (&frame);
    int rc = -1;
    if (zmq_msg_recv (&identity, router, 0) < 0 || !zmq_msg_more (&identity)
        || zmq_msg_recv (&frame, router, 0) < 0) {
        snprintf (fake->error, sizeof fake->error, "fake store: bad request envelope");
        goto done;
    }
    proto_limits_t limits = proto_limits_default ();
    proto_request_t req;
    proto_error_t err;
    if (proto_request_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), &limits, &req, &err)
        != PROTO_DECODE_OK) {
        snprintf (fake->error, sizeof fake->error, "fake store: gateway sent %s", err.message);
        goto done;
    }
    msgpack_sbuffer_clear (out);
    size_t next = atomic_load (&fake->answered);
    if (req.op == PROTO_OP_PING) {
        proto_reply_t pong = { .op = PROTO_OP_PING, .rid = req.rid, .status = PROTO_OK };
        rc = proto_reply_encode (&pong, out);
    } else if (next < fake->n) {
        rc = s_fake_reply (fake->script[next], &req, out);
        atomic_fetch_add (&fake->answered, 1);
    } else
        snprintf (fake->error, sizeof fake->error, "fake store: more requests than scripted");
    if (rc == 0
        && (zmq_send (router, zmq_msg_data (&identity), zmq_msg_size (&identity), ZMQ_SNDMORE) < 0
            || zmq_send (router, out->data, out->size, 0) < 0)) {
        snprintf (fake->error, sizeof fake->error, "fake store: send failed");
        rc = -1;
    }
done:
    zmq_msg_close (&identity);
    zmq_msg_close (&frame);
    return rc;
}

static void *
s_fake_store_run (void *arg)
{
    s_fake_store_t *fake = arg;
    void *ctx = zmq_ctx_new ();
    void *router = ctx ? zmq_socket (ctx, ZMQ_ROUTER) : NULL;
    int zero = 0;
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    if (!router || zmq_setsockopt (router, ZMQ_LINGER, &zero, sizeof zero) != 0
        || zmq_bind (router, fake->endpoint) != 0)
        snprintf (fake->error, sizeof fake->error, "fake store: cannot bind %s: %s", fake->endpoint,
                  zmq_strerror (errno));
    else
        while (!atomic_load (&fake->stop)) {
            zmq_pollitem_t item = { router, 0, ZMQ_POLLIN, 0 };
            if (zmq_poll (&item, 1, 50) > 0 && s_fake_serve_one (fake, router, &out) != 0)
                break;
        }
    msgpack_sbuffer_destroy (&out);
    if (router)
        zmq_close (router);
    if (ctx)
        zmq_ctx_term (ctx);
    return NULL;
}

static void
test_misbehaving_store_is_500_or_504_and_gateway_survives (void **state)
{
    static const s_reply_t script[] = { S_REPLY_MALFORMED, S_REPLY_UNKNOWN_STATUS, S_REPLY_GARBAGE,
                                        S_REPLY_OTHER_RID, S_REPLY_EVENT };
    static const char *const expected[] = {
        "Store protocol error (malformed): request is not a map",
        "Store sent an undecodable reply",
        "Store did not answer in time",
        "Store did not answer in time",
    };
    s_fake_store_t fake = { .endpoint = s_gw.store_ep, .script = script, .n = 5 };
    pthread_t tid;
    assert_int_equal (pthread_create (&tid, NULL, s_fake_store_run, &fake), 0);
    const char *const extra[] = { "--timeout-ms", "500", NULL };
    assert_int_equal (gw_start_gateway (&s_gw, extra), 0);
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 10000), 0);

    gw_resp_t resp = { 0 };
    const char *path = "/events/0b9e4c6a-2f7d-4e1b-9a3c-5d6e7f8091a2";
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        gw_json (&s_gw, &resp, "GET", path, NULL);
        gw_assert_detail (&resp, i < 2 ? 500 : 504, expected[i]);
    }
    /* the gateway still serves, and the reply to the request never sent
       was counted as a late reply, not handed to anyone */
    assert_int_equal (gw_call (&s_gw, &resp, "GET", path, NULL, NULL, 0), 200);
    gw_assert_event (resp.json, "u-fake", "from the fake store", "pending");
    assert_string_equal (json_string_value (json_object_get (resp.json, "event_id")), path + 8);
    assert_int_equal (gw_call (&s_gw, &resp, "GET", "/metrics", NULL, NULL, 0), 200);
    assert_true (gw_metric (resp.body, "herald_store_late_replies_total", NULL) >= 1);
    assert_true (gw_metric (resp.body, "herald_http_requests_total",
                            "route=\"GET /events/{event_id}\"", "code=\"500\"", NULL)
                 == 2);

    atomic_store (&fake.stop, true);
    assert_int_equal (pthread_join (tid, NULL), 0);
    if (fake.error[0])
        fail_msg ("%s", fake.error);
    assert_int_equal (atomic_load (&fake.answered), 5);
    assert_int_equal (kill (s_gw.gateway, 0), 0);
    gw_resp_clear (&resp);
}

static int
s_run_check (void)
{
    char listen[64], log[700];
    snprintf (listen, sizeof listen, "127.0.0.1:%d", s_gw.http_port);
    snprintf (log, sizeof log, "%s/check-%d.log", harness_tmpdir (), s_gw.run);
    const char *argv[] = { harness_bin ("herald-gateway"), "--check", "--listen", listen, NULL };
    pid_t pid = harness_spawn (argv, NULL, NULL, log);
    assert_true (pid > 0);
    int status = s_wait_exit (pid, 5000);
    if (status == -1) {
        harness_stop (pid, SIGKILL, 1000);
        fail_msg ("herald-gateway --check did not exit within 5 s");
    }
    assert_true (WIFEXITED (status));
    return WEXITSTATUS (status);
}

static void
test_check_flag_reports_readiness (void **state)
{
    assert_int_equal (s_run_check (), 1); /* nothing listening */
    assert_int_equal (gw_start_gateway (&s_gw, NULL), 0);
    assert_int_equal (s_run_check (), 1); /* gateway up, store down: not ready */
    assert_int_equal (gw_start_store (&s_gw, NULL), 0);
    /* The gateway's socket retries the store at up to 2 s intervals; under
       ASan on a loaded machine the first ping can take a while more. */
    assert_int_equal (gw_wait_readyz (&s_gw, 200, 30000), 0);
    assert_int_equal (s_run_check (), 0);
}

static void
test_sigterm_exits_zero_promptly (void **state)
{
    assert_int_equal (gw_start_all (&s_gw), 0);
    gw_resp_t resp = { 0 };
    /* an idle keep-alive connection, a half-sent request ... */
    assert_int_equal (gw_call (&s_gw, &resp, "GET", "/ping", NULL, NULL, 0), 200);
    int half = gw_raw_connect (s_gw.http_port);
    assert_true (half >= 0);
    const char *part =
        "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"us";
    assert_int_equal (send (half, part, strlen (part), MSG_NOSIGNAL), (ssize_t)strlen (part));
    /* ... and a request in flight to a frozen store */
    kill (s_gw.store, SIGSTOP);
    int inflight = gw_raw_connect (s_gw.http_port);
    assert_true (inflight >= 0);
    const char *get = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    assert_int_equal (send (inflight, get, strlen (get), MSG_NOSIGNAL), (ssize_t)strlen (get));
    assert_int_equal (gw_call (&s_gw, &resp, "GET", "/healthz", NULL, NULL, 0), 200);

    int64_t start = clock_mono_ms ();
    assert_int_equal (kill (s_gw.gateway, SIGTERM), 0);
    int status = s_wait_exit (s_gw.gateway, 5000);
    int64_t took = clock_mono_ms () - start;
    if (status == -1)
        fail_msg ("gateway still running 5 s after SIGTERM");
    s_gw.gateway = 0;
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    if (took > 3000)
        fail_msg ("gateway took %lld ms to exit on SIGTERM", (long long)took);
    close (half);
    close (inflight);
    kill (s_gw.store, SIGCONT);
    gw_resp_clear (&resp);
}

/* A keep-alive client that sends a new request while the gateway stops gets
   503 and a closed connection at once, never a connection left suspended
   past the grace period (libmicrohttpd aborts the process when it is
   stopped with one: exit 134 and no answer for anyone). */
static void
test_sigterm_answers_a_keepalive_clients_new_request_503 (void **state)
{
    assert_int_equal (gw_start_all (&s_gw), 0);
    const char *get = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    int a = gw_raw_connect (s_gw.http_port), b = gw_raw_connect (s_gw.http_port);
    assert_true (a >= 0 && b >= 0);
    assert_int_equal (send (a, get, strlen (get), MSG_NOSIGNAL), (ssize_t)strlen (get));
    assert_int_equal (s_read_status (a, 2000), 200);
    assert_int_equal (send (b, get, strlen (get), MSG_NOSIGNAL), (ssize_t)strlen (get));
    assert_int_equal (s_read_status (b, 2000), 200);
    /* a request in flight to a frozen store keeps the gateway in its grace period */
    kill (s_gw.store, SIGSTOP);
    assert_int_equal (send (a, get, strlen (get), MSG_NOSIGNAL), (ssize_t)strlen (get));
    harness_nap_ms (100);
    assert_int_equal (kill (s_gw.gateway, SIGTERM), 0);
    harness_nap_ms (300);
    /* b's next request arrives while stopping */
    assert_int_equal (send (b, get, strlen (get), MSG_NOSIGNAL), (ssize_t)strlen (get));
    char head[4096];
    assert_int_equal (gw_read_head (b, 1500, head, sizeof head), 503);
    assert_non_null (strcasestr (head, "\r\nConnection: close\r\n"));
    assert_non_null (strcasestr (head, "\r\nRetry-After: 1\r\n"));
    /* a's request in flight still gets its answer: the store stays frozen, so 504 */
    assert_int_equal (s_read_status (a, 4000), 504);
    int status = s_wait_exit (s_gw.gateway, 5000);
    kill (s_gw.store, SIGCONT);
    if (status == -1)
        fail_msg ("gateway still running 5 s after SIGTERM");
    s_gw.gateway = 0;
    if (WIFSIGNALED (status))
        fail_msg ("gateway died of signal %d while stopping", WTERMSIG (status));
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    close (a);
    close (b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_no_store_is_503_fast_and_recovers, s_begin, s_end),
        cmocka_unit_test_setup_teardown (test_frozen_store_is_504_and_late_reply_is_dropped,
                                         s_begin, s_end),
        cmocka_unit_test_setup_teardown (test_inflight_limit_is_503_fast, s_begin, s_end),
        cmocka_unit_test_setup_teardown (test_full_store_is_503_on_create_only, s_begin, s_end),
        cmocka_unit_test_setup_teardown (test_full_backlog_is_503_for_creates_and_stores_nothing,
                                         s_begin, s_end),
        cmocka_unit_test_setup_teardown (test_misbehaving_store_is_500_or_504_and_gateway_survives,
                                         s_begin, s_end),
        cmocka_unit_test_setup_teardown (test_check_flag_reports_readiness, s_begin, s_end),
        cmocka_unit_test_setup_teardown (test_sigterm_exits_zero_promptly, s_begin, s_end),
        cmocka_unit_test_setup_teardown (test_sigterm_answers_a_keepalive_clients_new_request_503,
                                         s_begin, s_end),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
