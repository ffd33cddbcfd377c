/*
 * test_proto_hostile — frames built to hurt a decoder: declared counts far
 * beyond the bytes present (msgpack-c would allocate from them), nesting
 * deep enough to exhaust a recursive parser, duplicate and non-string keys,
 * oversized frames, replies and notifications that lie about their
 * contents, and streams of random and mutated bytes.
 */
#include "test_proto.h"

#include "proto_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            assert_int_equal (frame_decode_kind (kind, roots[i].bytes, roots[i].len, &err),
                              PROTO_DECODE_MALFORMED);
    assert_int_equal (frame_decode_kind (K_REQUEST, "\xdd\xff\xff\xff\xff", 5, &err),
                      PROTO_DECODE_MALFORMED); /* a root array is not a map either */
    /* nested: {"x": array32(2^32-1)} and {"x": str32(2^32-1)} */
    assert_int_equal (frame_decode_kind (K_REQUEST, "\x81\xa1x\xdd\xff\xff\xff\xff\x01", 10, &err),
                      PROTO_DECODE_MALFORMED);
    assert_non_null (strstr (err.message, "declares 4294967295 elements"));
    assert_int_equal (frame_decode_kind (K_REPLY, "\x81\xa1x\xdb\xff\xff\xff\xff\x01", 10, &err),
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
    assert_int_equal (frame_decode_kind (K_REPLY, f.sb.data, f.sb.size, &err),
                      PROTO_DECODE_MALFORMED);
    assert_string_equal (err.field, "items");
    frame_free (&f);
}

/* A top map of `entries` entries (string keys, small int values), the
   last of which holds an array of `elements` nils when elements >= 0. */
static void
s_frame_of (frame_t *f, int entries, int elements)
{
    frame_init (f);
    msgpack_pack_map (&f->pk, (size_t)entries);
    for (int i = 0; i < entries; i++) {
        char key[16];
        snprintf (key, sizeof key, "k%d", i);
        frame_str (f, key);
        if (i == entries - 1 && elements >= 0) {
            msgpack_pack_array (&f->pk, (size_t)elements);
            for (int j = 0; j < elements; j++)
                msgpack_pack_nil (&f->pk);
        } else
            msgpack_pack_int (&f->pk, i);
    }
}

/* wire_unpack_small takes a frame whose objects fit its pool and hands
   one that needs more to msgpack-c (root NIL, OK); wire_unpack_any reads
   both the same way. At the pool's limits and one past them. */
static void
test_small_reader_takes_frames_up_to_its_pool_and_no_further (void **state)
{
    static const struct {
        int entries, elements;
        bool fits;
    } cases[] = {
        { WIRE_POOL_KV, -1, true },
        { WIRE_POOL_KV + 1, -1, false },
        { 1, WIRE_POOL_OBJECTS, true },
        { 1, WIRE_POOL_OBJECTS + 1, false },
        { WIRE_POOL_KV, WIRE_POOL_OBJECTS, true },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        frame_t f;
        s_frame_of (&f, cases[c].entries, cases[c].elements);
        wire_pool_t *pool = malloc (sizeof *pool);
        assert_non_null (pool);
        msgpack_object root;
        proto_error_t err;
        assert_int_equal (wire_unpack_small (f.sb.data, f.sb.size, 2, pool, &root, &err),
                          PROTO_DECODE_OK);
        assert_int_equal (root.type, cases[c].fits ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_NIL);
        msgpack_unpacked unpacked;
        const msgpack_object *any;
        assert_int_equal (wire_unpack_any (f.sb.data, f.sb.size, 2, pool, &unpacked, &any, &err),
                          PROTO_DECODE_OK);
        assert_int_equal (any->type, MSGPACK_OBJECT_MAP);
        assert_int_equal (any->via.map.size, (uint32_t)cases[c].entries);
        const msgpack_object *last = &any->via.map.ptr[cases[c].entries - 1].val;
        if (cases[c].elements >= 0) {
            assert_int_equal (last->type, MSGPACK_OBJECT_ARRAY);
            assert_int_equal (last->via.array.size, (uint32_t)cases[c].elements);
        } else {
            assert_int_equal (last->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
            assert_int_equal (last->via.u64, (uint64_t)cases[c].entries - 1);
        }
        msgpack_unpacked_destroy (&unpacked);
        /* One byte short: refused, with the pre-scan's error, the one
           msgpack-c's road (wire_unpack) gives. */
        assert_int_equal (wire_unpack_small (f.sb.data, f.sb.size - 1, 2, pool, &root, &err),
                          PROTO_DECODE_MALFORMED);
        assert_int_equal (root.type, MSGPACK_OBJECT_NIL);
        proto_error_t generic_err;
        assert_int_equal (wire_unpack (f.sb.data, f.sb.size - 1, 2, &unpacked, &generic_err),
                          PROTO_DECODE_MALFORMED);
        msgpack_unpacked_destroy (&unpacked);
        assert_true (err.message[0] != '\0');
        assert_string_equal (err.message, generic_err.message);
        free (pool);
        frame_free (&f);
    }
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
    assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_OK);
    frame_free (&f);
    frame_init (&f);
    frame_request (&f, "ping", 1, 1);
    frame_str (&f, "future");
    msgpack_pack_array (&f.pk, 1);
    msgpack_pack_map (&f.pk, 0); /* level 3 */
    assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_MALFORMED);
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
        assert_int_equal (frame_decode_kind (kind, deep, depth + 1, &err), PROTO_DECODE_MALFORMED);
    free (deep);
}

