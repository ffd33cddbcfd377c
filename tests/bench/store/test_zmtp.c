/*
 * test_zmtp — the benchmark's bare ZMTP client (zmtp.h) against libzmq's
 * own ROUTER, in this process: messages both ways in order, short and
 * long frames and a reply bigger than the client's read buffer; PINGs
 * answered while idle, so a ROUTER with a short heartbeat timeout keeps
 * the connection; and connections it must refuse (a REP, a CURVE server,
 * nobody listening), each with NULL.
 */
#include "zmtp.h"

#include "clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#define S_WAIT_MS 5000

typedef struct {
    void *ctx;
    void *server;
    char endpoint[64];
} fixture_t;

/* A socket of type bound to a free loopback port; opts run before bind. */
static void
s_bind (fixture_t *f, int type, void (*opts) (void *socket))
{
    f->ctx = zmq_ctx_new ();
    assert_non_null (f->ctx);
    f->server = zmq_socket (f->ctx, type);
    assert_non_null (f->server);
    int zero = 0;
    assert_int_equal (zmq_setsockopt (f->server, ZMQ_LINGER, &zero, sizeof zero), 0);
    if (opts)
        opts (f->server);
    assert_int_equal (zmq_bind (f->server, "tcp://127.0.0.1:*"), 0);
    size_t size = sizeof f->endpoint;
    assert_int_equal (zmq_getsockopt (f->server, ZMQ_LAST_ENDPOINT, f->endpoint, &size), 0);
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    if (f->server)
        zmq_close (f->server);
    if (f->ctx)
        zmq_ctx_term (f->ctx);
    free (f);
    return 0;
}

static int
s_setup (void **state)
{
    *state = calloc (1, sizeof (fixture_t));
    return *state ? 0 : -1;
}

/* The ROUTER's next message: [identity][body], body copied to out. */
static size_t
s_router_recv (fixture_t *f, zmq_msg_t *identity, void *out, size_t size)
{
    zmq_msg_init (identity);
    assert_true (zmq_msg_recv (identity, f->server, 0) >= 0);
    assert_true (zmq_msg_more (identity));
    zmq_msg_t body;
    zmq_msg_init (&body);
    assert_true (zmq_msg_recv (&body, f->server, 0) >= 0);
    assert_false (zmq_msg_more (&body)); /* one frame, no delimiter */
    size_t n = zmq_msg_size (&body);
    assert_true (n <= size);
    memcpy (out, zmq_msg_data (&body), n);
    zmq_msg_close (&body);
    return n;
}

/* The client's next message, waiting up to S_WAIT_MS; its size. */
static size_t
s_client_next (zmtp_t *c, const void **data)
{
    int64_t deadline = clock_mono_ms () + S_WAIT_MS;
    size_t size = 0;
    int got;
    while ((got = zmtp_next (c, data, &size)) == 0) {
        assert_true (clock_mono_ms () < deadline);
        assert_true (zmtp_wait (c, 100) >= 0);
    }
    assert_int_equal (got, 1);
    return size;
}

static void
s_router_opts (void *socket)
{
    int rcvtimeo = S_WAIT_MS, one = 1;
    assert_int_equal (zmq_setsockopt (socket, ZMQ_RCVTIMEO, &rcvtimeo, sizeof rcvtimeo), 0);
    assert_int_equal (zmq_setsockopt (socket, ZMQ_ROUTER_MANDATORY, &one, sizeof one), 0);
}

#define S_BIG (32 << 20) /* a request the socket cannot take in one send */

/* Requests of 0, 1, 255 (the longest short frame), 256, 70,000 bytes and
   32 MiB (more than a loopback socket's send buffer: the rest goes out
   from zmtp_wait) reach the ROUTER whole and in order; replies of 0 to
   70,000 bytes and one of 600,000 (over the client's 256 KiB read buffer)
   come back whole and in order. */
