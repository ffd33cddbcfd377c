/*
 * test_proto_malformed — every class of bad input the decoders must turn
 * into a precise error rather than a crash, a giant allocation or a
 * silently accepted value: truncation at every byte, trailing bytes, wrong
 * types per field, strings at and over their limits, bad UTF-8 and NUL,
 * unknown ops, versions, missing required fields and values out of range.
 * test_proto_hostile.c has the frames built to hurt the decoder.
 */
#include "test_proto.h"

#include <stdlib.h>
#include <string.h>

static void
test_truncation_at_every_offset_is_malformed (void **state)
{
    for (kind_t kind = K_REQUEST; kind <= K_NOTIFICATION; kind++) {
        msgpack_sbuffer sb;
        sample_frame (kind, &sb);
        proto_error_t err;
        assert_int_equal (frame_decode_kind (kind, sb.data, sb.size, &err), PROTO_DECODE_OK);
        for (size_t len = 0; len < sb.size; len++)
            assert_int_equal (frame_decode_kind (kind, sb.data, len, &err), PROTO_DECODE_MALFORMED);
        msgpack_sbuffer_destroy (&sb);
    }
    proto_error_t err;
    proto_request_t req;
    assert_int_equal (proto_request_decode (NULL, 0, NULL, &req, &err), PROTO_DECODE_MALFORMED);
    assert_string_equal (err.message, "empty frame");
}

static void
test_trailing_bytes_are_malformed (void **state)
{
    for (kind_t kind = K_REQUEST; kind <= K_NOTIFICATION; kind++) {
        msgpack_sbuffer sb;
        sample_frame (kind, &sb);
        msgpack_sbuffer_write (&sb, "\xc0", 1);
        proto_error_t err;
        assert_int_equal (frame_decode_kind (kind, sb.data, sb.size, &err), PROTO_DECODE_MALFORMED);
        assert_non_null (strstr (err.message, "trailing"));
        msgpack_sbuffer_destroy (&sb);
    }
}

/* One wrong value of each MessagePack type. */
typedef enum {
    W_NIL,
    W_TRUE,
    W_FLOAT,
    W_INT,
    W_NEG,
    W_STR,
    W_BIN,
    W_ARRAY,
    W_MAP,
    W_COUNT
} wrong_t;

static void
s_pack_wrong (frame_t *f, wrong_t w)
{
    switch (w) {
    case W_NIL:
        msgpack_pack_nil (&f->pk);
        break;
    case W_TRUE:
        msgpack_pack_true (&f->pk);
        break;
    case W_FLOAT:
        msgpack_pack_double (&f->pk, 1.5);
        break;
    case W_INT:
        msgpack_pack_uint32 (&f->pk, 7);
        break;
    case W_NEG:
        msgpack_pack_int32 (&f->pk, -7);
        break;
    case W_STR:
        frame_str (f, "7");
        break;
    case W_BIN:
        msgpack_pack_bin_with_body (&f->pk, "7", 1);
        break;
    case W_ARRAY:
        msgpack_pack_array (&f->pk, 1);
        msgpack_pack_uint8 (&f->pk, 7);
        break;
    case W_MAP:
        msgpack_pack_map (&f->pk, 0);
        break;
    default:
        break;
    }
}

static void
test_wrong_types_per_field_name_the_field (void **state)
{
    static const struct {
        const char *op, *key;
        bool is_string; /* else unsigned integer */
    } fields[] = {
        { "get", "event_id", true },       { "create", "user_id", true },
        { "create", "description", true }, { "update", "status", true },
        { "list", "after", true },         { "list", "limit", false },
        { "feed_read", "from", false },    { "feed_read", "max", false },
        { "feed_ack", "seq", false },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        for (wrong_t w = W_TRUE; w < W_COUNT; w++) {
            if ((fields[i].is_string && w == W_STR) || (!fields[i].is_string && w == W_INT))
                continue;
            frame_t f;
            frame_init (&f);
            /* the op's other required field, valid, comes first */
            const char *other = NULL, *value = "ok";
            if (strcmp (fields[i].op, "create") == 0)
                other = strcmp (fields[i].key, "user_id") ? "user_id" : "description";
            else if (strcmp (fields[i].op, "update") == 0)
                other = "event_id", value = UUID_TEXT;
            frame_request (&f, fields[i].op, 5, other ? 2 : 1);
            if (other) {
                frame_str (&f, other);
                frame_str (&f, value);
            }
            frame_str (&f, fields[i].key);
            s_pack_wrong (&f, w);
            proto_error_t err;
            proto_decode_t rc = frame_decode_checked (&f, &err);
            /* a negative count is a value out of range, a string that is
               not a uuid is an invalid value; every other case a type error */
            if (w == W_NEG && !fields[i].is_string)
                assert_int_equal (rc, PROTO_DECODE_INVALID);
            else
                assert_int_equal (rc, PROTO_DECODE_MALFORMED);
            assert_string_equal (err.field, fields[i].key);
            assert_true (err.has_rid);
            assert_int_equal (err.rid, 5);
            frame_free (&f);
        }
}

static void
test_wrong_types_of_envelope_fields (void **state)
{
    for (wrong_t w = W_NIL; w < W_COUNT; w++) {
        /* op of the wrong type: malformed (nil = absent = missing) */
        frame_t f;
        frame_init (&f);
        msgpack_pack_map (&f.pk, 3);
        frame_str (&f, "v");
        msgpack_pack_uint8 (&f.pk, 1);
        frame_str (&f, "rid");
        msgpack_pack_uint8 (&f.pk, 1);
        frame_str (&f, "op");
        s_pack_wrong (&f, w == W_STR ? W_INT : w);
        proto_error_t err;
        assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_MALFORMED);
        assert_string_equal (err.field, "op");
        frame_free (&f);
        /* rid of the wrong type: malformed, and no rid to echo */
        if (w == W_INT)
            continue;
        frame_init (&f);
        msgpack_pack_map (&f.pk, 3);
        frame_str (&f, "v");
        msgpack_pack_uint8 (&f.pk, 1);
        frame_str (&f, "op");
        frame_str (&f, "ping");
        frame_str (&f, "rid");
        s_pack_wrong (&f, w);
        assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_MALFORMED);
        assert_string_equal (err.field, "rid");
        assert_false (err.has_rid);
        frame_free (&f);
    }
}

