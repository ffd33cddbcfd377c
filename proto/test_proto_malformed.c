/*
 * test_proto_malformed — every class of bad input the decoders must turn
 * into a precise error rather than a crash, a giant allocation or a
 * silently accepted value: truncation at every byte, trailing bytes, wrong
 * types per field, strings at and over their limits, bad UTF-8 and NUL,
 * unknown ops, versions, huge declared counts, deep nesting, duplicate
 * keys, and random and mutated bytes.
 */
#include "test_proto.h"

#include <stdlib.h>
#include <string.h>

#define UUID_TEXT "5f0c6a1e-9b2d-4c3e-8f70-0123456789ab"

/* Decodes len bytes copied to an exact-size heap block, so a read past
   the end is caught by ASan. Checks the error contract on failure. */
typedef enum { K_REQUEST, K_REPLY, K_NOTIFICATION } kind_t;

static proto_decode_t
s_decode (kind_t kind, const void *data, size_t len, proto_error_t *err)
{
    void *copy = malloc (len ? len : 1);
    assert_non_null (copy);
    if (len)
        memcpy (copy, data, len);
    proto_limits_t limits = proto_limits_default ();
    proto_decode_t rc;
    if (kind == K_REQUEST) {
        proto_request_t req;
        rc = proto_request_decode (copy, len, &limits, &req, err);
    } else if (kind == K_REPLY) {
        proto_reply_t reply;
        rc = proto_reply_decode (copy, len, &reply, err);
        if (rc == PROTO_DECODE_OK)
            proto_reply_clear (&reply);
        else
            assert_null (reply.items);
    } else {
        proto_notification_t n;
        rc = proto_notification_decode (copy, len, &limits, &n, err);
    }
    free (copy);
    if (rc != PROTO_DECODE_OK)
        assert_true (err->message[0] != '\0');
    return rc;
}

static proto_decode_t
s_request (frame_t *f, proto_error_t *err)
{
    return s_decode (K_REQUEST, f->sb.data, f->sb.size, err);
}

/* Valid sample frames of each family. */
static void
s_sample (kind_t kind, msgpack_sbuffer *sb)
{
    msgpack_sbuffer_init (sb);
    proto_event_t events[2] = { sample_event (0), sample_event (1) };
    if (kind == K_REQUEST) {
        proto_request_t req = { .op = PROTO_OP_LIST,
                                .rid = 300,
                                .has = PROTO_HAS_USER_ID | PROTO_HAS_AFTER | PROTO_HAS_LIMIT,
                                .user_id = PROTO_STR ("u-\xc3\xa9"),
                                .limit = 1000 };
        assert_int_equal (proto_request_encode (&req, sb), 0);
    } else if (kind == K_REPLY) {
        proto_change_t changes[2] = { { 1, PROTO_CHANGE_CREATED, events[0] },
                                      { 2, PROTO_CHANGE_UPDATED, events[1] } };
        proto_reply_t reply = { .op = PROTO_OP_FEED_READ,
                                .rid = 70000,
                                .changes = changes,
                                .n_changes = 2,
                                .head = 2,
                                .feed_len = 2,
                                .feed_max = 9 };
        assert_int_equal (proto_reply_encode (&reply, sb), 0);
    } else {
        proto_notification_t n = { .seq = 5, .kind = PROTO_CHANGE_UPDATED, .event = events[1] };
        assert_int_equal (proto_notification_encode (&n, sb), 0);
    }
}

