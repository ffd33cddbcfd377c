/*
 * test_dispatch_batch — batches through the dispatcher (PROTOCOL.md §3.1):
 * each frame handled as if it came alone, in order, its reply wrapped in
 * the batch's; only point operations; a frame that does not decode, or is
 * refused, answered on its own without stopping the others; an envelope
 * that does not decode, or carries too many frames (for the limits, or for
 * longer strings stored before the limits were lowered), refused whole
 * with nothing changed; and every frame counted as a request of its own.
 */
#include "dispatch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

typedef struct {
    dispatch_t *dispatch;
    msgpack_sbuffer batch, one, out;
    proto_reply_t replies[PROTO_BATCH_MAX];
    size_t n_replies;
    size_t changes;
} fixture_t;

static void
s_on_change (void *arg, const proto_change_t *change)
{
    fixture_t *self = arg;
    self->changes++;
}

static fixture_t *
s_fixture_new (size_t feed_max, const proto_limits_t *limits)
{
    fixture_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    proto_limits_t defaults = proto_limits_default ();
    self->dispatch = dispatch_new (feed_max, limits ? limits : &defaults);
    assert_non_null (self->dispatch);
    dispatch_set_change_handler (self->dispatch, s_on_change, self);
    msgpack_sbuffer_init (&self->batch);
    msgpack_sbuffer_init (&self->one);
    msgpack_sbuffer_init (&self->out);
    return self;
}

static void
s_clear_replies (fixture_t *self)
{
    for (size_t i = 0; i < self->n_replies; i++)
        proto_reply_clear (&self->replies[i]);
    self->n_replies = 0;
}

static void
s_fixture_destroy (fixture_t *self)
{
    s_clear_replies (self);
    dispatch_destroy (&self->dispatch);
    msgpack_sbuffer_destroy (&self->batch);
    msgpack_sbuffer_destroy (&self->one);
    msgpack_sbuffer_destroy (&self->out);
    free (self);
}

static void
s_begin (fixture_t *self, uint64_t rid, size_t n)
{
    msgpack_sbuffer_clear (&self->batch);
    assert_int_equal (proto_batch_begin (rid, false, n, &self->batch), 0);
}

static void
s_add (fixture_t *self, proto_request_t req)
{
    msgpack_sbuffer_clear (&self->one);
    assert_int_equal (proto_request_encode (&req, &self->one), 0);
    assert_int_equal (proto_batch_append (self->one.data, self->one.size, &self->batch), 0);
}

/* Sends the batch; decodes an ok batch reply into self->replies. */
static void
s_send (fixture_t *self, uint64_t rid)
{
    s_clear_replies (self);
    dispatch_frame (self->dispatch, self->batch.data, self->batch.size, &self->out);
    proto_str_t frames[PROTO_BATCH_MAX];
    uint64_t got_rid;
    proto_error_t err;
    assert_int_equal (proto_batch_decode (self->out.data, self->out.size, true, PROTO_BATCH_MAX,
                                          &got_rid, frames, &self->n_replies, &err),
                      PROTO_DECODE_OK);
    assert_int_equal (got_rid, rid);
    for (size_t i = 0; i < self->n_replies; i++)
        assert_int_equal (
            proto_reply_decode (frames[i].ptr, frames[i].len, &self->replies[i], &err),
            PROTO_DECODE_OK);
}

/* Sends the batch; expects one ordinary error reply to it. */
static proto_reply_t *
s_send_refused (fixture_t *self, proto_status_t status)
{
    s_clear_replies (self);
    dispatch_frame (self->dispatch, self->batch.data, self->batch.size, &self->out);
    proto_error_t err;
    assert_int_equal (proto_reply_decode (self->out.data, self->out.size, &self->replies[0], &err),
                      PROTO_DECODE_OK);
    self->n_replies = 1;
    assert_int_equal (self->replies[0].op, PROTO_OP_BATCH);
    assert_int_equal (self->replies[0].status, status);
    return &self->replies[0];
}

static proto_request_t
s_create_req (uint64_t rid, const char *user)
{
    return (proto_request_t){ .op = PROTO_OP_CREATE,
                              .rid = rid,
                              .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                              .user_id = { user, strlen (user) },
                              .description = PROTO_STR ("in a batch") };
}