static void
s_create_with (const char *key, const char *value, size_t len, proto_decode_t want,
               const char *message)
{
    frame_t f;
    frame_init (&f);
    frame_request (&f, "create", 11, 2);
    frame_str (&f, strcmp (key, "user_id") == 0 ? "description" : "user_id");
    frame_str (&f, "ok");
    frame_str (&f, key);
    frame_bytes (&f, value, len);
    proto_error_t err;
    assert_int_equal (frame_decode_checked (&f, &err), want);
    if (message) {
        assert_string_equal (err.message, message);
        assert_string_equal (err.field, key);
        assert_int_equal (err.rid, 11);
    }
    frame_free (&f);
}

static void
test_strings_at_limit_pass_and_over_limit_fail (void **state)
{
    char *big = malloc (PROTO_DESCRIPTION_MAX_DEFAULT + 1);
    memset (big, 'x', PROTO_DESCRIPTION_MAX_DEFAULT + 1);
    s_create_with ("user_id", big, 256, PROTO_DECODE_OK, NULL);
    s_create_with ("user_id", big, 257, PROTO_DECODE_INVALID,
                   "String should have at most 256 bytes");
    s_create_with ("description", big, 4096, PROTO_DECODE_OK, NULL);
    s_create_with ("description", big, 4097, PROTO_DECODE_INVALID,
                   "String should have at most 4096 bytes");
    s_create_with ("user_id", "", 0, PROTO_DECODE_INVALID,
                   "String should have at least 1 character");
    free (big);
    /* status through update, 64 and 65 bytes */
    for (size_t len = 64; len <= 65; len++) {
        char status[65];
        memset (status, 's', sizeof status);
        frame_t f;
        frame_init (&f);
        frame_request (&f, "update", 1, 2);
        frame_str (&f, "event_id");
        frame_str (&f, UUID_TEXT);
        frame_str (&f, "status");
        frame_bytes (&f, status, len);
        proto_error_t err;
        assert_int_equal (frame_decode_checked (&f, &err),
                          len == 64 ? PROTO_DECODE_OK : PROTO_DECODE_INVALID);
        frame_free (&f);
    }
}

static void
test_bad_utf8_and_nul_are_invalid (void **state)
{
    static const char *const bad[] = { "\xc0\xaf",     "\xe0\x80\xaf",     "\xf0\x80\x80\xaf",
                                       "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xff" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        s_create_with ("description", bad[i], strlen (bad[i]), PROTO_DECODE_INVALID,
                       "Invalid UTF-8");
    s_create_with ("user_id", "a\0b", 3, PROTO_DECODE_INVALID,
                   "String must not contain NUL characters");
}

static void
test_unknown_op_and_bad_versions (void **state)
{
    frame_t f;
    frame_init (&f);
    frame_request (&f, "delete\x01", 99, 0);
    proto_error_t err;
    assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_UNKNOWN_OP);
    assert_string_equal (err.message, "unknown op 'delete?'");
    assert_true (err.has_rid);
    assert_int_equal (err.rid, 99);
    frame_free (&f);

    for (wrong_t w = W_NIL; w <= W_COUNT; w++) { /* W_COUNT: no "v" at all */
        frame_init (&f);
        msgpack_pack_map (&f.pk, w == W_COUNT ? 2 : 3);
        frame_str (&f, "rid");
        msgpack_pack_uint8 (&f.pk, 3);
        frame_str (&f, "op");
        frame_str (&f, "ping");
        if (w != W_COUNT) {
            frame_str (&f, "v");
            if (w == W_INT)
                msgpack_pack_uint8 (&f.pk, 2);
            else
                s_pack_wrong (&f, w);
        }
        assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_VERSION);
        assert_string_equal (err.field, "v");
        assert_int_equal (err.rid, 3);
        frame_free (&f);
    }
}

