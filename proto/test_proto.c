/*
 * test_proto — unit tests of the wire protocol: round trips of every
 * request op, every reply kind and both notification kinds (this file),
 * every class of malformed input (test_proto_malformed.c, test_proto_hostile.c), and the string,
 * UUID, time and limit helpers (test_proto_text.c).
 */
#include "test_proto.h"

#include <stdlib.h>
#include <string.h>

/* ---- Frame builder ------------------------------------------------------- */

void
frame_init (frame_t *f)
{
    msgpack_sbuffer_init (&f->sb);
    msgpack_packer_init (&f->pk, &f->sb, msgpack_sbuffer_write);
}

void
frame_free (frame_t *f)
{
    msgpack_sbuffer_destroy (&f->sb);
}

void
frame_bytes (frame_t *f, const void *ptr, size_t len)
{
    assert_int_equal (msgpack_pack_str_with_body (&f->pk, ptr, len), 0);
}

void
frame_str (frame_t *f, const char *text)
{
    frame_bytes (f, text, strlen (text));
}

void
frame_request (frame_t *f, const char *op, uint64_t rid, uint32_t extra)
{
    msgpack_pack_map (&f->pk, extra + 3);
    frame_str (f, "v");
    msgpack_pack_uint8 (&f->pk, 1);
    frame_str (f, "op");
    frame_str (f, op);
    frame_str (f, "rid");
    msgpack_pack_uint64 (&f->pk, rid);
}

proto_decode_t
frame_decode_request (frame_t *f, proto_request_t *req, proto_error_t *err)
{
    proto_limits_t limits = proto_limits_default ();
    return proto_request_decode (f->sb.data, f->sb.size, &limits, req, err);
}

proto_event_t
sample_event (unsigned n)
{
    proto_event_t ev = {
        .user_id = PROTO_STR ("u-42"),
        .description = PROTO_STR ("Your order shipped \xe2\x82\xac"),
        .status = PROTO_STR ("pending"),
        .created_at = 1795514400123LL + n,
        .created_us = (uint16_t)(100 + n),
        .updated_at = 1795514400456LL + n,
        .seq = 10 + n,
    };
    for (int i = 0; i < 16; i++)
        ev.id[i] = (uint8_t)(n * 16 + (unsigned)i);
    return ev;
}

static void
s_assert_str (proto_str_t got, proto_str_t want)
{
    assert_non_null (got.ptr);
    assert_int_equal (got.len, want.len);
    assert_memory_equal (got.ptr, want.ptr, want.len);
}

static void
s_assert_event (const proto_event_t *got, const proto_event_t *want)
{
    assert_memory_equal (got->id, want->id, 16);
    s_assert_str (got->user_id, want->user_id);
    s_assert_str (got->description, want->description);
    s_assert_str (got->status, want->status);
    assert_int_equal (got->created_at, want->created_at);
    assert_int_equal (got->created_us, want->created_us);
    assert_int_equal (got->updated_at, want->updated_at);
    assert_int_equal (got->seq, want->seq);
    if (want->request_id.ptr && want->request_id.len)
        s_assert_str (got->request_id, want->request_id);
    else
        assert_null (got->request_id.ptr);
}

/* True when the slice lies inside [buf, buf + len). */
static bool
s_borrowed (proto_str_t s, const void *buf, size_t len)
{
    const char *base = buf;
    return s.ptr >= base && s.ptr + s.len <= base + len;
}

/* ---- Decoding any family ------------------------------------------------- */

proto_decode_t
frame_decode_kind (kind_t kind, const void *data, size_t len, proto_error_t *err)
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
        proto_change_t n;
        rc = proto_notification_decode (copy, len, &limits, &n, err);
    }
    free (copy);
    if (rc != PROTO_DECODE_OK)
        assert_true (err->message[0] != '\0');
    return rc;
}

proto_decode_t
frame_decode_checked (frame_t *f, proto_error_t *err)
{
    return frame_decode_kind (K_REQUEST, f->sb.data, f->sb.size, err);
}

