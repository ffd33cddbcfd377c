/*
 * test_proto_peek — proto_request_peek_event_id, the store's hint of which
 * event a request frame names: it finds the id in what get and update send
 * (in any key order, either map header), answers false for every other
 * frame and op, and reads nothing past the end of a frame cut anywhere;
 * and proto_request_peek_user_id, the same hint for the user a create
 * names; and proto_request_peek, all three hints from one walk, each gated
 * by its own ops and by the first entry of its key.
 */
#include "test_proto.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t s_id[16] = { 0x5f, 0x0c, 0x6a, 0x1e, 0x9b, 0x2d, 0x4c, 0x3e,
                                  0x8f, 0x70, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab };

/* peek on an exact-size heap copy of the len bytes (ASan sees any read
   past the end). */
static bool
s_peek (const void *data, size_t len, uint8_t id[16])
{
    void *copy = malloc (len ? len : 1);
    assert_non_null (copy);
    memcpy (copy, data, len);
    bool found = proto_request_peek_event_id (copy, len, id);
    free (copy);
    return found;
}

static void
test_peek_finds_the_id_of_get_and_update_as_the_encoder_writes_them (void **state)
{
    (void)state;
    proto_op_t ops[] = { PROTO_OP_GET, PROTO_OP_UPDATE };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        proto_request_t req = { .op = ops[i], .rid = 7, .has = PROTO_HAS_EVENT_ID };
        memcpy (req.event_id, s_id, 16);
        if (ops[i] == PROTO_OP_UPDATE) {
            req.has |= PROTO_HAS_STATUS | PROTO_HAS_REQUEST_ID;
            req.status = PROTO_STR ("processed");
            req.request_id = PROTO_STR ("req-1");
        }
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        assert_int_equal (proto_request_encode (&req, &sb), 0);
        uint8_t id[16] = { 0 };
        assert_true (s_peek (sb.data, sb.size, id));
        assert_memory_equal (id, s_id, 16);
        /* Cut anywhere, no read past its end: no id before the id's last
           byte, the same id after it (the rest is not looked at). */
        size_t id_end = 0;
        for (size_t at = 0; at + 36 <= sb.size && !id_end; at++)
            if (memcmp (sb.data + at, UUID_TEXT, 36) == 0)
                id_end = at + 36;
        assert_true (id_end > 0);
        for (size_t len = 0; len < sb.size; len++) {
            memset (id, 0, sizeof id);
            bool found = s_peek (sb.data, len, id);
            assert_true (found == (len >= id_end));
            if (found)
                assert_memory_equal (id, s_id, 16);
        }
        msgpack_sbuffer_destroy (&sb);
    }
}

static void
test_peek_skips_every_scalar_and_string_before_the_id (void **state)
{
    (void)state;
    frame_t f;
    frame_init (&f);
    /* map16 header, then one of each skippable kind before event_id. */
    uint8_t head[] = { 0xde, 0x00, 0x0c };
    msgpack_sbuffer_write (&f.sb, (const char *)head, sizeof head);
    frame_str (&f, "nil");
    msgpack_pack_nil (&f.pk);
    frame_str (&f, "t");
    msgpack_pack_true (&f.pk);
    frame_str (&f, "neg");
    msgpack_pack_int64 (&f.pk, -3);
    frame_str (&f, "i64");
    msgpack_pack_int64 (&f.pk, INT64_MIN);
    frame_str (&f, "u8");
    msgpack_pack_uint8 (&f.pk, 200);
    frame_str (&f, "u16");
    msgpack_pack_uint16 (&f.pk, 60000);
    frame_str (&f, "u32");
    msgpack_pack_uint32 (&f.pk, 4000000000u);
    frame_str (&f, "f64");
    msgpack_pack_double (&f.pk, 1.5);
    frame_str (&f, "f32");
    msgpack_pack_float (&f.pk, 2.5f);
    frame_str (&f, "long");
    char text[300];
    memset (text, 'x', sizeof text);
    frame_bytes (&f, text, sizeof text); /* str16 */
    frame_str (&f, "bin");
    msgpack_pack_bin_with_body (&f.pk, "event_id", 8);
    frame_str (&f, "event_id");
    frame_str (&f, UUID_TEXT);
    uint8_t id[16] = { 0 };
    assert_true (s_peek (f.sb.data, f.sb.size, id));
    assert_memory_equal (id, s_id, 16);
    frame_free (&f);
}