static proto_request_t
s_keyed_req (proto_op_t op, uint64_t rid, const uint8_t id[16])
{
    proto_request_t req = { .op = op, .rid = rid, .has = PROTO_HAS_EVENT_ID };
    memcpy (req.event_id, id, 16);
    if (op == PROTO_OP_UPDATE) {
        req.has |= PROTO_HAS_STATUS;
        req.status = PROTO_STR ("processed");
    }
    return req;
}

static void
test_batch_frames_run_in_order_each_as_if_alone (void **state)
{
    fixture_t *self = s_fixture_new (1000, NULL);
    s_begin (self, 100, 2);
    s_add (self, s_create_req (1, "u-1"));
    s_add (self, s_create_req (2, "u-2"));
    s_send (self, 100);
    assert_int_equal (self->n_replies, 2);
    uint8_t first[16], second[16];
    memcpy (first, self->replies[0].event.id, 16);
    memcpy (second, self->replies[1].event.id, 16);
    assert_int_equal (self->replies[0].rid, 1);
    assert_int_equal (self->replies[1].rid, 2);
    assert_int_equal (self->replies[1].event.seq, self->replies[0].event.seq + 1);
    assert_int_equal (self->changes, 2);

    /* Later frames see what earlier ones did: update, then get. */
    s_begin (self, 101, 4);
    s_add (self, s_keyed_req (PROTO_OP_UPDATE, 3, second));
    s_add (self, s_keyed_req (PROTO_OP_GET, 4, second));
    s_add (self, (proto_request_t){ .op = PROTO_OP_PING, .rid = 5 });
    s_add (self, s_keyed_req (PROTO_OP_GET, 6, first));
    s_send (self, 101);
    assert_int_equal (self->n_replies, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal (self->replies[i].status, PROTO_OK);
        assert_int_equal (self->replies[i].rid, i + 3);
    }
    assert_int_equal (self->replies[0].op, PROTO_OP_UPDATE);
    assert_memory_equal (self->replies[1].event.status.ptr, "processed", 9);
    assert_int_equal (self->replies[2].op, PROTO_OP_PING);
    assert_memory_equal (self->replies[3].event.status.ptr, "pending", 7);
    assert_int_equal (self->changes, 3);

    /* Counted: each frame a request of its own, and the batches. */
    dispatch_counters_t *c = dispatch_counters (self->dispatch);
    assert_int_equal (c->requests, 2 + 6);
    assert_int_equal (c->ops[PROTO_OP_BATCH][PROTO_OK], 2);
    assert_int_equal (c->ops[PROTO_OP_CREATE][PROTO_OK], 2);
    assert_int_equal (c->ops[PROTO_OP_GET][PROTO_OK], 2);
    assert_int_equal (c->ops[PROTO_OP_UPDATE][PROTO_OK], 1);
    assert_int_equal (c->ops[PROTO_OP_PING][PROTO_OK], 1);
    s_fixture_destroy (self);
}

