/*
 * test_proto_created_us — the optional "created_us" of the event map
 * (PROTOCOL.md §3): the microseconds within created_at's millisecond, which
 * orders events made by different shards in one millisecond. It survives
 * every message that carries an event (replies, notifications, journal
 * records); absent or nil it reads as 0, so frames and journals written
 * before it stay readable; 1000 and up, a negative value or another type
 * are refused and name the field, by the small-frame reader and msgpack-c
 * alike; the encoders write it only when non-zero and refuse what the
 * decoders would refuse.
 */
#include "proto_journal.h"
#include "proto_wire.h"
#include "test_proto.h"

#include <string.h>

/* How the event map's created_us is written in s_event_map. */
typedef enum {
    US_ABSENT,
    US_NIL,
    US_VALUE,  /* the uint given */
    US_SIGNED, /* the value given, as a signed int16 encoding */
    US_NEGATIVE,
    US_STRING,
    US_FLOAT,
} us_form_t;

/* An event map with every required member and created_us in form. */
static void
s_event_map (frame_t *f, us_form_t form, uint64_t value)
{
    msgpack_pack_map (&f->pk, form == US_ABSENT ? 7 : 8);
    frame_str (f, "event_id");
    frame_str (f, UUID_TEXT);
    frame_str (f, "user_id");
    frame_str (f, "u");
    frame_str (f, "description");
    frame_str (f, "d");
    frame_str (f, "status");
    frame_str (f, "pending");
    frame_str (f, "created_at");
    msgpack_pack_int64 (&f->pk, 1795514400123LL);
    if (form != US_ABSENT) {
        frame_str (f, "created_us");
        switch (form) {
        case US_NIL:
            msgpack_pack_nil (&f->pk);
            break;
        case US_VALUE:
            msgpack_pack_uint64 (&f->pk, value);
            break;
        case US_SIGNED:
            msgpack_pack_fix_int16 (&f->pk, (int16_t)value);
            break;
        case US_NEGATIVE:
            msgpack_pack_int8 (&f->pk, -1);
            break;
        case US_STRING:
            frame_str (f, "5");
            break;
        default:
            msgpack_pack_double (&f->pk, 5.0);
            break;
        }
    }
    frame_str (f, "updated_at");
    msgpack_pack_int64 (&f->pk, 1795514400456LL);
    frame_str (f, "seq");
    msgpack_pack_uint8 (&f->pk, 3);
}

/* {"v":1,"op":"get","rid":1,"status":"ok","event":{...}} */
static void
s_get_reply (frame_t *f, us_form_t form, uint64_t value)
{
    msgpack_pack_map (&f->pk, 5);
    frame_str (f, "v");
    msgpack_pack_uint8 (&f->pk, 1);
    frame_str (f, "op");
    frame_str (f, "get");
    frame_str (f, "rid");
    msgpack_pack_uint8 (&f->pk, 1);
    frame_str (f, "status");
    frame_str (f, "ok");
    frame_str (f, "event");
    s_event_map (f, form, value);
}

/* {"v":1,"type":"created","event":{...}}: a journal record. */
static void
s_created_record (frame_t *f, us_form_t form, uint64_t value)
{
    msgpack_pack_map (&f->pk, 3);
    frame_str (f, "v");
    msgpack_pack_uint8 (&f->pk, 1);
    frame_str (f, "type");
    frame_str (f, "created");
    frame_str (f, "event");
    s_event_map (f, form, value);
}

/* Decodes a get reply built in form with both readers; they must agree.
   Returns the result, *us the decoded created_us on success. */
static proto_decode_t
s_decode_reply (us_form_t form, uint64_t value, uint16_t *us, proto_error_t *err)
{
    frame_t f;
    frame_init (&f);
    s_get_reply (&f, form, value);
    proto_reply_t reply, generic;
    proto_error_t generic_err;
    proto_decode_t rc = proto_reply_decode (f.sb.data, f.sb.size, &reply, err);
    wire_set_generic_only (true);
    assert_int_equal (proto_reply_decode (f.sb.data, f.sb.size, &generic, &generic_err), rc);
    wire_set_generic_only (false);
    assert_string_equal (err->message, generic_err.message);
    assert_string_equal (err->field, generic_err.field);
    if (rc == PROTO_DECODE_OK) {
        assert_int_equal (reply.event.created_us, generic.event.created_us);
        assert_int_equal (reply.event.created_at, 1795514400123LL);
        *us = reply.event.created_us;
        proto_reply_clear (&reply);
        proto_reply_clear (&generic);
    }
    frame_free (&f);
    return rc;
}