static void
test_zmtp_messages_both_ways_in_order (void **state)
{
    fixture_t *f = *state;
    s_bind (f, ZMQ_ROUTER, s_router_opts);
    zmtp_t *c = zmtp_connect (f->endpoint, S_WAIT_MS);
    assert_non_null (c);
    const size_t asks[] = { 0, 1, 255, 256, 70000, S_BIG };
    const size_t sizes[] = { 0, 1, 255, 256, 70000, 600000 };
    enum { N = sizeof sizes / sizeof sizes[0] };
    unsigned char *buf = malloc (S_BIG + 2 * N), *got = malloc (S_BIG);
    assert_non_null (buf);
    assert_non_null (got);
    for (size_t i = 0; i < S_BIG + 2 * N; i++)
        buf[i] = (unsigned char)(i * 31 + 7);
    for (size_t i = 0; i < N; i++)
        assert_int_equal (zmtp_queue (c, buf + i, asks[i]), 0);
    assert_int_equal (zmtp_flush (c), 0);
    assert_true (zmtp_pending (c) > 0);
    /* What the socket did not take at once goes out while waiting. */
    int64_t deadline = clock_mono_ms () + S_WAIT_MS;
    while (zmtp_pending (c) > 0) {
        assert_true (clock_mono_ms () < deadline);
        assert_true (zmtp_wait (c, 10) >= 0);
    }
    zmq_msg_t identity;
    for (size_t i = 0; i < N; i++) {
        size_t n = s_router_recv (f, &identity, got, S_BIG);
        assert_int_equal (n, asks[i]);
        assert_memory_equal (got, buf + i, n);
        if (i + 1 < N)
            zmq_msg_close (&identity);
    }
    for (size_t i = 0; i < N; i++) {
        zmq_msg_t copy;
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, &identity);
        assert_true (zmq_msg_send (&copy, f->server, ZMQ_SNDMORE) >= 0);
        assert_true (zmq_send (f->server, buf + N + i, sizes[i], 0) >= 0);
    }
    zmq_msg_close (&identity);
    for (size_t i = 0; i < N; i++) {
        const void *data;
        size_t n = s_client_next (c, &data);
        assert_int_equal (n, sizes[i]);
        if (n)
            assert_memory_equal (data, buf + N + i, n);
    }
    zmtp_destroy (&c);
    assert_null (c);
    zmtp_destroy (&c);
    free (buf);
    free (got);
}

static void
s_heartbeat_opts (void *socket)
{
    s_router_opts (socket);
    int ivl = 100, timeout = 400;
    assert_int_equal (zmq_setsockopt (socket, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl), 0);
    assert_int_equal (zmq_setsockopt (socket, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout), 0);
}

/* A ROUTER that PINGs every 100 ms and drops a peer silent for 400 ms
   still has the client after 1.5 s in which it sent nothing but its
   PONGs. */
static void
test_zmtp_answers_pings_while_idle (void **state)
{
    fixture_t *f = *state;
    s_bind (f, ZMQ_ROUTER, s_heartbeat_opts);
    zmtp_t *c = zmtp_connect (f->endpoint, S_WAIT_MS);
    assert_non_null (c);
    assert_int_equal (zmtp_queue (c, "hello", 5), 0);
    assert_int_equal (zmtp_flush (c), 0);
    zmq_msg_t identity;
    char got[16];
    assert_int_equal (s_router_recv (f, &identity, got, sizeof got), 5);
    int64_t until = clock_mono_ms () + 1500;
    while (clock_mono_ms () < until) {
        const void *data;
        size_t size;
        assert_true (zmtp_wait (c, 20) >= 0);
        assert_int_equal (zmtp_next (c, &data, &size), 0); /* PINGs only */
    }
    assert_true (zmq_msg_send (&identity, f->server, ZMQ_SNDMORE) >= 0);
    assert_true (zmq_send (f->server, "still here", 10, 0) >= 0);
    const void *data;
    assert_int_equal (s_client_next (c, &data), 10);
    assert_memory_equal (data, "still here", 10);
    zmtp_destroy (&c);
}

/* A REP is a valid peer for a libzmq DEALER, but not the store. */
static void
test_zmtp_refuses_a_peer_that_is_not_a_router (void **state)
{
    fixture_t *f = *state;
    s_bind (f, ZMQ_REP, NULL);
    assert_null (zmtp_connect (f->endpoint, 2000));
}

static void
s_curve_opts (void *socket)
{
    char public_key[41], secret_key[41];
    assert_int_equal (zmq_curve_keypair (public_key, secret_key), 0);
    int one = 1;
    assert_int_equal (zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &one, sizeof one), 0);
    assert_int_equal (zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, secret_key, 40), 0);
}

/* It speaks only NULL: a CURVE store, or no store, is a failed connect,
   within the timeout. */
static void
test_zmtp_refuses_curve_and_nobody (void **state)
{
    fixture_t *f = *state;
    s_bind (f, ZMQ_ROUTER, s_curve_opts);
    int64_t start = clock_mono_ms ();
    assert_null (zmtp_connect (f->endpoint, 2000));
    assert_true (clock_mono_ms () - start < 2500);
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "%s", f->endpoint);
    zmq_close (f->server);
    f->server = NULL;
    zmq_ctx_term (f->ctx); /* waits for the socket to close: the port is free again */
    f->ctx = NULL;
    assert_null (zmtp_connect (endpoint, 2000));
    assert_null (zmtp_connect ("ipc:///tmp/x", 2000));
    assert_null (zmtp_connect ("tcp://localhost:5555", 2000));
    assert_null (zmtp_connect ("tcp://127.0.0.1:0", 2000));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_zmtp_messages_both_ways_in_order, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_zmtp_answers_pings_while_idle, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_zmtp_refuses_a_peer_that_is_not_a_router, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_zmtp_refuses_curve_and_nobody, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
