/*
 * test_store_client — the shared store client against a ROUTER played by
 * the test on inproc://: rids it stamps, a blocking call that skips other
 * replies and gives up at its deadline, a send refused while nothing is
 * connected (ZMQ_IMMEDIATE), replies with a leading delimiter accepted and
 * other multi-frame or undecodable ones refused with a reason; batches:
 * queued requests sent as one, their replies handed out one by one, a
 * lone request sent as itself, a full batch sent at once (and said so), a
 * refused batch sent again one by one (then smaller batches for a store
 * that takes fewer frames, none for an older store; requests held over
 * the smaller size go at the next), and requests that could not be sent
 * handed back by the flush; the last receipt a reply brought goes
 * back with the next list or feed_read, and only with those.
 */
#include "store_client.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <zmq.h>

#include <cmocka.h>

typedef struct {
    void *ctx;
    void *router;
    store_client_t *client;
} fixture_t;

static int
s_setup (void **state)
{
    static fixture_t f;
    static int n;
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://store-%d", ++n);
    f.ctx = zmq_ctx_new ();
    f.router = zmq_socket (f.ctx, ZMQ_ROUTER);
    assert_int_equal (zmq_bind (f.router, endpoint), 0);
    store_client_config_t config = { .endpoint = endpoint, .zmq_ctx = f.ctx };
    f.client = store_client_new (&config);
    assert_non_null (f.client);
    *state = &f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    store_client_destroy (&f->client);
    assert_null (f->client);
    zmq_close (f->router);
    zmq_ctx_term (f->ctx);
    return 0;
}

/* The ROUTER receives one request; returns its identity (in id, size). */
static size_t
s_take (fixture_t *f, uint8_t *id, proto_request_t *req, char *frame, size_t cap)
{
    int idn = zmq_recv (f->router, id, 256, 0);
    assert_true (idn > 0);
    int n = zmq_recv (f->router, frame, cap, 0);
    assert_true (n > 0);
    proto_limits_t limits = proto_limits_default ();
    proto_error_t err;
    assert_int_equal (proto_request_decode (frame, (size_t)n, &limits, req, &err), PROTO_DECODE_OK);
    return (size_t)idn;
}

static void
s_answer (fixture_t *f, const uint8_t *id, size_t idn, const proto_reply_t *reply, bool delimiter)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (proto_reply_encode (reply, &buf), 0);
    zmq_send (f->router, id, idn, ZMQ_SNDMORE);
    if (delimiter)
        zmq_send (f->router, "", 0, ZMQ_SNDMORE);
    zmq_send (f->router, buf.data, buf.size, 0);
    msgpack_sbuffer_destroy (&buf);
}

/* Polls the client until a reply arrives; returns store_client_recv's rc. */
static int
s_recv (fixture_t *f, proto_reply_t *reply, proto_error_t *err)
{
    zmq_pollitem_t item = { store_client_socket (f->client), 0, ZMQ_POLLIN, 0 };
    assert_int_equal (zmq_poll (&item, 1, 2000), 1);
    return store_client_recv (f->client, reply, err);
}

/* Waits until the client is connected (ZMQ_IMMEDIATE). */
static void
s_connected (fixture_t *f)
{
    zmq_pollitem_t out = { store_client_socket (f->client), 0, ZMQ_POLLOUT, 0 };
    assert_int_equal (zmq_poll (&out, 1, 2000), 1);
}

static void
test_request_stamps_increasing_rids_and_replies_decode (void **state)
{
    fixture_t *f = *state;
    proto_request_t ping = { .op = PROTO_OP_PING };
    s_connected (f); /* inproc connects at once, but wait for POLLOUT anyway */
    assert_int_equal (store_client_request (f->client, &ping), 1);
    assert_int_equal (store_client_request (f->client, &ping), 2);
    for (uint64_t rid = 1; rid <= 2; rid++) {
        uint8_t id[256];
        char frame[512];
        proto_request_t req;
        size_t idn = s_take (f, id, &req, frame, sizeof frame);
        assert_int_equal (req.rid, rid);
        proto_reply_t reply = { .op = PROTO_OP_PING, .rid = rid, .status = PROTO_OK };
        s_answer (f, id, idn, &reply, rid == 2); /* the second with a delimiter */
        proto_reply_t got;
        proto_error_t err;
        assert_int_equal (s_recv (f, &got, &err), 1);
        assert_int_equal (got.rid, rid);
        assert_int_equal (got.status, PROTO_OK);
        proto_reply_clear (&got);
    }
    proto_reply_t none;
    assert_int_equal (store_client_recv (f->client, &none, NULL), 0);
}