static void
test_rid_is_echoed_even_when_the_rest_is_malformed (void **state)
{
    frame_t f;
    frame_init (&f);
    frame_request (&f, "get", 123456789012ULL, 1);
    frame_str (&f, "event_id");
    msgpack_pack_uint8 (&f.pk, 5);
    proto_error_t err;
    assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_MALFORMED);
    assert_true (err.has_rid);
    assert_int_equal (err.rid, 123456789012ULL);
    assert_string_equal (err.message, "field 'event_id': expected string");
    frame_free (&f);
    /* missing rid: malformed */
    frame_init (&f);
    msgpack_pack_map (&f.pk, 2);
    frame_str (&f, "v");
    msgpack_pack_uint8 (&f.pk, 1);
    frame_str (&f, "op");
    frame_str (&f, "ping");
    assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_MALFORMED);
    assert_string_equal (err.field, "rid");
    frame_free (&f);
}

static void
test_required_fields_per_op (void **state)
{
    static const struct {
        const char *op, *key, *value, *missing;
    } cases[] = {
        { "create", "user_id", "u", "description" },
        { "create", "description", "d", "user_id" },
        { "get", "zz", "x", "event_id" },
        { "update", "status", "processed", "event_id" },
        { "feed_ack", "zz", "x", "seq" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, cases[i].op, 1, 1);
        frame_str (&f, cases[i].key);
        frame_str (&f, cases[i].value);
        proto_error_t err;
        assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_INVALID);
        assert_string_equal (err.field, cases[i].missing);
        assert_string_equal (err.message, "Field required");
        frame_free (&f);
    }
    /* update with nothing to change */
    frame_t f;
    frame_init (&f);
    frame_request (&f, "update", 1, 1);
    frame_str (&f, "event_id");
    frame_str (&f, UUID_TEXT);
    proto_error_t err;
    assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_INVALID);
    assert_string_equal (err.message, "At least one of status, user_id, description is required");
    frame_free (&f);
}

static void
test_counts_and_uuids_out_of_range (void **state)
{
    static const struct {
        const char *op, *key;
        int64_t value;
        proto_decode_t want;
    } cases[] = {
        { "list", "limit", 0, PROTO_DECODE_INVALID },
        { "list", "limit", 1, PROTO_DECODE_OK },
        { "list", "limit", 1000, PROTO_DECODE_OK },
        { "list", "limit", 1001, PROTO_DECODE_INVALID },
        { "list", "limit", -1, PROTO_DECODE_INVALID },
        { "list", "limit", 1LL << 40, PROTO_DECODE_INVALID },
        { "feed_read", "max", 0, PROTO_DECODE_INVALID },
        { "feed_read", "max", 1000, PROTO_DECODE_OK },
        { "feed_read", "max", 1001, PROTO_DECODE_INVALID },
        { "feed_read", "from", -5, PROTO_DECODE_INVALID },
        { "feed_ack", "seq", -1, PROTO_DECODE_INVALID },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, cases[i].op, 1, 1);
        frame_str (&f, cases[i].key);
        msgpack_pack_int64 (&f.pk, cases[i].value);
        proto_error_t err;
        assert_int_equal (frame_decode_checked (&f, &err), cases[i].want);
        if (cases[i].want != PROTO_DECODE_OK)
            assert_string_equal (err.field, cases[i].key);
        frame_free (&f);
    }
    static const char *const uuid_keys[][2] = { { "get", "event_id" },
                                                { "list", "after" },
                                                { "feed_ack", "store_id" } };
    for (size_t i = 0; i < 3; i++) {
        frame_t f;
        frame_init (&f);
        bool ack = strcmp (uuid_keys[i][0], "feed_ack") == 0;
        frame_request (&f, uuid_keys[i][0], 1, ack ? 2 : 1);
        if (ack) { /* its required seq, valid */
            frame_str (&f, "seq");
            msgpack_pack_uint8 (&f.pk, 3);
        }
        frame_str (&f, uuid_keys[i][1]);
        frame_str (&f, "{" UUID_TEXT "}");
        proto_error_t err;
        assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_INVALID);
        assert_string_equal (err.field, uuid_keys[i][1]);
        frame_free (&f);
    }
}

int
test_proto_malformed_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_truncation_at_every_offset_is_malformed),
        cmocka_unit_test (test_trailing_bytes_are_malformed),
        cmocka_unit_test (test_wrong_types_per_field_name_the_field),
        cmocka_unit_test (test_wrong_types_of_envelope_fields),
        cmocka_unit_test (test_strings_at_limit_pass_and_over_limit_fail),
        cmocka_unit_test (test_bad_utf8_and_nul_are_invalid),
        cmocka_unit_test (test_unknown_op_and_bad_versions),
        cmocka_unit_test (test_rid_is_echoed_even_when_the_rest_is_malformed),
        cmocka_unit_test (test_required_fields_per_op),
        cmocka_unit_test (test_counts_and_uuids_out_of_range),
    };
    return cmocka_run_group_tests_name ("proto_malformed", tests, NULL, NULL);
}