static void
test_duplicate_and_non_string_keys_are_malformed (void **state)
{
    static const char *const dups[] = { "user_id", "v", "zz", "" };
    for (size_t i = 0; i < 4; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, "create", 1, 4);
        frame_str (&f, "description");
        frame_str (&f, "d");
        frame_str (&f, "user_id");
        frame_str (&f, "u");
        frame_str (&f, dups[i]);
        msgpack_pack_uint8 (&f.pk, 1);
        /* unknown keys repeat themselves, known ones meet another key */
        frame_str (&f, dups[i][0] == 'z' || dups[i][0] == '\0' ? dups[i] : "other");
        msgpack_pack_uint8 (&f.pk, 1);
        proto_error_t err;
        assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_MALFORMED);
        assert_non_null (strstr (err.message, "duplicate"));
        frame_free (&f);
    }
    frame_t f;
    frame_init (&f);
    frame_request (&f, "ping", 1, 1);
    msgpack_pack_uint8 (&f.pk, 1); /* integer key */
    msgpack_pack_uint8 (&f.pk, 1);
    proto_error_t err;
    assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_MALFORMED);
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
    assert_int_equal (frame_decode_checked (&f, &err), PROTO_DECODE_MALFORMED);
    frame_free (&f);
}

static void
test_frames_over_the_size_limit_are_malformed (void **state)
{
    size_t big = PROTO_FRAME_MAX + 1;
    char *buf = calloc (1, big);
    proto_error_t err;
    assert_int_equal (frame_decode_kind (K_REQUEST, buf, big, &err), PROTO_DECODE_MALFORMED);
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
        assert_int_equal (frame_decode_kind (K_REPLY, f.sb.data, f.sb.size, &err),
                          PROTO_DECODE_MALFORMED);
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
        assert_int_equal (frame_decode_kind (K_REPLY, f.sb.data, f.sb.size, &err),
                          PROTO_DECODE_MALFORMED);
        assert_string_equal (err.field, variant == 0 ? "seq" : "created_at");
        frame_free (&f);
    }
}

/* A ping reply {"v":1,"op":"ping","rid":1,"status":"ok","store_id":<w>};
   w packs the value. */
static proto_decode_t
s_ping_reply_with_store_id (void (*w) (frame_t *), proto_reply_t *reply, proto_error_t *err)
{
    frame_t f;
    frame_init (&f);
    frame_request (&f, "ping", 1, 2); /* same envelope as a reply */
    frame_str (&f, "status");
    frame_str (&f, "ok");
    frame_str (&f, "store_id");
    w (&f);
    proto_decode_t rc = proto_reply_decode (f.sb.data, f.sb.size, reply, err);
    frame_free (&f);
    return rc;
}