/* The same for a journal record. */
static proto_decode_t
s_decode_record (us_form_t form, uint64_t value, uint16_t *us, proto_error_t *err)
{
    frame_t f;
    frame_init (&f);
    s_created_record (&f, form, value);
    proto_journal_record_t rec, generic;
    proto_error_t generic_err;
    proto_decode_t rc = proto_journal_decode (f.sb.data, f.sb.size, &rec, err);
    wire_set_generic_only (true);
    assert_int_equal (proto_journal_decode (f.sb.data, f.sb.size, &generic, &generic_err), rc);
    wire_set_generic_only (false);
    assert_string_equal (err->message, generic_err.message);
    if (rc == PROTO_DECODE_OK) {
        assert_int_equal (rec.type, PROTO_JOURNAL_CREATED);
        assert_int_equal (rec.event.created_us, generic.event.created_us);
        *us = rec.event.created_us;
    }
    frame_free (&f);
    return rc;
}

/* Whether the bytes of sb contain text. */
static bool
s_contains (const msgpack_sbuffer *sb, const char *text)
{
    size_t n = strlen (text);
    for (size_t i = 0; i + n <= sb->size; i++)
        if (memcmp (sb->data + i, text, n) == 0)
            return true;
    return false;
}

static void
test_created_us_absent_or_nil_decodes_as_zero (void **state)
{
    (void)state;
    proto_error_t err;
    uint16_t us = 77;
    assert_int_equal (s_decode_reply (US_ABSENT, 0, &us, &err), PROTO_DECODE_OK);
    assert_int_equal (us, 0);
    us = 77;
    assert_int_equal (s_decode_reply (US_NIL, 0, &us, &err), PROTO_DECODE_OK);
    assert_int_equal (us, 0);
    us = 77;
    assert_int_equal (s_decode_record (US_ABSENT, 0, &us, &err), PROTO_DECODE_OK);
    assert_int_equal (us, 0);
}

static void
test_created_us_decodes_0_to_999_in_any_integer_encoding (void **state)
{
    (void)state;
    static const uint64_t values[] = { 0, 1, 127, 128, 255, 256, 998, 999 };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        proto_error_t err;
        uint16_t us = 0;
        assert_int_equal (s_decode_reply (US_VALUE, values[i], &us, &err), PROTO_DECODE_OK);
        assert_int_equal (us, values[i]);
        assert_int_equal (s_decode_reply (US_SIGNED, values[i], &us, &err), PROTO_DECODE_OK);
        assert_int_equal (us, values[i]);
        assert_int_equal (s_decode_record (US_VALUE, values[i], &us, &err), PROTO_DECODE_OK);
        assert_int_equal (us, values[i]);
    }
}

static void
test_created_us_over_999_negative_or_not_an_integer_is_refused (void **state)
{
    (void)state;
    static const uint64_t over[] = { 1000, 1001, 65535, 65536, UINT64_MAX };
    proto_error_t err;
    uint16_t us;
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        assert_int_equal (s_decode_reply (US_VALUE, over[i], &us, &err), PROTO_DECODE_INVALID);
        assert_string_equal (err.field, "created_us");
        assert_string_equal (err.message, "Input should be less than or equal to 999");
        assert_int_equal (s_decode_record (US_VALUE, over[i], &us, &err), PROTO_DECODE_INVALID);
        assert_string_equal (err.field, "created_us");
    }
    assert_int_equal (s_decode_reply (US_SIGNED, 1000, &us, &err), PROTO_DECODE_INVALID);
    assert_int_equal (s_decode_reply (US_NEGATIVE, 0, &us, &err), PROTO_DECODE_INVALID);
    assert_string_equal (err.field, "created_us");
    assert_int_equal (s_decode_reply (US_STRING, 0, &us, &err), PROTO_DECODE_MALFORMED);
    assert_string_equal (err.field, "created_us");
    assert_string_equal (err.message, "field 'created_us': expected unsigned integer");
    assert_int_equal (s_decode_reply (US_FLOAT, 0, &us, &err), PROTO_DECODE_MALFORMED);
    assert_string_equal (err.field, "created_us");
    assert_int_equal (s_decode_record (US_STRING, 0, &us, &err), PROTO_DECODE_MALFORMED);
    assert_string_equal (err.field, "created_us");
}

/* Every reply that carries events, a notification and the journal records
   that carry one keep created_us; 0 is not written at all. */
