/*
 * test_proto_receipt — the "receipt" of list and feed_read (PROTOCOL.md
 * §4.3): it round-trips in both requests and in their replies, a value
 * that is not 32 hexadecimal digits is refused (INVALID in a request,
 * MALFORMED in a reply), ops that do not take it ignore it, and
 * proto_request_peek_receipt finds it where the decoder does and nowhere
 * else, reading nothing past the end of a frame cut anywhere.
 */
#include "test_proto.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t s_receipt[16] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c,
                                       0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67 };
#define RECEIPT_TEXT "000000000000012cdeadbeef01234567"

static void
test_receipt_text_is_32_hex_digits_either_case_in_and_lowercase_out (void **state)
{
    (void)state;
    char text[PROTO_RECEIPT_LEN + 1];
    proto_receipt_format (s_receipt, text);
    assert_string_equal (text, RECEIPT_TEXT);
    uint8_t back[16];
    assert_int_equal (proto_receipt_parse (RECEIPT_TEXT, 32, back), 0);
    assert_memory_equal (back, s_receipt, 16);
    assert_int_equal (proto_receipt_parse ("000000000000012CDEADBEEF01234567", 32, back), 0);
    assert_memory_equal (back, s_receipt, 16);
    const char *bad[] = { RECEIPT_TEXT "0", "000000000000012cdeadbeef0123456",
                          "000000000000012cdeadbeef0123456g", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (proto_receipt_parse (bad[i], strlen (bad[i]), back), -1);
    assert_int_equal (proto_receipt_parse (NULL, 32, back), -1);
}

static void
test_receipt_round_trips_in_list_and_feed_read_and_their_replies (void **state)
{
    (void)state;
    proto_op_t ops[] = { PROTO_OP_LIST, PROTO_OP_FEED_READ };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        proto_request_t req = { .op = ops[i], .rid = 9, .has = PROTO_HAS_RECEIPT };
        memcpy (req.receipt, s_receipt, 16);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        assert_int_equal (proto_request_encode (&req, &sb), 0);
        proto_request_t back;
        proto_error_t err;
        assert_int_equal (proto_request_decode (sb.data, sb.size, NULL, &back, &err),
                          PROTO_DECODE_OK);
        assert_true (back.has & PROTO_HAS_RECEIPT);
        assert_memory_equal (back.receipt, s_receipt, 16);
        msgpack_sbuffer_clear (&sb);

        proto_reply_t reply = { .op = ops[i], .rid = 9, .status = PROTO_OK, .has_receipt = true };
        memcpy (reply.receipt, s_receipt, 16);
        assert_int_equal (proto_reply_encode (&reply, &sb), 0);
        proto_reply_t decoded;
        assert_int_equal (proto_reply_decode (sb.data, sb.size, &decoded, &err), PROTO_DECODE_OK);
        assert_true (decoded.has_receipt);
        assert_memory_equal (decoded.receipt, s_receipt, 16);
        proto_reply_clear (&decoded);
        /* Absent stays absent. */
        msgpack_sbuffer_clear (&sb);
        reply.has_receipt = false;
        assert_int_equal (proto_reply_encode (&reply, &sb), 0);
        assert_int_equal (proto_reply_decode (sb.data, sb.size, &decoded, &err), PROTO_DECODE_OK);
        assert_false (decoded.has_receipt);
        proto_reply_clear (&decoded);
        msgpack_sbuffer_destroy (&sb);
    }
}

static void
test_receipt_that_is_not_32_hex_digits_is_refused (void **state)
{
    (void)state;
    const char *bad[] = { "000000000000012cdeadbeef0123456", RECEIPT_TEXT "0",
                          "000000000000012cdeadbeef0123456z" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, "feed_read", 1, 1);
        frame_str (&f, "receipt");
        frame_str (&f, bad[i]);
        proto_request_t req;
        proto_error_t err;
        assert_int_equal (frame_decode_request (&f, &req, &err), PROTO_DECODE_INVALID);
        assert_string_equal (err.field, "receipt");
        assert_int_equal (err.rid, 1);
        frame_free (&f);
    }
    /* Not a string at all. */
    frame_t f;
    frame_init (&f);
    frame_request (&f, "list", 1, 1);
    frame_str (&f, "receipt");
    msgpack_pack_uint64 (&f.pk, 300);
    proto_request_t req;
    proto_error_t err;
    assert_int_equal (frame_decode_request (&f, &req, &err), PROTO_DECODE_MALFORMED);
    frame_free (&f);
    /* In a reply: the whole reply is malformed. */
    frame_init (&f);
    uint8_t head[] = { 0x85 };
    msgpack_sbuffer_write (&f.sb, (const char *)head, sizeof head);
    frame_str (&f, "v");
    msgpack_pack_uint8 (&f.pk, PROTO_VERSION);
    frame_str (&f, "op");
    frame_str (&f, "list");
    frame_str (&f, "rid");
    msgpack_pack_uint8 (&f.pk, 1);
    frame_str (&f, "status");
    frame_str (&f, "ok");
    frame_str (&f, "receipt");
    frame_str (&f, "zz");
    assert_int_equal (frame_decode_kind (K_REPLY, f.sb.data, f.sb.size, &err),
                      PROTO_DECODE_MALFORMED);
    frame_free (&f);
}