static void
test_batch_answers_a_bad_frame_alone_and_runs_the_others (void **state)
{
    fixture_t *self = s_fixture_new (1000, NULL);
    uint8_t unknown[16] = { 1, 2, 3 };
    s_begin (self, 7, 7);
    assert_int_equal (proto_batch_append ("\xc1", 1, &self->batch), 0); /* not MessagePack */
    s_add (self, (proto_request_t){ .op = PROTO_OP_LIST, .rid = 2 });
    s_add (self, (proto_request_t){ .op = PROTO_OP_STATS, .rid = 3 });
    s_add (self,
           (proto_request_t){ .op = PROTO_OP_FEED_ACK, .rid = 4, .has = PROTO_HAS_SEQ, .seq = 0 });
    /* a batch in a batch */
    msgpack_sbuffer inner;
    msgpack_sbuffer_init (&inner);
    assert_int_equal (proto_batch_begin (5, false, 1, &inner), 0);
    msgpack_sbuffer_clear (&self->one);
    proto_request_t ping = { .op = PROTO_OP_PING, .rid = 55 };
    assert_int_equal (proto_request_encode (&ping, &self->one), 0);
    assert_int_equal (proto_batch_append (self->one.data, self->one.size, &inner), 0);
    assert_int_equal (proto_batch_append (inner.data, inner.size, &self->batch), 0);
    msgpack_sbuffer_destroy (&inner);
    s_add (self, s_keyed_req (PROTO_OP_GET, 6, unknown));
    s_add (self, s_create_req (8, "u-after"));
    s_send (self, 7);
    assert_int_equal (self->n_replies, 7);
    assert_int_equal (self->replies[0].status, PROTO_E_MALFORMED);
    assert_int_equal (self->replies[0].rid, 0);
    for (size_t i = 1; i <= 4; i++) {
        assert_int_equal (self->replies[i].status, PROTO_E_INVALID);
        assert_int_equal (self->replies[i].rid, i + 1);
        assert_non_null (strstr (self->replies[i].message.ptr, "cannot be in a batch"));
    }
    assert_int_equal (self->replies[4].op, PROTO_OP_BATCH);
    assert_int_equal (self->replies[5].status, PROTO_E_NOT_FOUND);
    assert_int_equal (self->replies[6].status, PROTO_OK);
    assert_int_equal (self->replies[6].rid, 8);
    assert_int_equal (self->changes, 1);
    dispatch_counters_t *c = dispatch_counters (self->dispatch);
    assert_int_equal (c->malformed, 1);
    assert_int_equal (c->ops[PROTO_OP_FEED_ACK][PROTO_E_INVALID], 1);
    s_fixture_destroy (self);
}

/* A batch envelope's head written by hand, up to the array of n frames
   (the encoder would refuse what these tests need). */
static void
s_envelope_head (msgpack_packer *pk, uint8_t rid, uint32_t n)
{
    msgpack_pack_map (pk, 4);
    msgpack_pack_str_with_body (pk, "v", 1);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_str_with_body (pk, "op", 2);
    msgpack_pack_str_with_body (pk, "batch", 5);
    msgpack_pack_str_with_body (pk, "rid", 3);
    msgpack_pack_uint8 (pk, rid);
    msgpack_pack_str_with_body (pk, "frames", 6);
    msgpack_pack_array (pk, n);
}

static void
test_batch_envelope_refused_whole_changes_nothing (void **state)
{
    fixture_t *self = s_fixture_new (1000, NULL);
    /* One frame more than the store takes: hand-made, since the encoder
       stops at PROTO_BATCH_MAX. */
    msgpack_sbuffer_clear (&self->batch);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->batch, msgpack_sbuffer_write);
    s_envelope_head (&pk, 9, PROTO_BATCH_MAX + 1);
    for (int i = 0; i <= PROTO_BATCH_MAX; i++) {
        msgpack_sbuffer_clear (&self->one);
        proto_request_t req = s_create_req ((uint64_t)i + 1, "u-many");
        assert_int_equal (proto_request_encode (&req, &self->one), 0);
        msgpack_pack_bin (&pk, self->one.size);
        msgpack_pack_bin_body (&pk, self->one.data, self->one.size);
    }
    proto_reply_t *reply = s_send_refused (self, PROTO_E_INVALID);
    assert_int_equal (reply->rid, 9);
    assert_non_null (strstr (reply->message.ptr, "not 1..128"));
    assert_int_equal (self->changes, 0);
    assert_int_equal (feed_len (dispatch_feed (self->dispatch)), 0);

    /* An element that is not bytes: malformed, nothing run. */
    msgpack_sbuffer_clear (&self->batch);
    s_envelope_head (&pk, 10, 2);
    msgpack_sbuffer_clear (&self->one);
    proto_request_t req = s_create_req (1, "u-1");
    assert_int_equal (proto_request_encode (&req, &self->one), 0);
    msgpack_pack_bin (&pk, self->one.size);
    msgpack_pack_bin_body (&pk, self->one.data, self->one.size);
    msgpack_pack_str_with_body (&pk, "x", 1);
    reply = s_send_refused (self, PROTO_E_MALFORMED);
    assert_int_equal (reply->rid, 10);
    assert_int_equal (self->changes, 0);
    assert_int_equal (dispatch_counters (self->dispatch)->malformed, 1);
    assert_int_equal (dispatch_counters (self->dispatch)->ops[PROTO_OP_BATCH][PROTO_E_MALFORMED],
                      1);
    s_fixture_destroy (self);
}