static void
test_truncation_at_every_offset_is_malformed (void **state)
{
    for (kind_t kind = K_REQUEST; kind <= K_NOTIFICATION; kind++) {
        msgpack_sbuffer sb;
        s_sample (kind, &sb);
        proto_error_t err;
        assert_int_equal (s_decode (kind, sb.data, sb.size, &err), PROTO_DECODE_OK);
        for (size_t len = 0; len < sb.size; len++)
            assert_int_equal (s_decode (kind, sb.data, len, &err), PROTO_DECODE_MALFORMED);
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
        s_sample (kind, &sb);
        msgpack_sbuffer_write (&sb, "\xc0", 1);
        proto_error_t err;
        assert_int_equal (s_decode (kind, sb.data, sb.size, &err), PROTO_DECODE_MALFORMED);
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
            proto_decode_t rc = s_request (&f, &err);
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
        assert_int_equal (s_request (&f, &err), PROTO_DECODE_MALFORMED);
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
        assert_int_equal (s_request (&f, &err), PROTO_DECODE_MALFORMED);
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
    assert_int_equal (s_request (&f, &err), want);
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
        assert_int_equal (s_request (&f, &err), len == 64 ? PROTO_DECODE_OK : PROTO_DECODE_INVALID);
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
    assert_int_equal (s_request (&f, &err), PROTO_DECODE_UNKNOWN_OP);
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
        assert_int_equal (s_request (&f, &err), PROTO_DECODE_VERSION);
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
    assert_int_equal (s_request (&f, &err), PROTO_DECODE_MALFORMED);
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
    assert_int_equal (s_request (&f, &err), PROTO_DECODE_MALFORMED);
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
        assert_int_equal (s_request (&f, &err), PROTO_DECODE_INVALID);
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
    assert_int_equal (s_request (&f, &err), PROTO_DECODE_INVALID);
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
        assert_int_equal (s_request (&f, &err), cases[i].want);
        if (cases[i].want != PROTO_DECODE_OK)
            assert_string_equal (err.field, cases[i].key);
        frame_free (&f);
    }
    static const char *const uuid_keys[][2] = { { "get", "event_id" }, { "list", "after" } };
    for (size_t i = 0; i < 2; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, uuid_keys[i][0], 1, 1);
        frame_str (&f, uuid_keys[i][1]);
        frame_str (&f, "{" UUID_TEXT "}");
        proto_error_t err;
        assert_int_equal (s_request (&f, &err), PROTO_DECODE_INVALID);
        assert_string_equal (err.field, uuid_keys[i][1]);
        frame_free (&f);
    }
}

static void
test_huge_declared_counts_are_refused_before_allocation (void **state)
{
    proto_error_t err;
    /* map32 / array32 / map16 claiming far more elements than bytes */
    static const struct {
        const char *bytes;
        size_t len;
    } roots[] = { { "\xdf\xff\xff\xff\xff", 5 },
                  { "\xdf\x7f\xff\xff\xff\x00\x00", 7 },
                  { "\xde\xff\xff\xa1v\x01", 6 } };
    for (size_t i = 0; i < 3; i++)
        for (kind_t kind = K_REQUEST; kind <= K_NOTIFICATION; kind++)
            assert_int_equal (s_decode (kind, roots[i].bytes, roots[i].len, &err),
                              PROTO_DECODE_MALFORMED);
    assert_int_equal (s_decode (K_REQUEST, "\xdd\xff\xff\xff\xff", 5, &err),
                      PROTO_DECODE_MALFORMED); /* a root array is not a map either */
    /* nested: {"x": array32(2^32-1)} and {"x": str32(2^32-1)} */
    assert_int_equal (s_decode (K_REQUEST, "\x81\xa1x\xdd\xff\xff\xff\xff\x01", 10, &err),
                      PROTO_DECODE_MALFORMED);
    assert_non_null (strstr (err.message, "declares 4294967295 elements"));
    assert_int_equal (s_decode (K_REPLY, "\x81\xa1x\xdb\xff\xff\xff\xff\x01", 10, &err),
                      PROTO_DECODE_MALFORMED);
    /* a valid reply whose items array is over the protocol maximum */
    frame_t f;
    frame_init (&f);
    msgpack_pack_map (&f.pk, 5);
    frame_str (&f, "v");
    msgpack_pack_uint8 (&f.pk, 1);
    frame_str (&f, "op");
    frame_str (&f, "list");
    frame_str (&f, "rid");
    msgpack_pack_uint8 (&f.pk, 1);
    frame_str (&f, "status");
    frame_str (&f, "ok");
    frame_str (&f, "items");
    msgpack_pack_array (&f.pk, PROTO_LIST_LIMIT_MAX + 1);
    for (int i = 0; i <= PROTO_LIST_LIMIT_MAX; i++)
        msgpack_pack_nil (&f.pk);
    assert_int_equal (s_decode (K_REPLY, f.sb.data, f.sb.size, &err), PROTO_DECODE_MALFORMED);
    assert_string_equal (err.field, "items");
    frame_free (&f);
}