/* The client sends req; the ROUTER takes it and returns it decoded (its
   strings are not used) with its identity in id / *idn. */
static proto_request_t
s_sent (fixture_t *f, proto_request_t req, uint8_t id[256], size_t *idn)
{
    assert_true (store_client_request (f->client, &req) > 0);
    char frame[512];
    proto_request_t got;
    *idn = s_take (f, id, &got, frame, sizeof frame);
    return got;
}

static void
test_the_last_receipt_goes_back_with_the_next_page_request_only (void **state)
{
    fixture_t *f = *state;
    s_connected (f);
    uint8_t id[256], r1[16], r2[16];
    size_t idn;
    memset (r1, 0x11, 16);
    memset (r2, 0x22, 16);
    proto_request_t list = { .op = PROTO_OP_LIST }, feed = { .op = PROTO_OP_FEED_READ };
    proto_request_t get = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    /* Nothing received yet: nothing to send back. */
    proto_request_t got = s_sent (f, list, id, &idn);
    assert_false (got.has & PROTO_HAS_RECEIPT);
    proto_reply_t page = { .op = PROTO_OP_LIST, .rid = got.rid, .status = PROTO_OK };
    page.has_receipt = true;
    memcpy (page.receipt, r1, 16);
    s_answer (f, id, idn, &page, false);
    proto_reply_t reply;
    assert_int_equal (s_recv (f, &reply, NULL), 1);
    proto_reply_clear (&reply);
    /* A get does not carry it; a feed_read and a list do. */
    assert_false (s_sent (f, get, id, &idn).has & PROTO_HAS_RECEIPT);
    got = s_sent (f, feed, id, &idn);
    assert_true (got.has & PROTO_HAS_RECEIPT);
    assert_memory_equal (got.receipt, r1, 16);
    /* A reply without one keeps the last. */
    proto_reply_t pong = { .op = PROTO_OP_FEED_READ, .rid = got.rid, .status = PROTO_OK };
    s_answer (f, id, idn, &pong, false);
    assert_int_equal (s_recv (f, &reply, NULL), 1);
    proto_reply_clear (&reply);
    got = s_sent (f, list, id, &idn);
    assert_memory_equal (got.receipt, r1, 16);
    /* A newer one replaces it; one the caller set is left alone. */
    page.rid = got.rid;
    memcpy (page.receipt, r2, 16);
    s_answer (f, id, idn, &page, false);
    assert_int_equal (s_recv (f, &reply, NULL), 1);
    proto_reply_clear (&reply);
    assert_memory_equal (s_sent (f, list, id, &idn).receipt, r2, 16);
    proto_request_t own = { .op = PROTO_OP_LIST, .has = PROTO_HAS_RECEIPT };
    memcpy (own.receipt, r1, 16);
    assert_memory_equal (s_sent (f, own, id, &idn).receipt, r1, 16);
}

static void
test_undecodable_and_multi_frame_replies_are_refused_with_a_reason (void **state)
{
    fixture_t *f = *state;
    proto_request_t ping = { .op = PROTO_OP_PING, .rid = 7 };
    s_connected (f);
    assert_int_equal (store_client_send (f->client, &ping), 0);
    uint8_t id[256];
    char frame[512];
    proto_request_t req;
    size_t idn = s_take (f, id, &req, frame, sizeof frame);
    zmq_send (f->router, id, idn, ZMQ_SNDMORE);
    zmq_send (f->router, "\xc1", 1, 0); /* never valid MessagePack */
    proto_reply_t got;
    proto_error_t err;
    assert_int_equal (s_recv (f, &got, &err), -1);
    assert_true (err.message[0] != '\0');
    zmq_send (f->router, id, idn, ZMQ_SNDMORE);
    zmq_send (f->router, "x", 1, ZMQ_SNDMORE);
    zmq_send (f->router, "y", 1, 0);
    assert_int_equal (s_recv (f, &got, &err), -1);
    assert_non_null (strstr (err.message, "several frames"));
}

