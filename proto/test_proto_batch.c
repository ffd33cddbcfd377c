/*
 * test_proto_batch — the batch envelope (proto.h, PROTOCOL.md §3.1): whole
 * frames in and out in order, byte for byte; every way an envelope can be
 * wrong refused with its own error and no frame handed out; the frame
 * count bounded by PROTO_BATCH_MAX and by what the limits let one reply
 * grow to; and the request decoder reading a batch as op batch, which no
 * request encoder writes.
 */
#include "test_proto.h"

#include <string.h>

/* A batch of the frames of n ping requests with rids 1..n. */
static void
s_ping_batch (uint64_t rid, size_t n, msgpack_sbuffer *out)
{
    msgpack_sbuffer one;
    msgpack_sbuffer_init (&one);
    assert_int_equal (proto_batch_begin (rid, false, n, out), 0);
    for (size_t i = 0; i < n; i++) {
        proto_request_t req = { .op = PROTO_OP_PING, .rid = i + 1 };
        msgpack_sbuffer_clear (&one);
        assert_int_equal (proto_request_encode (&req, &one), 0);
        assert_int_equal (proto_batch_append (one.data, one.size, out), 0);
    }
    msgpack_sbuffer_destroy (&one);
}

static void
test_batch_carries_whole_frames_in_order (void **state)
{
    proto_request_t reqs[3] = {
        { .op = PROTO_OP_CREATE,
          .rid = 11,
          .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
          .user_id = PROTO_STR ("u-1"),
          .description = PROTO_STR ("first") },
        { .op = PROTO_OP_GET, .rid = 12, .has = PROTO_HAS_EVENT_ID },
        { .op = PROTO_OP_PING, .rid = 13 },
    };
    msgpack_sbuffer frames[3], batch;
    msgpack_sbuffer_init (&batch);
    assert_int_equal (proto_batch_begin (7, false, 3, &batch), 0);
    for (int i = 0; i < 3; i++) {
        msgpack_sbuffer_init (&frames[i]);
        assert_int_equal (proto_request_encode (&reqs[i], &frames[i]), 0);
        assert_int_equal (proto_batch_append (frames[i].data, frames[i].size, &batch), 0);
    }
    proto_str_t got[PROTO_BATCH_MAX];
    size_t n = 99;
    uint64_t rid = 0;
    proto_error_t err;
    assert_int_equal (
        proto_batch_decode (batch.data, batch.size, false, PROTO_BATCH_MAX, &rid, got, &n, &err),
        PROTO_DECODE_OK);
    assert_int_equal (rid, 7);
    assert_int_equal (n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (got[i].len, frames[i].size);
        assert_memory_equal (got[i].ptr, frames[i].data, frames[i].size);
        proto_request_t req;
        assert_int_equal (proto_request_decode (got[i].ptr, got[i].len, NULL, &req, &err),
                          PROTO_DECODE_OK);
        assert_int_equal (req.op, reqs[i].op);
        assert_int_equal (req.rid, reqs[i].rid);
        msgpack_sbuffer_destroy (&frames[i]);
    }
    /* The envelope itself reads as a request of op batch, with its rid. */
    proto_request_t envelope;
    assert_int_equal (proto_request_decode (batch.data, batch.size, NULL, &envelope, &err),
                      PROTO_DECODE_OK);
    assert_int_equal (envelope.op, PROTO_OP_BATCH);
    assert_int_equal (envelope.rid, 7);
    assert_string_equal (proto_op_name (PROTO_OP_BATCH), "batch");
    /* No request encoder writes one: its frames are the batch's. */
    msgpack_sbuffer_clear (&batch);
    assert_int_equal (proto_request_encode (&envelope, &batch), -1);
    msgpack_sbuffer_destroy (&batch);
}