static void
test_receipt_is_ignored_by_ops_that_do_not_take_it (void **state)
{
    (void)state;
    frame_t f;
    frame_init (&f);
    frame_request (&f, "get", 1, 2);
    frame_str (&f, "event_id");
    frame_str (&f, UUID_TEXT);
    frame_str (&f, "receipt");
    frame_str (&f, "not a receipt");
    proto_request_t req;
    proto_error_t err;
    assert_int_equal (frame_decode_request (&f, &req, &err), PROTO_DECODE_OK);
    assert_false (req.has & PROTO_HAS_RECEIPT);
    frame_free (&f);
}

/* peek on an exact-size heap copy of the len bytes (ASan sees any read
   past the end). */
static bool
s_peek (const void *data, size_t len, uint8_t receipt[16])
{
    void *copy = malloc (len ? len : 1);
    assert_non_null (copy);
    memcpy (copy, data, len);
    bool found = proto_request_peek_receipt (copy, len, receipt);
    free (copy);
    return found;
}

static void
test_peek_receipt_finds_it_in_list_and_feed_read_as_the_encoder_writes_them (void **state)
{
    (void)state;
    proto_op_t ops[] = { PROTO_OP_LIST, PROTO_OP_FEED_READ };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        proto_request_t req = { .op = ops[i], .rid = 3, .has = PROTO_HAS_RECEIPT };
        memcpy (req.receipt, s_receipt, 16);
        if (ops[i] == PROTO_OP_LIST) {
            req.has |= PROTO_HAS_STATUS | PROTO_HAS_LIMIT;
            req.status = PROTO_STR ("pending");
            req.limit = 100;
        } else {
            req.has |= PROTO_HAS_FROM | PROTO_HAS_MAX;
            req.from = 77;
            req.max = 500;
        }
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        assert_int_equal (proto_request_encode (&req, &sb), 0);
        uint8_t found[16] = { 0 };
        assert_true (s_peek (sb.data, sb.size, found));
        assert_memory_equal (found, s_receipt, 16);
        /* Cut anywhere: no receipt before its last digit, no read past the end. */
        size_t end = 0;
        for (size_t at = 0; at + 32 <= sb.size && !end; at++)
            if (memcmp (sb.data + at, RECEIPT_TEXT, 32) == 0)
                end = at + 32;
        assert_true (end > 0);
        for (size_t len = 0; len < sb.size; len++) {
            memset (found, 0, sizeof found);
            bool got = s_peek (sb.data, len, found);
            assert_true (got == (len >= end));
            if (got)
                assert_memory_equal (found, s_receipt, 16);
        }
        msgpack_sbuffer_destroy (&sb);
    }
}

static void
test_peek_receipt_answers_false_for_other_ops_and_bad_values (void **state)
{
    (void)state;
    uint8_t found[16];
    const char *ops[] = { "get", "update", "create", "feed_ack", "stats" };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, ops[i], 1, 1);
        frame_str (&f, "receipt");
        frame_str (&f, RECEIPT_TEXT);
        assert_false (s_peek (f.sb.data, f.sb.size, found));
        frame_free (&f);
    }
    frame_t f;
    frame_init (&f);
    frame_request (&f, "list", 1, 1);
    frame_str (&f, "receipt");
    frame_str (&f, RECEIPT_TEXT "0");
    assert_false (s_peek (f.sb.data, f.sb.size, found));
    frame_free (&f);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (proto_batch_begin (1, false, 1, &sb), 0);
    assert_false (s_peek (sb.data, sb.size, found));
    msgpack_sbuffer_destroy (&sb);
    assert_false (proto_request_peek_receipt (NULL, 0, found));
}

int
test_proto_receipt_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_receipt_text_is_32_hex_digits_either_case_in_and_lowercase_out),
        cmocka_unit_test (test_receipt_round_trips_in_list_and_feed_read_and_their_replies),
        cmocka_unit_test (test_receipt_that_is_not_32_hex_digits_is_refused),
        cmocka_unit_test (test_receipt_is_ignored_by_ops_that_do_not_take_it),
        cmocka_unit_test (
            test_peek_receipt_finds_it_in_list_and_feed_read_as_the_encoder_writes_them),
        cmocka_unit_test (test_peek_receipt_answers_false_for_other_ops_and_bad_values),
    };
    return cmocka_run_group_tests_name ("proto_receipt", tests, NULL, NULL);
}