/* Valid sample frames of each family. */
void
sample_frame (kind_t kind, msgpack_sbuffer *sb)
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
        proto_change_t n = { .seq = 5, .kind = PROTO_CHANGE_UPDATED, .event = events[1] };
        assert_int_equal (proto_notification_encode (&n, sb), 0);
    }
}

/* ---- Requests ------------------------------------------------------------ */

static void
s_request_round_trip (const proto_request_t *in)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (proto_request_encode (in, &sb), 0);
    proto_request_t out;
    proto_error_t err;
    proto_limits_t limits = proto_limits_default ();
    assert_int_equal (proto_request_decode (sb.data, sb.size, &limits, &out, &err),
                      PROTO_DECODE_OK);
    assert_int_equal (out.op, in->op);
    assert_int_equal (out.rid, in->rid);
    assert_int_equal (out.has, in->has);
    if (in->has & PROTO_HAS_EVENT_ID)
        assert_memory_equal (out.event_id, in->event_id, 16);
    if (in->has & PROTO_HAS_USER_ID) {
        s_assert_str (out.user_id, in->user_id);
        assert_true (s_borrowed (out.user_id, sb.data, sb.size));
    }
    if (in->has & PROTO_HAS_DESCRIPTION)
        s_assert_str (out.description, in->description);
    if (in->has & PROTO_HAS_STATUS)
        s_assert_str (out.status, in->status);
    if (in->has & PROTO_HAS_AFTER)
        assert_memory_equal (out.after, in->after, 16);
    if (in->has & PROTO_HAS_LIMIT)
        assert_int_equal (out.limit, in->limit);
    if (in->has & PROTO_HAS_FROM)
        assert_int_equal (out.from, in->from);
    if (in->has & PROTO_HAS_MAX)
        assert_int_equal (out.max, in->max);
    if (in->has & PROTO_HAS_SEQ)
        assert_int_equal (out.seq, in->seq);
    if (in->has & PROTO_HAS_STORE_ID)
        assert_memory_equal (out.store_id, in->store_id, 16);
    if (in->has & PROTO_HAS_REQUEST_ID)
        s_assert_str (out.request_id, in->request_id);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_request_every_op_round_trips (void **state)
{
    proto_event_t ev = sample_event (1);
    proto_request_t reqs[] = {
        { .op = PROTO_OP_PING, .rid = 1 },
        { .op = PROTO_OP_CREATE,
          .rid = 2,
          .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
          .user_id = ev.user_id,
          .description = ev.description },
        { .op = PROTO_OP_CREATE,
          .rid = 12,
          .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_REQUEST_ID,
          .user_id = ev.user_id,
          .description = ev.description,
          .request_id = PROTO_STR ("req-7f3a:9") },
        { .op = PROTO_OP_UPDATE,
          .rid = 13,
          .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS | PROTO_HAS_REQUEST_ID,
          .status = PROTO_STR ("processed"),
          .request_id =
              PROTO_STR ("0123456789012345678901234567890123456789012345678901234567890123") },
        { .op = PROTO_OP_GET, .rid = 3, .has = PROTO_HAS_EVENT_ID },
        { .op = PROTO_OP_UPDATE,
          .rid = 4,
          .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS,
          .status = PROTO_STR ("processed") },
        { .op = PROTO_OP_UPDATE,
          .rid = 5,
          .has = PROTO_HAS_EVENT_ID | PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_STATUS,
          .user_id = PROTO_STR ("u"),
          .description = PROTO_STR ("d"),
          .status = PROTO_STR ("s") },
        { .op = PROTO_OP_LIST, .rid = 6 },
        { .op = PROTO_OP_LIST,
          .rid = 7,
          .has = PROTO_HAS_USER_ID | PROTO_HAS_STATUS | PROTO_HAS_AFTER | PROTO_HAS_LIMIT,
          .user_id = PROTO_STR ("u-1"),
          .status = PROTO_STR ("pending"),
          .limit = 1000 },
        { .op = PROTO_OP_FEED_READ, .rid = 8 },
        { .op = PROTO_OP_FEED_READ,
          .rid = 9,
          .has = PROTO_HAS_FROM | PROTO_HAS_MAX,
          .from = UINT64_MAX,
          .max = 1 },
        { .op = PROTO_OP_FEED_ACK, .rid = 10, .has = PROTO_HAS_SEQ, .seq = 0 },
        { .op = PROTO_OP_FEED_ACK, .rid = UINT64_MAX, .has = PROTO_HAS_SEQ, .seq = UINT64_MAX },
        { .op = PROTO_OP_FEED_ACK, .rid = 11, .has = PROTO_HAS_SEQ | PROTO_HAS_STORE_ID, .seq = 7 },
        { .op = PROTO_OP_STATS, .rid = 0 },
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        memcpy (reqs[i].event_id, ev.id, 16);
        memcpy (reqs[i].after, ev.id, 16);
        memcpy (reqs[i].store_id, sample_event (7).id, 16);
        s_request_round_trip (&reqs[i]);
    }
}