/* The ROUTER's side of a call, on its own thread: a reply to another
   request first, then the one asked for. */
static void *
s_answer_stale_then_right (void *arg)
{
    fixture_t *f = arg;
    uint8_t id[256];
    char frame[512];
    proto_request_t req;
    size_t idn = s_take (f, id, &req, frame, sizeof frame);
    proto_reply_t stale = { .op = PROTO_OP_PING, .rid = req.rid + 1000, .status = PROTO_OK };
    s_answer (f, id, idn, &stale, false);
    proto_reply_t mine = { .op = PROTO_OP_PING, .rid = req.rid, .status = PROTO_OK };
    s_answer (f, id, idn, &mine, false);
    return NULL;
}

static void
test_call_skips_other_replies_and_gives_up_at_its_deadline (void **state)
{
    fixture_t *f = *state;
    /* Nobody answers: the call gives up at its deadline. */
    proto_request_t ping = { .op = PROTO_OP_PING };
    proto_reply_t got;
    assert_int_equal (store_client_call (f->client, &ping, 100, &got), -1);
    uint8_t id[256];
    char frame[512];
    proto_request_t req;
    s_take (f, id, &req, frame, sizeof frame); /* that request, never answered */
    /* Answered after a reply to something else: the call returns its own. */
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_answer_stale_then_right, f), 0);
    proto_request_t again = { .op = PROTO_OP_PING };
    assert_int_equal (store_client_call (f->client, &again, 5000, &got), 0);
    assert_int_equal (got.rid, again.rid);
    assert_int_equal (got.status, PROTO_OK);
    proto_reply_clear (&got);
    pthread_join (thread, NULL);
}

static void
test_send_refused_while_nothing_is_connected (void **state)
{
    void *ctx = zmq_ctx_new ();
    store_client_config_t config = { .endpoint = "tcp://127.0.0.1:1" /* nothing listens */,
                                     .zmq_ctx = ctx };
    store_client_t *client = store_client_new (&config);
    assert_non_null (client);
    proto_request_t ping = { .op = PROTO_OP_PING };
    assert_int_equal (store_client_request (client, &ping), 0);
    proto_reply_t got;
    assert_int_equal (store_client_call (client, &ping, 50, &got), -1);
    store_client_destroy (&client);
    zmq_ctx_term (ctx);
    /* An endpoint libzmq cannot parse is refused at once. */
    config.endpoint = "not-an-endpoint";
    config.zmq_ctx = NULL;
    assert_null (store_client_new (&config));
}

/* ---- Batches ------------------------------------------------------------ */

/* The ROUTER receives one message: its identity, and its payload copied
   to frame (returns the payload's size). */
static size_t
s_take_raw (fixture_t *f, uint8_t *id, size_t *idn, char *frame, size_t cap)
{
    int n = zmq_recv (f->router, id, 256, 0);
    assert_true (n > 0);
    *idn = (size_t)n;
    n = zmq_recv (f->router, frame, cap, 0);
    assert_true (n > 0 && (size_t)n <= cap);
    return (size_t)n;
}

/* A batch the ROUTER took: its sender, its rid and its frames (pointing
   into data). */
typedef struct {
    uint8_t id[256];
    size_t idn;
    char data[65536];
    uint64_t rid;
    proto_str_t frames[PROTO_BATCH_MAX];
    size_t count;
} s_batch_t;

/* The ROUTER takes one message, which must be a batch of count frames. */
static void
s_take_batch (fixture_t *f, s_batch_t *b, size_t count)
{
    size_t n = s_take_raw (f, b->id, &b->idn, b->data, sizeof b->data);
    proto_error_t err;
    assert_int_equal (proto_batch_decode (b->data, n, false, PROTO_BATCH_MAX, &b->rid, b->frames,
                                          &b->count, &err),
                      PROTO_DECODE_OK);
    assert_int_equal (b->count, count);
}