static void
test_batch_writes_past_a_full_feed_are_refused_one_by_one (void **state)
{
    fixture_t *self = s_fixture_new (2, NULL);
    s_begin (self, 1, 3);
    for (uint64_t i = 1; i <= 3; i++)
        s_add (self, s_create_req (i, "u-feed"));
    s_send (self, 1);
    assert_int_equal (self->n_replies, 3);
    assert_int_equal (self->replies[0].status, PROTO_OK);
    assert_int_equal (self->replies[1].status, PROTO_OK);
    assert_int_equal (self->replies[2].status, PROTO_E_FEED_FULL);
    assert_int_equal (self->changes, 2);
    s_fixture_destroy (self);
}

static void
test_batch_size_follows_the_limits (void **state)
{
    /* Limits that let one reply grow large: fewer frames fit a reply. */
    proto_limits_t big = { PROTO_LIMIT_CAP, PROTO_LIMIT_CAP, PROTO_LIMIT_CAP };
    size_t max = proto_batch_max (&big);
    fixture_t *self = s_fixture_new (1000, &big);
    s_begin (self, 3, max + 1);
    for (size_t i = 0; i <= max; i++)
        s_add (self, (proto_request_t){ .op = PROTO_OP_PING, .rid = i + 1 });
    proto_reply_t *reply = s_send_refused (self, PROTO_E_INVALID);
    char expected[64];
    snprintf (expected, sizeof expected, "not 1..%zu", max);
    assert_non_null (strstr (reply->message.ptr, expected));
    s_begin (self, 4, max);
    for (size_t i = 0; i < max; i++)
        s_add (self, (proto_request_t){ .op = PROTO_OP_PING, .rid = i + 1 });
    s_send (self, 4);
    assert_int_equal (self->n_replies, max);
    s_fixture_destroy (self);
}

static void
test_batch_size_follows_what_is_stored_past_the_limits (void **state)
{
    /* An event stored under larger limits (a journal replayed after the
       limits were lowered), as the replay puts it in the table: a batch
       of gets of it must still fit a reply in one frame. */
    fixture_t *self = s_fixture_new (1000, NULL);
    static char description[60000];
    memset (description, 'd', sizeof description);
    uint8_t id[16] = { 0x42 };
    uint32_t index;
    assert_int_equal (event_table_create (dispatch_table (self->dispatch), id, PROTO_STR ("u-old"),
                                          (proto_str_t){ description, sizeof description },
                                          PROTO_STR ("pending"), PROTO_STR_NONE, 1, 0, 1, &index),
                      0);
    proto_limits_t sized = proto_limits_default ();
    sized.description_max = sizeof description;
    size_t max = proto_batch_max (&sized);
    assert_true (max < 20);
    s_begin (self, 1, max + 1);
    for (size_t i = 0; i <= max; i++)
        s_add (self, s_keyed_req (PROTO_OP_GET, i + 1, id));
    s_send_refused (self, PROTO_E_INVALID);
    s_begin (self, 2, max);
    for (size_t i = 0; i < max; i++)
        s_add (self, s_keyed_req (PROTO_OP_GET, i + 1, id));
    s_send (self, 2);
    assert_int_equal (self->n_replies, max);
    assert_int_equal (self->replies[0].event.description.len, sizeof description);
    assert_true (self->out.size <= PROTO_FRAME_MAX);
    s_fixture_destroy (self);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_batch_frames_run_in_order_each_as_if_alone),
        cmocka_unit_test (test_batch_answers_a_bad_frame_alone_and_runs_the_others),
        cmocka_unit_test (test_batch_envelope_refused_whole_changes_nothing),
        cmocka_unit_test (test_batch_writes_past_a_full_feed_are_refused_one_by_one),
        cmocka_unit_test (test_batch_size_follows_the_limits),
        cmocka_unit_test (test_batch_size_follows_what_is_stored_past_the_limits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