static void
test_peek_answers_false_for_every_other_frame (void **state)
{
    (void)state;
    uint8_t id[16];
    const char *bad_ids[] = { "not-a-uuid", UUID_TEXT "0", "" };
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        frame_t f;
        frame_init (&f);
        frame_request (&f, "get", 1, 1);
        frame_str (&f, "event_id");
        frame_str (&f, bad_ids[i]);
        assert_false (s_peek (f.sb.data, f.sb.size, id));
        frame_free (&f);
    }
    /* The id as a blob, or behind a nested value: not read. */
    frame_t f;
    frame_init (&f);
    frame_request (&f, "get", 1, 1);
    frame_str (&f, "event_id");
    msgpack_pack_bin_with_body (&f.pk, UUID_TEXT, 36);
    assert_false (s_peek (f.sb.data, f.sb.size, id));
    frame_free (&f);
    frame_init (&f);
    frame_request (&f, "get", 1, 2);
    frame_str (&f, "x");
    msgpack_pack_array (&f.pk, 0);
    frame_str (&f, "event_id");
    frame_str (&f, UUID_TEXT);
    assert_false (s_peek (f.sb.data, f.sb.size, id));
    frame_free (&f);
    /* Only a get or an update names an event, whatever else carries an
       event_id key. */
    frame_init (&f);
    frame_request (&f, "list", 1, 1);
    frame_str (&f, "event_id");
    frame_str (&f, UUID_TEXT);
    assert_false (s_peek (f.sb.data, f.sb.size, id));
    frame_free (&f);
    /* A create names no id; a batch and a non-map are not looked into. */
    frame_init (&f);
    frame_request (&f, "create", 1, 2);
    frame_str (&f, "user_id");
    frame_str (&f, "u");
    frame_str (&f, "description");
    frame_str (&f, "d");
    assert_false (s_peek (f.sb.data, f.sb.size, id));
    frame_free (&f);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (proto_batch_begin (1, false, 1, &sb), 0);
    assert_false (s_peek (sb.data, sb.size, id));
    msgpack_sbuffer_destroy (&sb);
    const uint8_t array[] = { 0x91, 0xa1, 'x' };
    assert_false (s_peek (array, sizeof array, id));
    assert_false (proto_request_peek_event_id (NULL, 0, id));
}

/* proto_request_peek_user_id on an exact-size heap copy (as s_peek). */
static bool
s_peek_user (const void *data, size_t len, char *user, size_t size)
{
    void *copy = malloc (len ? len : 1);
    assert_non_null (copy);
    memcpy (copy, data, len);
    proto_str_t found = PROTO_STR_NONE;
    bool ok = proto_request_peek_user_id (copy, len, &found);
    if (ok) {
        assert_true ((const char *)found.ptr >= (const char *)copy
                     && (const char *)found.ptr + found.len <= (const char *)copy + len);
        assert_true (found.len < size);
        memcpy (user, found.ptr, found.len);
        user[found.len] = '\0';
    }
    free (copy);
    return ok;
}

static void
test_peek_user_finds_the_user_of_a_create_only (void **state)
{
    (void)state;
    proto_request_t req = { .op = PROTO_OP_CREATE,
                            .rid = 9,
                            .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_STATUS,
                            .user_id = PROTO_STR ("user-00042"),
                            .description = PROTO_STR ("Your order shipped"),
                            .status = PROTO_STR ("pending") };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (proto_request_encode (&req, &sb), 0);
    char user[64];
    assert_true (s_peek_user (sb.data, sb.size, user, sizeof user));
    assert_string_equal (user, "user-00042");
    /* Cut anywhere, no read past its end; once found, always the same. */
    for (size_t len = 0; len < sb.size; len++)
        if (s_peek_user (sb.data, len, user, sizeof user))
            assert_string_equal (user, "user-00042");
    msgpack_sbuffer_destroy (&sb);
    /* A list filtered by user, and an update moving an event to another
       user, as the encoder writes them (op first): not a create. */
    proto_op_t others[] = { PROTO_OP_LIST, PROTO_OP_UPDATE };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        proto_request_t other = {
            .op = others[i], .rid = 3, .has = PROTO_HAS_USER_ID, .user_id = PROTO_STR ("user-00042")
        };
        if (others[i] == PROTO_OP_UPDATE) {
            other.has |= PROTO_HAS_EVENT_ID;
            memcpy (other.event_id, s_id, 16);
        }
        msgpack_sbuffer_init (&sb);
        assert_int_equal (proto_request_encode (&other, &sb), 0);
        assert_false (s_peek_user (sb.data, sb.size, user, sizeof user));
        msgpack_sbuffer_destroy (&sb);
    }
    /* A create without a user_id, a user_id that is not a string, a
       batch, nothing. */
    frame_t f;
    frame_init (&f);
    frame_request (&f, "create", 1, 1);
    frame_str (&f, "description");
    frame_str (&f, "d");
    assert_false (s_peek_user (f.sb.data, f.sb.size, user, sizeof user));
    frame_free (&f);
    frame_init (&f);
    frame_request (&f, "create", 1, 1);
    frame_str (&f, "user_id");
    msgpack_pack_array (&f.pk, 0);
    assert_false (s_peek_user (f.sb.data, f.sb.size, user, sizeof user));
    frame_free (&f);
    msgpack_sbuffer_init (&sb);
    assert_int_equal (proto_batch_begin (1, false, 1, &sb), 0);
    assert_false (s_peek_user (sb.data, sb.size, user, sizeof user));
    msgpack_sbuffer_destroy (&sb);
    proto_str_t found;
    assert_false (proto_request_peek_user_id (NULL, 0, &found));
}