static proto_request_t
s_get (uint64_t rid)
{
    proto_request_t req = { .op = PROTO_OP_GET, .rid = rid, .has = PROTO_HAS_EVENT_ID };
    req.event_id[0] = (uint8_t)rid;
    return req;
}

static void
test_queued_requests_go_as_one_batch_and_replies_come_one_by_one (void **state)
{
    fixture_t *f = *state;
    s_connected (f);
    store_client_set_batch (f->client, 8);
    for (uint64_t rid = 10; rid <= 12; rid++) {
        proto_request_t get = s_get (rid);
        assert_int_equal (store_client_queue (f->client, &get), 0);
    }
    /* A list may not be batched: it goes at once, ahead of the batch. */
    proto_request_t list = { .op = PROTO_OP_LIST, .rid = 13 };
    assert_int_equal (store_client_queue (f->client, &list), 0);
    uint64_t failed[PROTO_BATCH_MAX];
    assert_int_equal (store_client_flush (f->client, failed, PROTO_BATCH_MAX), 0);

    uint8_t id[256];
    size_t idn;
    static char frame[65536];
    proto_request_t req;
    proto_error_t err;
    size_t n = s_take_raw (f, id, &idn, frame, sizeof frame);
    assert_int_equal (proto_request_decode (frame, n, NULL, &req, &err), PROTO_DECODE_OK);
    assert_int_equal (req.op, PROTO_OP_LIST);
    static s_batch_t b;
    s_take_batch (f, &b, 3);
    /* The store's answer: one reply frame per request, in order. */
    msgpack_sbuffer reply, one;
    msgpack_sbuffer_init (&reply);
    msgpack_sbuffer_init (&one);
    assert_int_equal (proto_batch_begin (b.rid, true, b.count, &reply), 0);
    for (size_t i = 0; i < b.count; i++) {
        assert_int_equal (proto_request_decode (b.frames[i].ptr, b.frames[i].len, NULL, &req, &err),
                          PROTO_DECODE_OK);
        assert_int_equal (req.rid, 10 + i);
        proto_reply_t r = { .op = PROTO_OP_GET,
                            .rid = req.rid,
                            .status = PROTO_E_NOT_FOUND,
                            .message = PROTO_STR ("Event not found") };
        msgpack_sbuffer_clear (&one);
        assert_int_equal (proto_reply_encode (&r, &one), 0);
        assert_int_equal (proto_batch_append (one.data, one.size, &reply), 0);
    }
    zmq_send (f->router, b.id, b.idn, ZMQ_SNDMORE);
    zmq_send (f->router, reply.data, reply.size, 0);
    msgpack_sbuffer_destroy (&reply);
    msgpack_sbuffer_destroy (&one);
    for (uint64_t rid = 10; rid <= 12; rid++) {
        proto_reply_t got;
        int rc = rid == 10 ? s_recv (f, &got, &err) : store_client_recv (f->client, &got, &err);
        assert_int_equal (rc, 1);
        assert_int_equal (got.rid, rid);
        assert_int_equal (got.status, PROTO_E_NOT_FOUND);
        assert_memory_equal (got.message.ptr, "Event not found", got.message.len);
        proto_reply_clear (&got);
    }
    proto_reply_t none;
    assert_int_equal (store_client_recv (f->client, &none, NULL), 0);
}