static void
test_batch_reply_is_an_ok_reply_of_op_batch (void **state)
{
    proto_reply_t inner = { .op = PROTO_OP_GET, .rid = 3, .event = sample_event (1) };
    msgpack_sbuffer frame, batch;
    msgpack_sbuffer_init (&frame);
    msgpack_sbuffer_init (&batch);
    assert_int_equal (proto_reply_encode (&inner, &frame), 0);
    assert_int_equal (proto_batch_begin (9, true, 1, &batch), 0);
    assert_int_equal (proto_batch_append (frame.data, frame.size, &batch), 0);
    proto_str_t got[PROTO_BATCH_MAX];
    size_t n;
    uint64_t rid;
    proto_error_t err;
    assert_int_equal (
        proto_batch_decode (batch.data, batch.size, true, PROTO_BATCH_MAX, &rid, got, &n, &err),
        PROTO_DECODE_OK);
    assert_int_equal (n, 1);
    assert_int_equal (rid, 9);
    assert_memory_equal (got[0].ptr, frame.data, frame.size);
    /* A client that reads every reply with proto_reply_decode first sees
       an ok reply of op batch. */
    proto_reply_t outer;
    assert_int_equal (proto_reply_decode (batch.data, batch.size, &outer, &err), PROTO_DECODE_OK);
    assert_int_equal (outer.op, PROTO_OP_BATCH);
    assert_int_equal (outer.status, PROTO_OK);
    assert_int_equal (outer.rid, 9);
    proto_reply_clear (&outer);
    /* A request envelope is no reply (no status), nor the reverse. */
    msgpack_sbuffer_clear (&batch);
    s_ping_batch (4, 2, &batch);
    assert_int_equal (
        proto_batch_decode (batch.data, batch.size, true, PROTO_BATCH_MAX, &rid, got, &n, &err),
        PROTO_DECODE_MALFORMED);
    assert_string_equal (err.field, "status");
    assert_int_equal (n, 0);
    /* An error reply to a batch is an ordinary reply, not a batch. */
    msgpack_sbuffer_clear (&batch);
    assert_int_equal (
        proto_reply_encode_error (PROTO_OP_BATCH, 4, PROTO_E_INVALID, "too many", "frames", &batch),
        0);
    assert_int_equal (
        proto_batch_decode (batch.data, batch.size, true, PROTO_BATCH_MAX, &rid, got, &n, &err),
        PROTO_DECODE_MALFORMED);
    assert_string_equal (err.message, "not an ok batch reply");
    assert_true (err.has_rid);
    assert_int_equal (err.rid, 4);
    msgpack_sbuffer_destroy (&frame);
    msgpack_sbuffer_destroy (&batch);
}

static void
test_batch_frame_count_is_bounded (void **state)
{
    msgpack_sbuffer batch;
    msgpack_sbuffer_init (&batch);
    proto_str_t got[PROTO_BATCH_MAX];
    size_t n;
    uint64_t rid;
    proto_error_t err;
    s_ping_batch (1, PROTO_BATCH_MAX, &batch);
    assert_int_equal (
        proto_batch_decode (batch.data, batch.size, false, PROTO_BATCH_MAX, &rid, got, &n, &err),
        PROTO_DECODE_OK);
    assert_int_equal (n, PROTO_BATCH_MAX);
    /* The caller's own bound: one under what came is refused, whole. */
    assert_int_equal (proto_batch_decode (batch.data, batch.size, false, PROTO_BATCH_MAX - 1, &rid,
                                          got, &n, &err),
                      PROTO_DECODE_INVALID);
    assert_string_equal (err.field, "frames");
    assert_int_equal (n, 0);
    /* The encoder takes 1..PROTO_BATCH_MAX frames. */
    msgpack_sbuffer_clear (&batch);
    assert_int_equal (proto_batch_begin (1, false, 0, &batch), -1);
    assert_int_equal (proto_batch_begin (1, false, PROTO_BATCH_MAX + 1, &batch), -1);
    assert_int_equal (proto_batch_append ("", 0, &batch), -1);
    assert_int_equal (batch.size, 0);
    /* PROTO_BATCH_MAX + 1 frames, written by hand: refused. */
    frame_t f;
    frame_init (&f);
    frame_request (&f, "batch", 5, 1);
    frame_str (&f, "frames");
    msgpack_pack_array (&f.pk, PROTO_BATCH_MAX + 1);
    for (int i = 0; i <= PROTO_BATCH_MAX; i++) {
        msgpack_pack_bin (&f.pk, 1);
        msgpack_pack_bin_body (&f.pk, "x", 1);
    }
    assert_int_equal (
        proto_batch_decode (f.sb.data, f.sb.size, false, PROTO_BATCH_MAX, &rid, got, &n, &err),
        PROTO_DECODE_INVALID);
    assert_int_equal (err.rid, 5);
    frame_free (&f);
    msgpack_sbuffer_destroy (&batch);
}

/* Hand-made envelopes: field "frames" holding what value writes. */
typedef void (s_value_fn) (msgpack_packer *pk);
static void
s_empty_array (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 0);
}
static void
s_not_array (msgpack_packer *pk)
{
    msgpack_pack_bin (pk, 1), msgpack_pack_bin_body (pk, "x", 1);
}
static void
s_str_element (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 1), msgpack_pack_str_with_body (pk, "x", 1);
}
static void
s_empty_bin (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 1), msgpack_pack_bin (pk, 0);
}
static void
s_map_element (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 1), msgpack_pack_map (pk, 0);
}

