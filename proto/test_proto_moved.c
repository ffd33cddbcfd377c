/*
 * test_proto_moved — the "moved" error reply of a sharded store (PROTOCOL.md
 * §4, §9): it round-trips with the owner's endpoint, the map epoch and the
 * slot; the decoder refuses one without them or with values a client must
 * not follow; the encoder refuses to write what the decoder would refuse.
 */
#include "shard_map.h"
#include "test_proto.h"

#include <string.h>

static void
test_moved_reply_round_trips_with_endpoint_epoch_and_slot (void **state)
{
    (void)state;
    proto_reply_t in = { .op = PROTO_OP_GET, .rid = 42, .status = PROTO_E_MOVED };
    in.message = PROTO_STR ("event_id is in slot 9000, owned by shard 1");
    in.field = PROTO_STR ("event_id");
    in.moved.endpoint = PROTO_STR ("tcp://127.0.0.1:5565");
    in.moved.epoch = UINT64_MAX;
    in.moved.slot = SHARD_MAP_SLOTS - 1;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (proto_reply_encode (&in, &sb), 0);
    proto_reply_t out;
    proto_error_t err;
    assert_int_equal (proto_reply_decode (sb.data, sb.size, &out, &err), PROTO_DECODE_OK);
    assert_int_equal (out.status, PROTO_E_MOVED);
    assert_string_equal (proto_status_name (out.status), "moved");
    assert_int_equal (out.op, PROTO_OP_GET);
    assert_int_equal (out.rid, 42);
    assert_int_equal (out.moved.endpoint.len, strlen ("tcp://127.0.0.1:5565"));
    assert_memory_equal (out.moved.endpoint.ptr, "tcp://127.0.0.1:5565", out.moved.endpoint.len);
    assert_true (out.moved.epoch == UINT64_MAX);
    assert_int_equal (out.moved.slot, SHARD_MAP_SLOTS - 1);
    assert_int_equal (out.field.len, 8);
    proto_reply_clear (&out);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_moved_reply_encoder_refuses_what_a_client_could_not_follow (void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_reply_t in = { .op = PROTO_OP_UPDATE, .rid = 1, .status = PROTO_E_MOVED };
    in.moved.slot = 1;
    assert_int_equal (proto_reply_encode (&in, &sb), -1); /* no endpoint */
    in.moved.endpoint = PROTO_STR ("tcp://*:5555");
    assert_int_equal (proto_reply_encode (&in, &sb), -1);
    in.moved.endpoint = PROTO_STR ("ipc:///tmp/s1");
    in.moved.slot = SHARD_MAP_SLOTS;
    assert_int_equal (proto_reply_encode (&in, &sb), -1);
    assert_int_equal (sb.size, 0);
    in.moved.slot = 0;
    assert_int_equal (proto_reply_encode (&in, &sb), 0);
    msgpack_sbuffer_destroy (&sb);
}

/* A moved reply by hand: keys is a bit set of which of endpoint (1), epoch
   (2), slot (4) to write, with these values. */
static proto_decode_t
s_decode_moved (unsigned keys, const char *endpoint, int64_t epoch, int64_t slot, char *why,
                size_t size)
{
    frame_t f;
    frame_init (&f);
    uint32_t n = 4 + !!(keys & 1) + !!(keys & 2) + !!(keys & 4);
    msgpack_pack_map (&f.pk, n);
    frame_str (&f, "v");
    msgpack_pack_uint8 (&f.pk, 1);
    frame_str (&f, "op");
    frame_str (&f, "get");
    frame_str (&f, "rid");
    msgpack_pack_uint8 (&f.pk, 9);
    frame_str (&f, "status");
    frame_str (&f, "moved");
    if (keys & 1) {
        frame_str (&f, "endpoint");
        frame_str (&f, endpoint);
    }
    if (keys & 2) {
        frame_str (&f, "epoch");
        msgpack_pack_int64 (&f.pk, epoch);
    }
    if (keys & 4) {
        frame_str (&f, "slot");
        msgpack_pack_int64 (&f.pk, slot);
    }
    proto_error_t err;
    proto_decode_t rc = frame_decode_kind (K_REPLY, f.sb.data, f.sb.size, &err);
    snprintf (why, size, "%s", err.message);
    frame_free (&f);
    return rc;
}

static void
test_moved_reply_decoder_requires_a_valid_redirect (void **state)
{
    (void)state;
    char why[160];
    assert_int_equal (s_decode_moved (7, "tcp://h:1", 0, 16383, why, sizeof why), PROTO_DECODE_OK);
    assert_int_equal (s_decode_moved (6, NULL, 1, 2, why, sizeof why), PROTO_DECODE_MALFORMED);
    assert_string_equal (why, "field 'endpoint' is required");
    assert_int_equal (s_decode_moved (5, "tcp://h:1", 1, 2, why, sizeof why),
                      PROTO_DECODE_MALFORMED);
    assert_string_equal (why, "field 'epoch' is required");
    assert_int_equal (s_decode_moved (3, "tcp://h:1", 1, 2, why, sizeof why),
                      PROTO_DECODE_MALFORMED);
    assert_string_equal (why, "field 'slot' is required");
    assert_int_equal (s_decode_moved (7, "tcp://h:1", 1, 16384, why, sizeof why),
                      PROTO_DECODE_MALFORMED);
    assert_string_equal (why, "field 'slot': not below 16384");
    assert_int_equal (s_decode_moved (7, "tcp://h:1", -1, 2, why, sizeof why),
                      PROTO_DECODE_MALFORMED);
    assert_int_equal (s_decode_moved (7, "http://h:1", 1, 2, why, sizeof why),
                      PROTO_DECODE_MALFORMED);
    assert_string_equal (why, "field 'endpoint': not tcp://HOST:PORT or ipc://PATH");
    assert_int_equal (s_decode_moved (7, "tcp://*:1", 1, 2, why, sizeof why),
                      PROTO_DECODE_MALFORMED);
}

int
test_proto_moved_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_moved_reply_round_trips_with_endpoint_epoch_and_slot),
        cmocka_unit_test (test_moved_reply_encoder_refuses_what_a_client_could_not_follow),
        cmocka_unit_test (test_moved_reply_decoder_requires_a_valid_redirect),
    };
    return cmocka_run_group_tests_name ("proto_moved", tests, NULL, NULL);
}