static void
test_a_lone_request_goes_as_itself_and_a_full_batch_at_once (void **state)
{
    fixture_t *f = *state;
    s_connected (f);
    store_client_set_batch (f->client, 2);
    uint8_t id[256];
    size_t idn;
    static char frame[65536];
    proto_request_t req;
    proto_error_t err;
    proto_request_t get = s_get (1);
    assert_int_equal (store_client_queue (f->client, &get), 0);
    uint64_t failed[PROTO_BATCH_MAX];
    assert_int_equal (store_client_flush (f->client, failed, PROTO_BATCH_MAX), 0);
    size_t n = s_take_raw (f, id, &idn, frame, sizeof frame);
    assert_int_equal (proto_request_decode (frame, n, NULL, &req, &err), PROTO_DECODE_OK);
    assert_int_equal (req.op, PROTO_OP_GET);
    assert_int_equal (req.rid, 1);
    /* The second request fills a batch (two, the most): it goes at once,
       before another request or a flush, and says so; the third is held. */
    for (uint64_t rid = 2; rid <= 3; rid++) {
        get = s_get (rid);
        assert_int_equal (store_client_queue (f->client, &get), rid == 3 ? 1 : 0);
    }
    static s_batch_t b;
    s_take_batch (f, &b, 2);
    get = s_get (4);
    assert_int_equal (store_client_queue (f->client, &get), 0);
    assert_int_equal (store_client_flush (f->client, failed, PROTO_BATCH_MAX), 0);
    n = s_take_raw (f, id, &idn, frame, sizeof frame);
    assert_int_equal (proto_request_decode (frame, n, NULL, &req, &err), PROTO_DECODE_OK);
    assert_int_equal (req.rid, 4);
}

/* The ROUTER takes one message that must be a single get request of rid. */
static void
s_take_single (fixture_t *f, uint64_t rid)
{
    uint8_t id[256];
    size_t idn;
    static char frame[65536];
    proto_request_t req;
    proto_error_t err;
    size_t n = s_take_raw (f, id, &idn, frame, sizeof frame);
    assert_int_equal (proto_request_decode (frame, n, NULL, &req, &err), PROTO_DECODE_OK);
    assert_int_equal (req.op, PROTO_OP_GET);
    assert_int_equal (req.rid, rid);
}

/* Queues gets first..last (the last filling a batch when full), flushes,
   and has the ROUTER refuse the batch that comes with status (op nil for
   an older store's unknown_op). */
static void
s_refuse_batch (fixture_t *f, uint64_t first, uint64_t last, bool full, proto_status_t status)
{
    for (uint64_t rid = first; rid <= last; rid++) {
        proto_request_t get = s_get (rid);
        assert_int_equal (store_client_queue (f->client, &get), full && rid == last ? 1 : 0);
    }
    uint64_t failed[PROTO_BATCH_MAX];
    assert_int_equal (store_client_flush (f->client, failed, PROTO_BATCH_MAX), 0);
    static s_batch_t b;
    s_take_batch (f, &b, last - first + 1);
    proto_reply_t refusal = { .op = status == PROTO_E_UNKNOWN_OP ? PROTO_OP_NONE : PROTO_OP_BATCH,
                              .rid = b.rid,
                              .status = status,
                              .message = PROTO_STR ("refused") };
    s_answer (f, b.id, b.idn, &refusal, false);
    proto_error_t err;
    /* Reading the refusal sends the requests again, one by one; it is no
       reply of theirs. */
    proto_reply_t got;
    assert_int_equal (s_recv (f, &got, &err), 0);
    for (uint64_t k = first; k <= last; k++)
        s_take_single (f, k);
}

static void
test_a_refused_batch_is_sent_again_one_by_one (void **state)
{
    fixture_t *f = *state;
    s_connected (f);
    store_client_set_batch (f->client, 8);
    /* invalid: the store takes fewer frames (larger limits): smaller batches */
    s_refuse_batch (f, 1, 8, true, PROTO_E_INVALID);
    for (uint64_t rid = 9; rid <= 14; rid++) {
        proto_request_t get = s_get (rid);
        assert_int_equal (store_client_queue (f->client, &get), rid == 12 ? 1 : 0);
    }
    static s_batch_t b;
    s_take_batch (f, &b, 4); /* sent when 4 were queued */
    uint64_t failed[PROTO_BATCH_MAX];
    assert_int_equal (store_client_flush (f->client, failed, PROTO_BATCH_MAX), 0);
    s_take_batch (f, &b, 2);
    /* unknown_op: an older store; one request per message from now on */
    s_refuse_batch (f, 15, 17, false, PROTO_E_UNKNOWN_OP);
    for (uint64_t k = 18; k <= 19; k++) {
        proto_request_t get = s_get (k);
        assert_int_equal (store_client_queue (f->client, &get), 0);
    }
    assert_int_equal (store_client_flush (f->client, failed, PROTO_BATCH_MAX), 0);
    s_take_single (f, 18);
    s_take_single (f, 19);
}