static void
test_batch_envelope_errors_hand_out_no_frame (void **state)
{
    const struct {
        const char *op;
        s_value_fn *value;
        proto_decode_t rc;
        const char *message;
    } cases[] = {
        { "batch", s_empty_array, PROTO_DECODE_INVALID, "field 'frames': 0 frames, not 1..128" },
        { "batch", s_not_array, PROTO_DECODE_MALFORMED, "field 'frames': not an array" },
        { "batch", s_str_element, PROTO_DECODE_MALFORMED,
          "field 'frames': element 0 is not a non-empty binary" },
        { "batch", s_empty_bin, PROTO_DECODE_MALFORMED,
          "field 'frames': element 0 is not a non-empty binary" },
        /* a request map in place of its bytes: one level too deep */
        { "batch", s_map_element, PROTO_DECODE_MALFORMED, "nesting deeper than 2 levels" },
        { "get", s_empty_bin, PROTO_DECODE_MALFORMED, "not a batch" },
        { "batch", NULL, PROTO_DECODE_MALFORMED, "field 'frames' is required" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, cases[i].op, 21, cases[i].value ? 1 : 0);
        if (cases[i].value) {
            frame_str (&f, "frames");
            cases[i].value (&f.pk);
        }
        proto_str_t got[PROTO_BATCH_MAX];
        size_t n = 7;
        uint64_t rid;
        proto_error_t err;
        assert_int_equal (
            proto_batch_decode (f.sb.data, f.sb.size, false, PROTO_BATCH_MAX, &rid, got, &n, &err),
            cases[i].rc);
        assert_string_equal (err.message, cases[i].message);
        assert_int_equal (n, 0);
        /* The pre-scan refuses a frame too deep before any member is read. */
        bool too_deep = cases[i].value == s_map_element;
        assert_int_equal (err.has_rid, !too_deep);
        if (!too_deep)
            assert_int_equal (err.rid, 21);
        frame_free (&f);
    }
    /* Not even a map; truncated. */
    proto_str_t got[PROTO_BATCH_MAX];
    size_t n;
    uint64_t rid;
    proto_error_t err;
    assert_int_equal (
        proto_batch_decode ("\x91\x01", 2, false, PROTO_BATCH_MAX, &rid, got, &n, &err),
        PROTO_DECODE_MALFORMED);
    msgpack_sbuffer batch;
    msgpack_sbuffer_init (&batch);
    s_ping_batch (2, 3, &batch);
    assert_int_equal (proto_batch_decode (batch.data, batch.size - 1, false, PROTO_BATCH_MAX, &rid,
                                          got, &n, &err),
                      PROTO_DECODE_MALFORMED);
    assert_int_equal (n, 0);
    msgpack_sbuffer_destroy (&batch);
}

static void
test_batch_max_keeps_the_reply_within_a_frame (void **state)
{
    assert_int_equal (proto_batch_max (NULL), PROTO_BATCH_MAX);
    proto_limits_t defaults = proto_limits_default ();
    assert_int_equal (proto_batch_max (&defaults), PROTO_BATCH_MAX);
    /* Every limit at its cap: far fewer replies of the largest size fit. */
    proto_limits_t big = { PROTO_LIMIT_CAP, PROTO_LIMIT_CAP, PROTO_LIMIT_CAP };
    size_t max = proto_batch_max (&big);
    assert_true (max >= 1 && max < PROTO_BATCH_MAX);
    assert_true (max * 3 * PROTO_LIMIT_CAP < PROTO_FRAME_MAX);
    assert_true ((max + 1) * 3 * (PROTO_LIMIT_CAP + 1024) > PROTO_FRAME_MAX);
    /* Only point operations may be batched. */
    assert_true (proto_batch_allows (PROTO_OP_PING));
    assert_true (proto_batch_allows (PROTO_OP_CREATE));
    assert_true (proto_batch_allows (PROTO_OP_GET));
    assert_true (proto_batch_allows (PROTO_OP_UPDATE));
    assert_false (proto_batch_allows (PROTO_OP_LIST));
    assert_false (proto_batch_allows (PROTO_OP_FEED_READ));
    assert_false (proto_batch_allows (PROTO_OP_FEED_ACK));
    assert_false (proto_batch_allows (PROTO_OP_STATS));
    assert_false (proto_batch_allows (PROTO_OP_BATCH));
}

int
test_proto_batch_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_batch_carries_whole_frames_in_order),
        cmocka_unit_test (test_batch_reply_is_an_ok_reply_of_op_batch),
        cmocka_unit_test (test_batch_frame_count_is_bounded),
        cmocka_unit_test (test_batch_envelope_errors_hand_out_no_frame),
        cmocka_unit_test (test_batch_max_keeps_the_reply_within_a_frame),
    };
    return cmocka_run_group_tests_name ("proto_batch", tests, NULL, NULL);
}