static void
test_nesting_deeper_than_needed_is_malformed (void **state)
{
    frame_t f;
    frame_init (&f);
    frame_request (&f, "ping", 1, 1);
    frame_str (&f, "future");
    msgpack_pack_array (&f.pk, 1); /* level 2: allowed */
    msgpack_pack_uint8 (&f.pk, 1);
    proto_error_t err;
    assert_int_equal (s_request (&f, &err), PROTO_DECODE_OK);
    frame_free (&f);
    frame_init (&f);
    frame_request (&f, "ping", 1, 1);
    frame_str (&f, "future");
    msgpack_pack_array (&f.pk, 1);
    msgpack_pack_map (&f.pk, 0); /* level 3 */
    assert_int_equal (s_request (&f, &err), PROTO_DECODE_MALFORMED);
    assert_non_null (strstr (err.message, "nesting"));
    frame_free (&f);
    /* 100000 nested arrays: refused without recursion */
    size_t depth = 100000;
    char *deep = malloc (depth + 1);
    deep[0] = '\x81';
    deep[1] = '\xa1';
    deep[2] = 'x';
    memset (deep + 3, '\x91', depth - 3);
    deep[depth] = '\x01';
    for (kind_t kind = K_REQUEST; kind <= K_NOTIFICATION; kind++)
        assert_int_equal (s_decode (kind, deep, depth + 1, &err), PROTO_DECODE_MALFORMED);
    free (deep);
}

static void
test_duplicate_and_non_string_keys_are_malformed (void **state)
{
    static const char *const dups[] = { "user_id", "v", "zz" };
    for (size_t i = 0; i < 3; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, "create", 1, 4);
        frame_str (&f, "description");
        frame_str (&f, "d");
        frame_str (&f, "user_id");
        frame_str (&f, "u");
        frame_str (&f, dups[i]);
        msgpack_pack_uint8 (&f.pk, 1);
        frame_str (&f, dups[i][0] == 'z' ? "zz" : "other");
        msgpack_pack_uint8 (&f.pk, 1);
        proto_error_t err;
        assert_int_equal (s_request (&f, &err), PROTO_DECODE_MALFORMED);
        assert_non_null (strstr (err.message, "duplicate"));
        frame_free (&f);
    }
    frame_t f;
    frame_init (&f);
    frame_request (&f, "ping", 1, 1);
    msgpack_pack_uint8 (&f.pk, 1); /* integer key */
    msgpack_pack_uint8 (&f.pk, 1);
    proto_error_t err;
    assert_int_equal (s_request (&f, &err), PROTO_DECODE_MALFORMED);
    frame_free (&f);
    /* more keys than any protocol map has */
    frame_init (&f);
    frame_request (&f, "ping", 1, 62);
    for (int i = 0; i < 62; i++) {
        char key[8];
        snprintf (key, sizeof key, "k%d", i);
        frame_str (&f, key);
        msgpack_pack_nil (&f.pk);
    }
    assert_int_equal (s_request (&f, &err), PROTO_DECODE_MALFORMED);
    frame_free (&f);
}

static void
test_frames_over_the_size_limit_are_malformed (void **state)
{
    size_t big = PROTO_FRAME_MAX + 1;
    char *buf = calloc (1, big);
    proto_error_t err;
    assert_int_equal (s_decode (K_REQUEST, buf, big, &err), PROTO_DECODE_MALFORMED);
    assert_non_null (strstr (err.message, "exceeds"));
    free (buf);
}