static void
test_request_encode_refuses_invalid_op (void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_request_t req = { .op = PROTO_OP_NONE };
    assert_int_equal (proto_request_encode (&req, &sb), -1);
    req.op = PROTO_OP_COUNT_;
    assert_int_equal (proto_request_encode (&req, &sb), -1);
    assert_int_equal (sb.size, 0);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_request_ignores_unknown_keys_and_fields_the_op_does_not_take (void **state)
{
    frame_t f;
    frame_init (&f);
    frame_request (&f, "get", 77, 4);
    frame_str (&f, "event_id");
    frame_str (&f, "5f0c6a1e-9b2d-4c3e-8f70-0123456789ab");
    frame_str (&f, "future");
    msgpack_pack_array (&f.pk, 1);
    msgpack_pack_true (&f.pk);
    frame_str (&f, "limit"); /* get does not take a limit: ignored, even out of range */
    msgpack_pack_uint32 (&f.pk, 999999);
    frame_str (&f, "user_id"); /* nor a user_id */
    frame_str (&f, "");
    proto_request_t req;
    proto_error_t err;
    assert_int_equal (frame_decode_request (&f, &req, &err), PROTO_DECODE_OK);
    assert_int_equal (req.op, PROTO_OP_GET);
    assert_int_equal (req.rid, 77);
    assert_int_equal (req.has, PROTO_HAS_EVENT_ID);
    frame_free (&f);
}

static void
test_request_nil_means_absent (void **state)
{
    frame_t f;
    frame_init (&f);
    frame_request (&f, "list", 1, 2);
    frame_str (&f, "after");
    msgpack_pack_nil (&f.pk);
    frame_str (&f, "limit");
    msgpack_pack_nil (&f.pk);
    proto_request_t req;
    proto_error_t err;
    assert_int_equal (frame_decode_request (&f, &req, &err), PROTO_DECODE_OK);
    assert_int_equal (req.has, 0);
    frame_free (&f);
}

static void
test_request_accepts_signed_encodings_of_non_negative_ints (void **state)
{
    frame_t f;
    frame_init (&f);
    frame_request (&f, "list", 1, 1);
    frame_str (&f, "limit");
    msgpack_pack_int64 (&f.pk, 5); /* the packer chooses positive fixint */
    /* an int8 0xd0 encoding of 5 must be accepted too: append by hand */
    frame_t g;
    frame_init (&g);
    frame_request (&g, "list", 1, 1);
    frame_str (&g, "limit");
    msgpack_sbuffer_write (&g.sb, "\xd0\x05", 2);
    proto_request_t req;
    proto_error_t err;
    assert_int_equal (frame_decode_request (&f, &req, &err), PROTO_DECODE_OK);
    assert_int_equal (req.limit, 5);
    assert_int_equal (frame_decode_request (&g, &req, &err), PROTO_DECODE_OK);
    assert_int_equal (req.limit, 5);
    frame_free (&f);
    frame_free (&g);
}

/* ---- Replies ------------------------------------------------------------- */

static void
s_reply_round_trip (const proto_reply_t *in, proto_reply_t *out, msgpack_sbuffer *sb)
{
    msgpack_sbuffer_clear (sb);
    assert_int_equal (proto_reply_encode (in, sb), 0);
    proto_error_t err;
    assert_int_equal (proto_reply_decode (sb->data, sb->size, out, &err), PROTO_DECODE_OK);
    assert_int_equal (out->op, in->op);
    assert_int_equal (out->rid, in->rid);
    assert_int_equal (out->status, in->status);
}

static void
test_reply_every_kind_round_trips (void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_reply_t out;
    proto_event_t events[3] = { sample_event (0), sample_event (1), sample_event (2) };

    /* The store's identity travels on any success reply, or not at all. */
    proto_event_t store = sample_event (9);
    proto_reply_t ping = { .op = PROTO_OP_PING, .rid = 1 };
    s_reply_round_trip (&ping, &out, &sb);
    assert_false (out.has_store_id);
    proto_reply_clear (&out);
    ping.has_store_id = true;
    memcpy (ping.store_id, store.id, 16);
    s_reply_round_trip (&ping, &out, &sb);
    assert_true (out.has_store_id);
    assert_memory_equal (out.store_id, store.id, 16);
    proto_reply_clear (&out);

    for (proto_op_t op = PROTO_OP_CREATE; op <= PROTO_OP_UPDATE; op++) {
        proto_reply_t one = { .op = op, .rid = 2, .event = events[1] };
        s_reply_round_trip (&one, &out, &sb);
        s_assert_event (&out.event, &events[1]);
        assert_true (s_borrowed (out.event.description, sb.data, sb.size));
        proto_reply_clear (&out);
    }

    proto_reply_t list = {
        .op = PROTO_OP_LIST, .rid = 3, .items = events, .n_items = 3, .has_next_after = true
    };
    memcpy (list.next_after, events[2].id, 16);
    s_reply_round_trip (&list, &out, &sb);
    assert_int_equal (out.n_items, 3);
    for (int i = 0; i < 3; i++)
        s_assert_event (&out.items[i], &events[i]);
    assert_true (out.has_next_after);
    assert_memory_equal (out.next_after, events[2].id, 16);
    proto_reply_clear (&out);
    list.n_items = 0;
    list.has_next_after = false;
    s_reply_round_trip (&list, &out, &sb);
    assert_int_equal (out.n_items, 0);
    assert_null (out.items);
    assert_false (out.has_next_after);
    proto_reply_clear (&out);

    proto_change_t changes[2] = { { 5, PROTO_CHANGE_CREATED, events[0] },
                                  { 6, PROTO_CHANGE_UPDATED, events[1] } };
    proto_reply_t feed = { .op = PROTO_OP_FEED_READ,
                           .rid = 4,
                           .changes = changes,
                           .n_changes = 2,
                           .acked = 4,
                           .head = 6,
                           .feed_len = 2,
                           .feed_max = 100000,
                           .has_store_id = true };
    memcpy (feed.store_id, store.id, 16);
    s_reply_round_trip (&feed, &out, &sb);
    assert_true (out.has_store_id);
    assert_memory_equal (out.store_id, store.id, 16);
    assert_int_equal (out.n_changes, 2);
    assert_int_equal (out.changes[0].seq, 5);
    assert_int_equal (out.changes[0].kind, PROTO_CHANGE_CREATED);
    assert_int_equal (out.changes[1].kind, PROTO_CHANGE_UPDATED);
    s_assert_event (&out.changes[1].event, &events[1]);
    assert_int_equal (out.acked, 4);
    assert_int_equal (out.head, 6);
    assert_int_equal (out.feed_len, 2);
    assert_int_equal (out.feed_max, 100000);
    proto_reply_clear (&out);

    proto_reply_t ack = {
        .op = PROTO_OP_FEED_ACK, .rid = 5, .acked = UINT64_MAX, .has_store_id = true
    };
    memcpy (ack.store_id, store.id, 16);
    s_reply_round_trip (&ack, &out, &sb);
    assert_int_equal (out.acked, UINT64_MAX);
    assert_true (out.has_store_id);
    assert_memory_equal (out.store_id, store.id, 16);
    proto_reply_clear (&out);

    proto_stat_t stats[2] = { { PROTO_STR ("events"), 3 }, { PROTO_STR ("rss_bytes"), 1u << 30 } };
    proto_reply_t st = {
        .op = PROTO_OP_STATS, .rid = 6, .stats = stats, .n_stats = 2, .has_store_id = true
    };
    memcpy (st.store_id, store.id, 16);
    s_reply_round_trip (&st, &out, &sb);
    assert_int_equal (out.n_stats, 2);
    assert_true (out.has_store_id);
    assert_memory_equal (out.store_id, store.id, 16);
    s_assert_str (out.stats[1].name, stats[1].name);
    assert_int_equal (out.stats[1].value, 1u << 30);
    proto_reply_clear (&out);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_reply_errors_round_trip_with_and_without_field_and_op (void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_reply_t out;
    proto_error_t err;
    for (proto_status_t s = PROTO_E_MALFORMED; s < PROTO_E_COUNT_; s++) {
        if (s == PROTO_E_MOVED)
            continue; /* needs its redirect too: test_proto_moved.c */
        msgpack_sbuffer_clear (&sb);
        assert_int_equal (
            proto_reply_encode_error (PROTO_OP_GET, 9, s, "Event not found", "event_id", &sb), 0);
        assert_int_equal (proto_reply_decode (sb.data, sb.size, &out, &err), PROTO_DECODE_OK);
        assert_int_equal (out.status, s);
        assert_int_equal (out.op, PROTO_OP_GET);
        assert_int_equal (out.rid, 9);
        s_assert_str (out.message, PROTO_STR ("Event not found"));
        s_assert_str (out.field, PROTO_STR ("event_id"));
        proto_reply_clear (&out);
    }
    /* op unknown to the store (malformed request) travels as nil; no field */
    msgpack_sbuffer_clear (&sb);
    assert_int_equal (
        proto_reply_encode_error (PROTO_OP_NONE, 0, PROTO_E_MALFORMED, "bad frame", NULL, &sb), 0);
    assert_int_equal (proto_reply_decode (sb.data, sb.size, &out, &err), PROTO_DECODE_OK);
    assert_int_equal (out.op, PROTO_OP_NONE);
    assert_null (out.field.ptr);
    proto_reply_clear (&out);
    /* status out of range is a programmer error the encoder refuses */
    proto_reply_t bad = { .op = PROTO_OP_PING, .status = PROTO_E_COUNT_ };
    msgpack_sbuffer_clear (&sb);
    assert_int_equal (proto_reply_encode (&bad, &sb), -1);
    assert_int_equal (sb.size, 0);
    msgpack_sbuffer_destroy (&sb);
}

/* ---- Notifications ------------------------------------------------------- */

static void
test_notification_both_kinds_round_trip (void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_limits_t limits = proto_limits_default ();
    for (int kind = PROTO_CHANGE_CREATED; kind <= PROTO_CHANGE_UPDATED; kind++) {
        proto_change_t in = { .seq = 42, .kind = kind, .event = sample_event (3) };
        if (kind == PROTO_CHANGE_UPDATED)
            in.event.request_id = PROTO_STR ("gw-1:2"); /* the created one has none */
        msgpack_sbuffer_clear (&sb);
        assert_int_equal (proto_notification_encode (&in, &sb), 0);
        proto_change_t out;
        proto_error_t err;
        assert_int_equal (proto_notification_decode (sb.data, sb.size, &limits, &out, &err),
                          PROTO_DECODE_OK);
        assert_int_equal (out.seq, 42);
        assert_int_equal (out.kind, kind);
        s_assert_event (&out.event, &in.event);
        assert_true (s_borrowed (out.event.user_id, sb.data, sb.size));
    }
    msgpack_sbuffer_destroy (&sb);
}

static void
test_request_id_is_printable_ascii_without_spaces_up_to_64_bytes (void **state)
{
    assert_true (proto_request_id_valid ("a", 1));
    assert_true (proto_request_id_valid ("!~", 2));
    char long_id[PROTO_REQUEST_ID_MAX + 1];
    memset (long_id, 'x', sizeof long_id);
    assert_true (proto_request_id_valid (long_id, PROTO_REQUEST_ID_MAX));
    assert_false (proto_request_id_valid (long_id, PROTO_REQUEST_ID_MAX + 1));
    assert_false (proto_request_id_valid ("", 0));
    assert_false (proto_request_id_valid ("a b", 3));
    assert_false (proto_request_id_valid ("a\nb", 3));
    assert_false (proto_request_id_valid ("\xc3\xa9", 2));
    /* on the wire: a create with a bad one is refused, naming the field */
    proto_request_t req = { .op = PROTO_OP_CREATE,
                            .rid = 1,
                            .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_REQUEST_ID,
                            .user_id = PROTO_STR ("u"),
                            .description = PROTO_STR ("d"),
                            .request_id = PROTO_STR ("has space") };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (proto_request_encode (&req, &sb), 0);
    proto_request_t out;
    proto_error_t err;
    assert_int_equal (proto_request_decode (sb.data, sb.size, NULL, &out, &err),
                      PROTO_DECODE_INVALID);
    assert_string_equal (err.field, "request_id");
    msgpack_sbuffer_destroy (&sb);
}

static void
test_notification_applies_the_limits_it_is_given (void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_change_t in = { .seq = 1, .kind = PROTO_CHANGE_CREATED, .event = sample_event (0) };
    assert_int_equal (proto_notification_encode (&in, &sb), 0);
    proto_limits_t limits = proto_limits_default ();
    limits.user_id_max = 3; /* "u-42" is 4 bytes */
    proto_change_t out;
    proto_error_t err;
    assert_int_equal (proto_notification_decode (sb.data, sb.size, &limits, &out, &err),
                      PROTO_DECODE_INVALID);
    assert_string_equal (err.field, "user_id");
    assert_string_equal (err.message, "String should have at most 3 bytes");
    msgpack_sbuffer_destroy (&sb);
}

int
test_proto_codec_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_request_every_op_round_trips),
        cmocka_unit_test (test_request_id_is_printable_ascii_without_spaces_up_to_64_bytes),
        cmocka_unit_test (test_request_encode_refuses_invalid_op),
        cmocka_unit_test (test_request_ignores_unknown_keys_and_fields_the_op_does_not_take),
        cmocka_unit_test (test_request_nil_means_absent),
        cmocka_unit_test (test_request_accepts_signed_encodings_of_non_negative_ints),
        cmocka_unit_test (test_reply_every_kind_round_trips),
        cmocka_unit_test (test_reply_errors_round_trip_with_and_without_field_and_op),
        cmocka_unit_test (test_notification_both_kinds_round_trip),
        cmocka_unit_test (test_notification_applies_the_limits_it_is_given),
    };
    return cmocka_run_group_tests_name ("proto_codec", tests, NULL, NULL);
}

int
main (void)
{
    int failed = 0;
    failed += test_proto_text_run ();
    failed += test_proto_codec_run ();
    failed += test_proto_malformed_run ();
    failed += test_proto_hostile_run ();
    failed += test_proto_pack_run ();
    failed += test_proto_moved_run ();
    failed += test_proto_created_us_run ();
    failed += test_proto_batch_run ();
    failed += test_proto_peek_run ();
    failed += test_proto_receipt_run ();
    return failed ? 1 : 0;
}