static void
s_id_upper (frame_t *f)
{
    frame_str (f, "5F0C6A1E-9B2D-4C3E-8F70-0123456789AB");
}
static void
s_id_nil (frame_t *f)
{
    msgpack_pack_nil (&f->pk);
}
static void
s_id_braced (frame_t *f)
{
    frame_str (f, "{" UUID_TEXT "}");
}
static void
s_id_short (frame_t *f)
{
    frame_str (f, "5f0c6a1e-9b2d-4c3e-8f70-0123456789a");
}
static void
s_id_int (frame_t *f)
{
    msgpack_pack_uint8 (&f->pk, 7);
}
static void
s_id_bin (frame_t *f)
{
    msgpack_pack_bin_with_body (&f->pk, "0123456789abcdef", 16);
}

static void
test_reply_store_id_is_a_uuid_or_the_reply_is_malformed (void **state)
{
    proto_reply_t reply;
    proto_error_t err;
    /* either case is a UUID; nil is absent (identity unknown) */
    assert_int_equal (s_ping_reply_with_store_id (s_id_upper, &reply, &err), PROTO_DECODE_OK);
    assert_true (reply.has_store_id);
    uint8_t want[16];
    assert_int_equal (proto_uuid_parse (UUID_TEXT, PROTO_UUID_LEN, want), 0);
    assert_memory_equal (reply.store_id, want, 16);
    proto_reply_clear (&reply);
    assert_int_equal (s_ping_reply_with_store_id (s_id_nil, &reply, &err), PROTO_DECODE_OK);
    assert_false (reply.has_store_id);
    proto_reply_clear (&reply);
    /* anything else is not a store this client can compare against */
    void (*bad[]) (frame_t *) = { s_id_braced, s_id_short, s_id_int, s_id_bin };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (s_ping_reply_with_store_id (bad[i], &reply, &err),
                          PROTO_DECODE_MALFORMED);
        assert_string_equal (err.field, "store_id");
        assert_false (reply.has_store_id);
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
    assert_int_equal (frame_decode_kind (K_NOTIFICATION, f.sb.data, f.sb.size, &err),
                      PROTO_DECODE_INVALID);
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
            assert_int_not_equal (frame_decode_kind (kind, buf, len, &err), PROTO_DECODE_OK);
    }
}

static void
test_mutated_frames_decode_or_fail_cleanly (void **state)
{
    uint64_t seed = 42;
    for (kind_t kind = K_REQUEST; kind <= K_NOTIFICATION; kind++) {
        msgpack_sbuffer sb;
        sample_frame (kind, &sb);
        char *copy = malloc (sb.size);
        size_t ok = 0;
        for (int i = 0; i < 20000; i++) {
            memcpy (copy, sb.data, sb.size);
            int flips = 1 + (int)(s_rand (&seed) % 3);
            for (int k = 0; k < flips; k++)
                copy[s_rand (&seed) % sb.size] = (char)s_rand (&seed);
            proto_error_t err;
            if (frame_decode_kind (kind, copy, sb.size, &err) == PROTO_DECODE_OK)
                ok++; /* e.g. a changed letter inside a description */
        }
        assert_true (ok < 20000); /* most mutations must be caught */
        free (copy);
        msgpack_sbuffer_destroy (&sb);
    }
}

int
test_proto_hostile_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_huge_declared_counts_are_refused_before_allocation),
        cmocka_unit_test (test_small_reader_takes_frames_up_to_its_pool_and_no_further),
        cmocka_unit_test (test_nesting_deeper_than_needed_is_malformed),
        cmocka_unit_test (test_duplicate_and_non_string_keys_are_malformed),
        cmocka_unit_test (test_frames_over_the_size_limit_are_malformed),
        cmocka_unit_test (test_reply_specific_errors),
        cmocka_unit_test (test_reply_store_id_is_a_uuid_or_the_reply_is_malformed),
        cmocka_unit_test (test_notification_specific_errors),
        cmocka_unit_test (test_random_bytes_never_decode),
        cmocka_unit_test (test_mutated_frames_decode_or_fail_cleanly),
    };
    return cmocka_run_group_tests_name ("proto_hostile", tests, NULL, NULL);
}