static void
test_created_us_round_trips_through_replies_notifications_and_journal (void **state)
{
    (void)state;
    proto_event_t events[3] = { sample_event (0), sample_event (1), sample_event (2) };
    events[0].created_us = 0;
    events[1].created_us = 1;
    events[2].created_us = PROTO_CREATED_US_MAX;
    proto_change_t changes[3] = { { 1, PROTO_CHANGE_CREATED, events[0] },
                                  { 2, PROTO_CHANGE_UPDATED, events[1] },
                                  { 3, PROTO_CHANGE_CREATED, events[2] } };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_reply_t out;
    proto_error_t err;
    for (proto_op_t op = PROTO_OP_CREATE; op <= PROTO_OP_UPDATE; op++)
        for (int i = 0; i < 3; i++) {
            proto_reply_t in = { .op = op, .rid = 9, .event = events[i] };
            msgpack_sbuffer_clear (&sb);
            assert_int_equal (proto_reply_encode (&in, &sb), 0);
            /* written only when non-zero */
            assert_int_equal (s_contains (&sb, "created_us"), events[i].created_us != 0);
            assert_int_equal (proto_reply_decode (sb.data, sb.size, &out, &err), PROTO_DECODE_OK);
            assert_int_equal (out.event.created_us, events[i].created_us);
            proto_reply_clear (&out);
        }
    proto_reply_t list = { .op = PROTO_OP_LIST, .rid = 10, .items = events, .n_items = 3 };
    msgpack_sbuffer_clear (&sb);
    assert_int_equal (proto_reply_encode (&list, &sb), 0);
    assert_int_equal (proto_reply_decode (sb.data, sb.size, &out, &err), PROTO_DECODE_OK);
    assert_int_equal (out.n_items, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal (out.items[i].created_us, events[i].created_us);
    proto_reply_clear (&out);
    proto_reply_t feed = {
        .op = PROTO_OP_FEED_READ, .rid = 11, .changes = changes, .n_changes = 3
    };
    msgpack_sbuffer_clear (&sb);
    assert_int_equal (proto_reply_encode (&feed, &sb), 0);
    assert_int_equal (proto_reply_decode (sb.data, sb.size, &out, &err), PROTO_DECODE_OK);
    assert_int_equal (out.n_changes, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal (out.changes[i].event.created_us, events[i].created_us);
    proto_reply_clear (&out);

    proto_limits_t limits = proto_limits_default ();
    for (int i = 0; i < 3; i++) {
        proto_change_t n;
        msgpack_sbuffer_clear (&sb);
        assert_int_equal (proto_notification_encode (&changes[i], &sb), 0);
        assert_int_equal (proto_notification_decode (sb.data, sb.size, &limits, &n, &err),
                          PROTO_DECODE_OK);
        assert_int_equal (n.event.created_us, events[i].created_us);
    }

    static const proto_journal_type_t types[] = { PROTO_JOURNAL_CREATED, PROTO_JOURNAL_UPDATED,
                                                  PROTO_JOURNAL_EVENT };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (int i = 0; i < 3; i++) {
            proto_journal_record_t in = { .type = types[t], .event = events[i] }, rec;
            msgpack_sbuffer_clear (&sb);
            assert_int_equal (proto_journal_encode (&in, &sb), 0);
            assert_int_equal (proto_journal_decode (sb.data, sb.size, &rec, &err), PROTO_DECODE_OK);
            assert_int_equal (rec.type, types[t]);
            assert_int_equal (rec.event.created_at, events[i].created_at);
            assert_int_equal (rec.event.created_us, events[i].created_us);
        }
    msgpack_sbuffer_destroy (&sb);
}

/* The encoders refuse an event the decoders would refuse. */
static void
test_created_us_encoders_refuse_1000 (void **state)
{
    (void)state;
    proto_event_t ev = sample_event (4);
    ev.created_us = PROTO_CREATED_US_MAX + 1;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_reply_t in = { .op = PROTO_OP_GET, .rid = 1, .event = ev };
    assert_int_equal (proto_reply_encode (&in, &sb), -1);
    proto_journal_record_t rec = { .type = PROTO_JOURNAL_CREATED, .event = ev };
    msgpack_sbuffer_clear (&sb);
    assert_int_equal (proto_journal_encode (&rec, &sb), -1);
    proto_change_t n = { 1, PROTO_CHANGE_CREATED, ev };
    msgpack_sbuffer_clear (&sb);
    assert_int_equal (proto_notification_encode (&n, &sb), -1);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_sbuffer_clear (&sb);
    assert_int_equal (wire_pack_event_generic (&pk, &ev), -1);
    assert_int_equal (sb.size, 0);
    assert_int_equal (wire_pack_event (&pk, &ev), -1);
    assert_int_equal (sb.size, 0);
    msgpack_sbuffer_destroy (&sb);
}

int
test_proto_created_us_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_created_us_absent_or_nil_decodes_as_zero),
        cmocka_unit_test (test_created_us_decodes_0_to_999_in_any_integer_encoding),
        cmocka_unit_test (test_created_us_over_999_negative_or_not_an_integer_is_refused),
        cmocka_unit_test (test_created_us_round_trips_through_replies_notifications_and_journal),
        cmocka_unit_test (test_created_us_encoders_refuse_1000),
    };
    return cmocka_run_group_tests_name ("proto_created_us", tests, NULL, NULL);
}