static void
test_reply_specific_errors (void **state)
{
    static const char *const statuses[] = { "OK", "okay", "" };
    for (size_t i = 0; i < 3; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, "ping", 1, 1); /* same envelope as a reply */
        frame_str (&f, "status");
        frame_str (&f, statuses[i]);
        proto_error_t err;
        assert_int_equal (s_decode (K_REPLY, f.sb.data, f.sb.size, &err), PROTO_DECODE_MALFORMED);
        frame_free (&f);
    }
    /* a get reply whose event lacks a member, or has created_at > INT64_MAX */
    for (int variant = 0; variant < 2; variant++) {
        /* variant 0 drops "seq"; variant 1 has created_at above INT64_MAX */
        frame_t f;
        frame_init (&f);
        msgpack_pack_map (&f.pk, 5);
        frame_str (&f, "v");
        msgpack_pack_uint8 (&f.pk, 1);
        frame_str (&f, "op");
        frame_str (&f, "get");
        frame_str (&f, "rid");
        msgpack_pack_uint8 (&f.pk, 0);
        frame_str (&f, "status");
        frame_str (&f, "ok");
        frame_str (&f, "event");
        msgpack_pack_map (&f.pk, variant == 0 ? 6 : 7);
        frame_str (&f, "event_id");
        frame_str (&f, UUID_TEXT);
        frame_str (&f, "user_id");
        frame_str (&f, "u");
        frame_str (&f, "description");
        frame_str (&f, "d");
        frame_str (&f, "status");
        frame_str (&f, "pending");
        frame_str (&f, "created_at");
        msgpack_pack_uint64 (&f.pk, variant == 0 ? 1 : (uint64_t)INT64_MAX + 1);
        frame_str (&f, "updated_at");
        msgpack_pack_int64 (&f.pk, -1);
        if (variant == 1) {
            frame_str (&f, "seq");
            msgpack_pack_uint8 (&f.pk, 1);
        }
        proto_error_t err;
        assert_int_equal (s_decode (K_REPLY, f.sb.data, f.sb.size, &err), PROTO_DECODE_MALFORMED);
        assert_string_equal (err.field, variant == 0 ? "seq" : "created_at");
        frame_free (&f);
    }
}

static void
test_notification_specific_errors (void **state)
{
    frame_t f;
    frame_init (&f);
    msgpack_pack_map (&f.pk, 3);
    frame_str (&f, "v");
    msgpack_pack_uint8 (&f.pk, 1);
    frame_str (&f, "seq");
    msgpack_pack_uint8 (&f.pk, 1);
    frame_str (&f, "type");
    frame_str (&f, "event.deleted");
    proto_error_t err;
    assert_int_equal (s_decode (K_NOTIFICATION, f.sb.data, f.sb.size, &err), PROTO_DECODE_INVALID);
    assert_string_equal (err.field, "type");
    frame_free (&f);
}

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t
s_rand (uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void
test_random_bytes_never_decode (void **state)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    uint8_t buf[96];
    for (int i = 0; i < 30000; i++) {
        size_t len = s_rand (&seed) % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)s_rand (&seed);
        proto_error_t err;
        for (kind_t kind = K_REQUEST; kind <= K_NOTIFICATION; kind++)
            assert_int_not_equal (s_decode (kind, buf, len, &err), PROTO_DECODE_OK);
    }
}

static void
test_mutated_frames_decode_or_fail_cleanly (void **state)
{
    uint64_t seed = 42;
    for (kind_t kind = K_REQUEST; kind <= K_NOTIFICATION; kind++) {
        msgpack_sbuffer sb;
        s_sample (kind, &sb);
        char *copy = malloc (sb.size);
        size_t ok = 0;
        for (int i = 0; i < 20000; i++) {
            memcpy (copy, sb.data, sb.size);
            int flips = 1 + (int)(s_rand (&seed) % 3);
            for (int k = 0; k < flips; k++)
                copy[s_rand (&seed) % sb.size] = (char)s_rand (&seed);
            proto_error_t err;
            if (s_decode (kind, copy, sb.size, &err) == PROTO_DECODE_OK)
                ok++; /* e.g. a changed letter inside a description */
        }
        assert_true (ok < 20000); /* most mutations must be caught */
        free (copy);
        msgpack_sbuffer_destroy (&sb);
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
        cmocka_unit_test (test_huge_declared_counts_are_refused_before_allocation),
        cmocka_unit_test (test_nesting_deeper_than_needed_is_malformed),
        cmocka_unit_test (test_duplicate_and_non_string_keys_are_malformed),
        cmocka_unit_test (test_frames_over_the_size_limit_are_malformed),
        cmocka_unit_test (test_reply_specific_errors),
        cmocka_unit_test (test_notification_specific_errors),
        cmocka_unit_test (test_random_bytes_never_decode),
        cmocka_unit_test (test_mutated_frames_decode_or_fail_cleanly),
    };
    return cmocka_run_group_tests_name ("proto_malformed", tests, NULL, NULL);
}