/* A refusal that makes batches smaller while more requests than the new
   most are held: the next request sends them all as one batch (the held
   ones never overflow), and batches are of the new size after it. */
static void
test_requests_held_over_a_smaller_batch_size_go_at_the_next (void **state)
{
    fixture_t *f = *state;
    s_connected (f);
    store_client_set_batch (f->client, 8);
    for (uint64_t rid = 1; rid <= 8; rid++) {
        proto_request_t get = s_get (rid);
        assert_int_equal (store_client_queue (f->client, &get), rid == 8 ? 1 : 0);
    }
    static s_batch_t b;
    s_take_batch (f, &b, 8);
    for (uint64_t rid = 9; rid <= 13; rid++) { /* held, under 8 */
        proto_request_t get = s_get (rid);
        assert_int_equal (store_client_queue (f->client, &get), 0);
    }
    proto_reply_t refusal = { .op = PROTO_OP_BATCH,
                              .rid = b.rid,
                              .status = PROTO_E_INVALID,
                              .message = PROTO_STR ("refused") };
    s_answer (f, b.id, b.idn, &refusal, false);
    proto_error_t err;
    proto_reply_t got;
    assert_int_equal (s_recv (f, &got, &err), 0); /* batches of 4 from now on */
    for (uint64_t k = 1; k <= 8; k++)
        s_take_single (f, k);
    proto_request_t get = s_get (14);
    assert_int_equal (store_client_queue (f->client, &get), 1);
    s_take_batch (f, &b, 6);
    for (uint64_t rid = 15; rid <= 18; rid++) {
        get = s_get (rid);
        assert_int_equal (store_client_queue (f->client, &get), rid == 18 ? 1 : 0);
    }
    s_take_batch (f, &b, 4);
}

static void
test_queued_requests_that_cannot_be_sent_come_back_from_flush (void **state)
{
    void *ctx = zmq_ctx_new ();
    store_client_config_t config = { .endpoint = "tcp://127.0.0.1:1" /* nothing listens */,
                                     .zmq_ctx = ctx,
                                     .batch_max = 8 };
    store_client_t *client = store_client_new (&config);
    assert_non_null (client);
    store_client_set_batch (client, 2);
    for (uint64_t rid = 1; rid <= 3; rid++) {
        proto_request_t get = s_get (rid);
        /* the second fills a batch that cannot go: 0, not 1 */
        assert_int_equal (store_client_queue (client, &get), 0);
    }
    uint64_t failed[PROTO_BATCH_MAX];
    assert_int_equal (store_client_flush (client, failed, 2), 2); /* as many as asked */
    assert_int_equal (failed[0], 1);
    assert_int_equal (failed[1], 2);
    assert_int_equal (store_client_flush (client, failed, PROTO_BATCH_MAX), 1);
    assert_int_equal (failed[0], 3);
    assert_int_equal (store_client_flush (client, failed, PROTO_BATCH_MAX), 0);
    store_client_destroy (&client);
    zmq_ctx_term (ctx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_request_stamps_increasing_rids_and_replies_decode,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_the_last_receipt_goes_back_with_the_next_page_request_only, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_undecodable_and_multi_frame_replies_are_refused_with_a_reason, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (test_call_skips_other_replies_and_gives_up_at_its_deadline,
                                         s_setup, s_teardown),
        cmocka_unit_test (test_send_refused_while_nothing_is_connected),
        cmocka_unit_test_setup_teardown (
            test_queued_requests_go_as_one_batch_and_replies_come_one_by_one, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_a_lone_request_goes_as_itself_and_a_full_batch_at_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_refused_batch_is_sent_again_one_by_one, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (
            test_requests_held_over_a_smaller_batch_size_go_at_the_next, s_setup, s_teardown),
        cmocka_unit_test (test_queued_requests_that_cannot_be_sent_come_back_from_flush),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