#define RECEIPT_TEXT "000000000000012cdeadbeef01234567"

/* A frame of op (NULL: no op entry) with all three hinted keys, then op
   again when op_after is set. */
static void
s_all_keys (frame_t *f, const char *op, const char *op_after)
{
    uint32_t extra = 3 + (op_after != NULL);
    if (op)
        frame_request (f, op, 1, extra);
    else
        msgpack_pack_map (&f->pk, extra);
    frame_str (f, "event_id");
    frame_str (f, UUID_TEXT);
    frame_str (f, "user_id");
    frame_str (f, "user-00042");
    frame_str (f, "receipt");
    frame_str (f, RECEIPT_TEXT);
    if (op_after) {
        frame_str (f, "op");
        frame_str (f, op_after);
    }
}

static void
test_peek_reads_every_hint_in_one_walk_each_gated_by_its_ops (void **state)
{
    (void)state;
    static const uint8_t receipt[16] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c,
                                         0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67 };
    struct {
        const char *op;
        bool id, user, receipt;
    } cases[] = {
        { "get", true, false, false },       { "update", true, false, false },
        { "create", false, true, false },    { "list", false, false, true },
        { "feed_read", false, false, true }, { "ping", false, false, false },
        { "nonsense", false, false, false }, { NULL, true, true, true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* An op named after the keys is not seen: the op-less answer. */
        for (int after = 0; after < 2; after++) {
            frame_t f;
            frame_init (&f);
            s_all_keys (&f, after ? NULL : cases[i].op, after ? cases[i].op : NULL);
            void *copy = malloc (f.sb.size);
            assert_non_null (copy);
            memcpy (copy, f.sb.data, f.sb.size);
            proto_request_hints_t h;
            memset (&h, 0xee, sizeof h);
            proto_request_peek (copy, f.sb.size, &h);
            bool named_before = !after && cases[i].op;
            assert_int_equal (h.has_event_id, named_before ? cases[i].id : true);
            assert_int_equal (h.user_id.ptr != NULL, named_before ? cases[i].user : true);
            assert_int_equal (h.has_receipt, named_before ? cases[i].receipt : true);
            if (h.has_event_id)
                assert_memory_equal (h.event_id, s_id, 16);
            if (h.user_id.ptr) {
                assert_int_equal (h.user_id.len, 10);
                assert_memory_equal (h.user_id.ptr, "user-00042", 10);
                assert_true ((const char *)h.user_id.ptr > (const char *)copy
                             && (const char *)h.user_id.ptr + 10 <= (const char *)copy + f.sb.size);
            } else
                assert_int_equal (h.user_id.len, 0);
            if (h.has_receipt)
                assert_memory_equal (h.receipt, receipt, 16);
            free (copy);
            frame_free (&f);
        }
    }
    /* The first entry of a key decides its hint: a second, valid one after
       an invalid one is not taken; the other hints are still read. */
    frame_t f;
    frame_init (&f);
    msgpack_pack_map (&f.pk, 4);
    frame_str (&f, "event_id");
    frame_str (&f, "not-a-uuid");
    frame_str (&f, "event_id");
    frame_str (&f, UUID_TEXT);
    frame_str (&f, "receipt");
    frame_str (&f, RECEIPT_TEXT);
    frame_str (&f, "user_id");
    msgpack_pack_uint8 (&f.pk, 7);
    proto_request_hints_t h;
    proto_request_peek (f.sb.data, f.sb.size, &h);
    assert_false (h.has_event_id);
    assert_true (h.has_receipt);
    assert_null (h.user_id.ptr);
    frame_free (&f);
    proto_request_peek (NULL, 0, &h);
    assert_false (h.has_event_id || h.has_receipt || h.user_id.ptr);
}

int
test_proto_peek_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_peek_finds_the_id_of_get_and_update_as_the_encoder_writes_them),
        cmocka_unit_test (test_peek_skips_every_scalar_and_string_before_the_id),
        cmocka_unit_test (test_peek_answers_false_for_every_other_frame),
        cmocka_unit_test (test_peek_user_finds_the_user_of_a_create_only),
        cmocka_unit_test (test_peek_reads_every_hint_in_one_walk_each_gated_by_its_ops),
    };
    return cmocka_run_group_tests_name ("proto_peek", tests, NULL, NULL);
}
