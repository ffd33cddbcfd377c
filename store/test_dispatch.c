/*
 * test_dispatch — the store's logic end to end through its request codec,
 * without sockets: every op, pagination edges, sequence numbers, cursor and
 * ack semantics, the feed bound and its refusal, the store's event and
 * memory caps, the change handler, the
 * store's identity and the ack it fences, and error replies to frames that
 * do not decode.
 */
#include "dispatch.h"

#include "clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
    dispatch_t *dispatch;
    msgpack_sbuffer request;
    msgpack_sbuffer out;
    proto_reply_t reply;
    uint64_t rid;
    size_t changes_seen;
    uint64_t last_change_seq;
} fixture_t;

static void
s_on_change (void *arg, const proto_change_t *change)
{
    fixture_t *self = arg;
    assert_true (change->seq > self->last_change_seq);
    assert_int_equal (change->seq, change->event.seq);
    self->last_change_seq = change->seq;
    self->changes_seen++;
}

static fixture_t *
s_fixture_new (size_t feed_max)
{
    fixture_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    proto_limits_t limits = proto_limits_default ();
    self->dispatch = dispatch_new (feed_max, &limits);
    assert_non_null (self->dispatch);
    dispatch_set_change_handler (self->dispatch, s_on_change, self);
    msgpack_sbuffer_init (&self->request);
    msgpack_sbuffer_init (&self->out);
    return self;
}

static int
s_setup (void **state)
{
    *state = s_fixture_new (1000);
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    proto_reply_clear (&self->reply);
    dispatch_destroy (&self->dispatch);
    msgpack_sbuffer_destroy (&self->request);
    msgpack_sbuffer_destroy (&self->out);
    free (self);
    return 0;
}

/* Feeds raw bytes; decodes the reply into self->reply (valid until the
   next call). */
static proto_reply_t *
s_raw (fixture_t *self, const void *buf, size_t len)
{
    proto_reply_clear (&self->reply);
    dispatch_frame (self->dispatch, buf, len, &self->out);
    assert_true (self->out.size > 0);
    proto_error_t err;
    assert_int_equal (proto_reply_decode (self->out.data, self->out.size, &self->reply, &err),
                      PROTO_DECODE_OK);
    return &self->reply;
}

static proto_reply_t *
s_call (fixture_t *self, proto_request_t *req)
{
    req->rid = ++self->rid;
    msgpack_sbuffer_clear (&self->request);
    assert_int_equal (proto_request_encode (req, &self->request), 0);
    proto_reply_t *reply = s_raw (self, self->request.data, self->request.size);
    assert_int_equal (reply->rid, req->rid);
    assert_int_equal (reply->op, req->op);
    return reply;
}

static proto_str_t
s_str (const char *text)
{
    return (proto_str_t){ text, strlen (text) };
}

static proto_reply_t *
s_create (fixture_t *self, const char *user, const char *description)
{
    proto_request_t req = { .op = PROTO_OP_CREATE,
                            .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                            .user_id = s_str (user),
                            .description = s_str (description) };
    return s_call (self, &req);
}

static proto_reply_t *
s_get (fixture_t *self, const uint8_t id[16])
{
    proto_request_t req = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    memcpy (req.event_id, id, 16);
    return s_call (self, &req);
}

static proto_reply_t *
s_update_status (fixture_t *self, const uint8_t id[16], const char *status)
{
    proto_request_t req = { .op = PROTO_OP_UPDATE,
                            .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS,
                            .status = s_str (status) };
    memcpy (req.event_id, id, 16);
    return s_call (self, &req);
}

static proto_reply_t *
s_feed_read (fixture_t *self, uint64_t from, uint32_t max)
{
    proto_request_t req = { .op = PROTO_OP_FEED_READ };
    if (from) {
        req.has |= PROTO_HAS_FROM;
        req.from = from;
    }
    if (max) {
        req.has |= PROTO_HAS_MAX;
        req.max = max;
    }
    return s_call (self, &req);
}

static proto_reply_t *
s_ack (fixture_t *self, uint64_t seq)
{
    proto_request_t req = { .op = PROTO_OP_FEED_ACK, .has = PROTO_HAS_SEQ, .seq = seq };
    return s_call (self, &req);
}

static bool
s_is (proto_str_t str, const char *text)
{
    return str.ptr && str.len == strlen (text) && memcmp (str.ptr, text, str.len) == 0;
}

static void
test_dispatch_ping_echoes_rid (void **state)
{
    proto_request_t req = { .op = PROTO_OP_PING };
    proto_reply_t *reply = s_call (*state, &req);
    assert_int_equal (reply->status, PROTO_OK);
}

static void
test_dispatch_create_then_get (void **state)
{
    fixture_t *self = *state;
    int64_t before_us = clock_wall_us ();
    int64_t before = before_us / 1000;
    proto_reply_t *reply = s_create (self, "u-42", "Your order shipped");
    int64_t after_us = clock_wall_us ();
    int64_t after = after_us / 1000;
    assert_int_equal (reply->status, PROTO_OK);
    assert_true (s_is (reply->event.user_id, "u-42"));
    assert_true (s_is (reply->event.description, "Your order shipped"));
    assert_true (s_is (reply->event.status, "pending"));
    assert_int_equal (reply->event.seq, 1);
    assert_true (reply->event.created_at >= before && reply->event.created_at <= after);
    /* created_us: the rest of the same microsecond clock read */
    int64_t created = reply->event.created_at * 1000 + reply->event.created_us;
    assert_true (reply->event.created_us <= PROTO_CREATED_US_MAX);
    assert_true (created >= before_us && created <= after_us);
    assert_int_equal (reply->event.updated_at, reply->event.created_at);
    assert_int_equal (reply->event.id[6] >> 4, 4); /* RFC 4122 version 4 */
    assert_int_equal (reply->event.id[8] >> 6, 2); /* RFC 4122 variant */
    uint8_t first[16];
    memcpy (first, reply->event.id, 16);
    assert_memory_not_equal (s_create (self, "u-42", "again")->event.id, first, 16);
    reply = s_get (self, first);
    uint8_t id[16];
    memcpy (id, reply->event.id, 16);
    reply = s_get (self, id);
    assert_int_equal (reply->status, PROTO_OK);
    assert_memory_equal (reply->event.id, id, 16);
    assert_true (s_is (reply->event.description, "Your order shipped"));
    assert_int_equal (self->changes_seen, 2);
}

static void
test_dispatch_get_and_update_unknown_are_not_found (void **state)
{
    fixture_t *self = *state;
    uint8_t id[16] = { 1, 2, 3 };
    assert_int_equal (s_get (self, id)->status, PROTO_E_NOT_FOUND);
    s_create (self, "u", "d");
    assert_int_equal (s_get (self, id)->status, PROTO_E_NOT_FOUND);
    assert_int_equal (s_update_status (self, id, "processed")->status, PROTO_E_NOT_FOUND);
    assert_int_equal (feed_head (dispatch_feed (self->dispatch)), 1); /* no seq spent */
}

static void
test_dispatch_update_takes_next_seq (void **state)
{
    fixture_t *self = *state;
    uint8_t a[16], b[16];
    memcpy (a, s_create (self, "ann", "first")->event.id, 16);
    memcpy (b, s_create (self, "bob", "second")->event.id, 16);
    proto_reply_t *reply = s_update_status (self, a, "processed");
    assert_int_equal (reply->status, PROTO_OK);
    assert_int_equal (reply->event.seq, 3);
    assert_true (s_is (reply->event.status, "processed"));
    assert_true (s_is (reply->event.user_id, "ann"));
    assert_true (reply->event.updated_at >= reply->event.created_at);
    proto_request_t req = { .op = PROTO_OP_UPDATE,
                            .has = PROTO_HAS_EVENT_ID | PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                            .user_id = s_str ("carl"),
                            .description = s_str ("rewritten, and longer than before") };
    memcpy (req.event_id, b, 16);
    reply = s_call (self, &req);
    assert_int_equal (reply->event.seq, 4);
    reply = s_get (self, b);
    assert_true (s_is (reply->event.user_id, "carl"));
    assert_true (s_is (reply->event.description, "rewritten, and longer than before"));
    assert_true (s_is (reply->event.status, "pending"));
    assert_int_equal (self->changes_seen, 4);
}

static void
test_dispatch_list_pages_with_default_limit (void **state)
{
    fixture_t *self = *state;
    proto_request_t req = { .op = PROTO_OP_LIST };
    proto_reply_t *reply = s_call (self, &req);
    assert_int_equal (reply->status, PROTO_OK);
    assert_int_equal (reply->n_items, 0);
    assert_false (reply->has_next_after);
    uint8_t ids[150][16];
    for (int i = 0; i < 150; i++)
        memcpy (ids[i], s_create (self, i % 2 ? "odd" : "even", "d")->event.id, 16);
    reply = s_call (self, &req);
    assert_int_equal (reply->n_items, PROTO_LIST_LIMIT_DEFAULT);
    assert_true (reply->has_next_after);
    assert_memory_equal (reply->next_after, ids[99], 16);
    assert_memory_equal (reply->items[0].id, ids[0], 16);
    req.has = PROTO_HAS_AFTER;
    memcpy (req.after, reply->next_after, 16);
    reply = s_call (self, &req);
    assert_int_equal (reply->n_items, 50);
    assert_false (reply->has_next_after);
    assert_memory_equal (reply->items[0].id, ids[100], 16);
    /* Filter plus exactly-limit page: 75 "odd", limit 75, no next. */
    req = (proto_request_t){ .op = PROTO_OP_LIST,
                             .has = PROTO_HAS_USER_ID | PROTO_HAS_LIMIT,
                             .user_id = s_str ("odd"),
                             .limit = 75 };
    reply = s_call (self, &req);
    assert_int_equal (reply->n_items, 75);
    assert_false (reply->has_next_after);
    for (size_t i = 0; i < reply->n_items; i++)
        assert_memory_equal (reply->items[i].id, ids[2 * i + 1], 16);
    /* Status filter after an update. */
    s_update_status (self, ids[10], "processed");
    req = (proto_request_t){ .op = PROTO_OP_LIST,
                             .has = PROTO_HAS_STATUS,
                             .status = s_str ("processed") };
    reply = s_call (self, &req);
    assert_int_equal (reply->n_items, 1);
    assert_memory_equal (reply->items[0].id, ids[10], 16);
    /* After the last one: empty. After an unknown id: not_found. */
    req = (proto_request_t){ .op = PROTO_OP_LIST, .has = PROTO_HAS_AFTER };
    memcpy (req.after, ids[149], 16);
    reply = s_call (self, &req);
    assert_int_equal (reply->status, PROTO_OK);
    assert_int_equal (reply->n_items, 0);
    assert_false (reply->has_next_after);
    memset (req.after, 0x77, 16);
    reply = s_call (self, &req);
    assert_int_equal (reply->status, PROTO_E_NOT_FOUND);
    assert_true (s_is (reply->field, "after"));
}

static void
test_dispatch_big_events_page_within_the_frame_limit (void **state)
{
    fixture_t *self = *state;
    char user[PROTO_USER_ID_MAX_DEFAULT + 1], desc[PROTO_DESCRIPTION_MAX_DEFAULT + 1];
    memset (user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    memset (desc, 'd', sizeof desc - 1);
    desc[sizeof desc - 1] = '\0';
    enum { N = 600 }; /* ~2.7 MB of strings: no single reply can carry them */
    for (int i = 0; i < N; i++)
        assert_int_equal (s_create (self, user, desc)->status, PROTO_OK);
    proto_request_t req = { .op = PROTO_OP_LIST, .has = PROTO_HAS_LIMIT, .limit = 1000 };
    size_t seen = 0, pages = 0;
    for (;;) {
        proto_reply_t *reply = s_call (self, &req); /* decodes: within PROTO_FRAME_MAX */
        assert_int_equal (reply->status, PROTO_OK);
        assert_true (self->out.size <= PROTO_FRAME_MAX);
        assert_true (reply->n_items > 0);
        seen += reply->n_items;
        pages++;
        if (!reply->has_next_after)
            break;
        req.has |= PROTO_HAS_AFTER;
        memcpy (req.after, reply->next_after, 16);
    }
    assert_int_equal (seen, N);
    assert_true (pages >= 3);
    uint64_t from = 1;
    size_t changes = 0;
    while (changes < N) {
        proto_reply_t *reply = s_feed_read (self, from, 1000);
        assert_true (self->out.size <= PROTO_FRAME_MAX);
        assert_true (reply->n_changes > 0 && reply->n_changes < N);
        assert_int_equal (reply->changes[0].seq, from);
        changes += reply->n_changes;
        from = reply->changes[reply->n_changes - 1].seq + 1;
    }
    assert_int_equal (changes, N);
}

/* Pages of many mid-sized events, each with the longest request id: the
   byte budget must count every part of an item (keys, integers,
   created_us, the request id), not only user_id, description and status,
   or a page of ~500 items overshoots the frame limit by a few bytes per
   item and the decoder (the notifier's, a gateway's) refuses it for ever.
   Description sizes around the point where a page holds ~500 items. */
static void
test_dispatch_pages_of_mid_sized_events_with_request_ids_fit (void **state)
{
    (void)state;
    char user[17], rid[PROTO_REQUEST_ID_MAX + 1], desc[2101];
    memset (user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    memset (rid, 'r', sizeof rid - 1);
    rid[sizeof rid - 1] = '\0';
    enum { N = 700 };
    for (size_t len = 1800; len <= 2100; len += 20) {
        fixture_t *self = s_fixture_new (100000);
        memset (desc, 'd', len);
        desc[len] = '\0';
        for (int i = 0; i < N; i++) {
            proto_request_t req = {
                .op = PROTO_OP_CREATE,
                .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_REQUEST_ID,
                .user_id = s_str (user),
                .description = s_str (desc),
                .request_id = s_str (rid),
            };
            assert_int_equal (s_call (self, &req)->status, PROTO_OK);
        }
        size_t changes = 0;
        for (uint64_t from = 1; changes < N;) {
            proto_reply_t *reply = s_feed_read (self, from, 1000);
            if (self->out.size > PROTO_FRAME_MAX)
                fail_msg ("description %zu: a feed page of %zu bytes", len, self->out.size);
            assert_int_equal (reply->status, PROTO_OK);
            assert_true (reply->n_changes > 0);
            changes += reply->n_changes;
            from = reply->changes[reply->n_changes - 1].seq + 1;
        }
        proto_request_t list = { .op = PROTO_OP_LIST, .has = PROTO_HAS_LIMIT, .limit = 1000 };
        for (size_t seen = 0; seen < N;) {
            proto_reply_t *reply = s_call (self, &list);
            if (self->out.size > PROTO_FRAME_MAX)
                fail_msg ("description %zu: a list page of %zu bytes", len, self->out.size);
            assert_int_equal (reply->status, PROTO_OK);
            assert_true (reply->n_items > 0);
            seen += reply->n_items;
            list.has |= PROTO_HAS_AFTER;
            memcpy (list.after, reply->items[reply->n_items - 1].id, 16);
        }
        s_teardown ((void **)&self);
    }
}

static void
test_dispatch_feed_read_and_ack_cursor (void **state)
{
    fixture_t *self = *state;
    uint8_t id[16];
    memcpy (id, s_create (self, "u", "one")->event.id, 16);
    s_create (self, "u", "two");
    s_update_status (self, id, "processed");
    proto_reply_t *reply = s_feed_read (self, 0, 0);
    assert_int_equal (reply->status, PROTO_OK);
    assert_int_equal (reply->n_changes, 3);
    assert_int_equal (reply->head, 3);
    assert_int_equal (reply->acked, 0);
    assert_int_equal (reply->feed_len, 3);
    assert_int_equal (reply->feed_max, 1000);
    assert_int_equal (reply->changes[0].seq, 1);
    assert_int_equal (reply->changes[0].kind, PROTO_CHANGE_CREATED);
    /* Records carry the event's current state. */
    assert_true (s_is (reply->changes[0].event.status, "processed"));
    assert_int_equal (reply->changes[2].kind, PROTO_CHANGE_UPDATED);
    assert_memory_equal (reply->changes[2].event.id, id, 16);
    /* Paged read, ack, then a reconnecting reader (no from) gets the tail. */
    reply = s_feed_read (self, 2, 1);
    assert_int_equal (reply->n_changes, 1);
    assert_int_equal (reply->changes[0].seq, 2);
    reply = s_ack (self, 1);
    assert_int_equal (reply->status, PROTO_OK);
    assert_int_equal (reply->acked, 1);
    for (int round = 0; round < 2; round++) {
        reply = s_feed_read (self, 0, 0);
        assert_int_equal (reply->n_changes, 2);
        assert_int_equal (reply->changes[0].seq, 2);
        assert_int_equal (reply->acked, 1);
    }
    /* Ack beyond head is refused; below or at the cursor is a no-op. */
    reply = s_ack (self, 4);
    assert_int_equal (reply->status, PROTO_E_INVALID);
    assert_true (s_is (reply->field, "seq"));
    assert_int_equal (s_ack (self, 1)->acked, 1);
    assert_int_equal (s_ack (self, 3)->acked, 3);
    assert_int_equal (s_ack (self, 3)->acked, 3);
    assert_int_equal (s_ack (self, 2)->acked, 3);
    reply = s_feed_read (self, 0, 0);
    assert_int_equal (reply->n_changes, 0);
    assert_int_equal (reply->feed_len, 0);
}

static void
test_dispatch_full_feed_refuses_writes_and_changes_nothing (void **state)
{
    fixture_t *self = s_fixture_new (2);
    uint8_t id[16];
    memcpy (id, s_create (self, "u", "one")->event.id, 16);
    s_create (self, "u", "two");
    proto_reply_t *reply = s_create (self, "u", "three");
    assert_int_equal (reply->status, PROTO_E_FEED_FULL);
    assert_non_null (reply->message.ptr);
    assert_int_equal (event_table_size (dispatch_table (self->dispatch)), 2);
    /* Updates (a worker's `processed`) have their headroom past the bound. */
    for (uint32_t i = 0; i < FEED_UPDATE_HEADROOM_MIN; i++)
        assert_int_equal (s_update_status (self, id, i % 2 ? "sent" : "processed")->status,
                          PROTO_OK);
    reply = s_update_status (self, id, "refused");
    assert_int_equal (reply->status, PROTO_E_FEED_FULL);
    uint64_t head = 2 + FEED_UPDATE_HEADROOM_MIN;
    reply = s_get (self, id);
    assert_true (s_is (reply->event.status, "sent"));
    assert_int_equal (reply->event.seq, head);
    reply = s_feed_read (self, 0, 0);
    assert_int_equal (reply->head, head);
    assert_int_equal (self->changes_seen, head);
    /* Reads still work; creates need the feed under its bound again. */
    assert_int_equal (s_ack (self, head - 2)->status, PROTO_OK);
    assert_int_equal (s_create (self, "u", "four")->status, PROTO_E_FEED_FULL);
    assert_int_equal (s_ack (self, head - 1)->status, PROTO_OK);
    reply = s_create (self, "u", "five");
    assert_int_equal (reply->status, PROTO_OK);
    assert_int_equal (reply->event.seq, head + 1);
    assert_int_equal (s_create (self, "u", "six")->status, PROTO_E_FEED_FULL);
    void *p = self;
    s_teardown (&p);
}

static void
test_dispatch_bad_frames_get_error_replies (void **state)
{
    fixture_t *self = *state;
    /* Random bytes, an empty frame, a bare integer. */
    const uint8_t junk[] = { 0xc1, 0xff, 0x00, 0x13, 0x37 };
    assert_int_equal (s_raw (self, junk, sizeof junk)->status, PROTO_E_MALFORMED);
    assert_int_equal (s_raw (self, "", 0)->status, PROTO_E_MALFORMED);
    const uint8_t number[] = { 0x2a };
    assert_int_equal (s_raw (self, number, 1)->status, PROTO_E_MALFORMED);
    /* A valid request cut short. */
    proto_request_t req = { .op = PROTO_OP_CREATE,
                            .rid = 77,
                            .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                            .user_id = s_str ("u"),
                            .description = s_str ("d") };
    msgpack_sbuffer_clear (&self->request);
    proto_request_encode (&req, &self->request);
    for (size_t cut = 0; cut < self->request.size; cut++)
        assert_int_not_equal (s_raw (self, self->request.data, cut)->status, PROTO_OK);
    /* Wrong version, unknown op: rid echoed. */
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_uint32 (&pk, 99);
    msgpack_pack_str_with_body (&pk, "op", 2);
    msgpack_pack_str_with_body (&pk, "ping", 4);
    msgpack_pack_str_with_body (&pk, "rid", 3);
    msgpack_pack_uint64 (&pk, 4242);
    proto_reply_t *reply = s_raw (self, buf.data, buf.size);
    assert_int_equal (reply->status, PROTO_E_VERSION);
    assert_int_equal (reply->rid, 4242);
    msgpack_sbuffer_clear (&buf);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_uint32 (&pk, PROTO_VERSION);
    msgpack_pack_str_with_body (&pk, "op", 2);
    msgpack_pack_str_with_body (&pk, "explode", 7);
    msgpack_pack_str_with_body (&pk, "rid", 3);
    msgpack_pack_uint64 (&pk, 4343);
    reply = s_raw (self, buf.data, buf.size);
    assert_int_equal (reply->status, PROTO_E_UNKNOWN_OP);
    assert_int_equal (reply->rid, 4343);
    msgpack_sbuffer_destroy (&buf);
    /* Nothing was created, and the counters saw it all. */
    assert_int_equal (event_table_size (dispatch_table (self->dispatch)), 0);
    dispatch_counters_t *c = dispatch_counters (self->dispatch);
    assert_true (c->malformed >= 3);
    assert_int_equal (c->errors, c->requests);
}

static void
test_dispatch_stats_report_counters (void **state)
{
    fixture_t *self = *state;
    s_create (self, "u", "d");
    s_raw (self, "x", 1);
    proto_request_t req = { .op = PROTO_OP_STATS };
    proto_reply_t *reply = s_call (self, &req);
    assert_int_equal (reply->status, PROTO_OK);
    bool seen_events = false, seen_rss = false;
    for (size_t i = 0; i < reply->n_stats; i++) {
        if (s_is (reply->stats[i].name, "events")) {
            seen_events = true;
            assert_int_equal (reply->stats[i].value, 1);
        }
        if (s_is (reply->stats[i].name, "malformed"))
            assert_int_equal (reply->stats[i].value, 1);
        if (s_is (reply->stats[i].name, "requests"))
            assert_int_equal (reply->stats[i].value, 3);
        if (s_is (reply->stats[i].name, "rss_bytes")) {
            seen_rss = true;
            assert_true (reply->stats[i].value > 0);
        }
    }
    assert_true (seen_events && seen_rss);
}

/* Replies that carry the store's identity carry this dispatcher's. */
static void
s_assert_identified (fixture_t *self, const proto_reply_t *reply)
{
    assert_int_equal (reply->status, PROTO_OK);
    assert_true (reply->has_store_id);
    assert_memory_equal (reply->store_id, dispatch_store_id (self->dispatch), 16);
}

static void
test_dispatch_store_id_on_ping_stats_and_feed_replies (void **state)
{
    fixture_t *self = *state;
    /* A fresh store is a new store: a random RFC 4122 version 4 id, another
       for each dispatcher. */
    const uint8_t *id = dispatch_store_id (self->dispatch);
    assert_int_equal (id[6] >> 4, 4);
    assert_int_equal (id[8] >> 6, 2);
    fixture_t *other = s_fixture_new (10);
    assert_memory_not_equal (dispatch_store_id (other->dispatch), id, 16);
    void *p = other;
    s_teardown (&p);

    s_create (self, "u", "d");
    proto_request_t ping = { .op = PROTO_OP_PING }, stats = { .op = PROTO_OP_STATS };
    s_assert_identified (self, s_call (self, &ping));
    s_assert_identified (self, s_call (self, &stats));
    s_assert_identified (self, s_feed_read (self, 0, 0));
    s_assert_identified (self, s_ack (self, 1));
    /* A store that recovers its data takes back the identity it had. */
    uint8_t kept[16];
    memset (kept, 0xab, sizeof kept);
    dispatch_set_store_id (self->dispatch, kept);
    assert_memory_equal (dispatch_store_id (self->dispatch), kept, 16);
    proto_reply_t *reply = s_call (self, &ping);
    s_assert_identified (self, reply);
    assert_memory_equal (reply->store_id, kept, 16);
}

static void
test_dispatch_feed_ack_meant_for_another_store_changes_nothing (void **state)
{
    fixture_t *self = *state;
    for (int i = 0; i < 3; i++)
        s_create (self, "u", "d");
    proto_request_t ack = { .op = PROTO_OP_FEED_ACK,
                            .has = PROTO_HAS_SEQ | PROTO_HAS_STORE_ID,
                            .seq = 2 };
    memcpy (ack.store_id, dispatch_store_id (self->dispatch), 16);
    ack.store_id[15] ^= 1;
    proto_reply_t *reply = s_call (self, &ack);
    assert_int_equal (reply->status, PROTO_E_INVALID);
    assert_true (s_is (reply->field, "store_id"));
    assert_int_equal (feed_acked (dispatch_feed (self->dispatch)), 0);
    assert_int_equal (feed_len (dispatch_feed (self->dispatch)), 3);
    /* With this store's id, or with none, the ack applies. */
    ack.store_id[15] ^= 1;
    reply = s_call (self, &ack);
    s_assert_identified (self, reply);
    assert_int_equal (reply->acked, 2);
    assert_int_equal (s_ack (self, 3)->acked, 3);
    assert_int_equal (feed_len (dispatch_feed (self->dispatch)), 0);
}

/* The stat named name in a stats reply; fails when absent. */
static uint64_t
s_stat (fixture_t *self, const char *name)
{
    proto_request_t req = { .op = PROTO_OP_STATS };
    proto_reply_t *reply = s_call (self, &req);
    assert_int_equal (reply->status, PROTO_OK);
    for (size_t i = 0; i < reply->n_stats; i++)
        if (s_is (reply->stats[i].name, name))
            return reply->stats[i].value;
    fail_msg ("no stat %s", name);
    return 0;
}

static void
test_dispatch_event_cap_refuses_creates_past_it_and_nothing_else (void **state)
{
    fixture_t *self = *state;
    dispatch_set_capacity (self->dispatch, 3, 0);
    uint8_t id[16];
    memcpy (id, s_create (self, "u", "one")->event.id, 16);
    assert_int_equal (s_create (self, "u", "two")->status, PROTO_OK);
    assert_int_equal (s_create (self, "u", "three")->status, PROTO_OK); /* the limit */
    proto_reply_t *reply = s_create (self, "u", "four");                /* limit + 1 */
    assert_int_equal (reply->status, PROTO_E_STORE_FULL);
    assert_true (reply->message.ptr && strstr (reply->message.ptr, "max-events 3"));
    /* Nothing changed: no event, no seq, no change announced. */
    assert_int_equal (event_table_size (dispatch_table (self->dispatch)), 3);
    assert_int_equal (feed_head (dispatch_feed (self->dispatch)), 3);
    assert_int_equal (self->changes_seen, 3);
    /* Updates, reads and acks go on. */
    reply = s_update_status (self, id, "processed");
    assert_int_equal (reply->status, PROTO_OK);
    assert_int_equal (reply->event.seq, 4);
    assert_int_equal (s_get (self, id)->status, PROTO_OK);
    assert_int_equal (s_feed_read (self, 0, 0)->n_changes, 4);
    assert_int_equal (s_ack (self, 4)->status, PROTO_OK);
    assert_int_equal (s_stat (self, "max_events"), 3);
    assert_int_equal (s_stat (self, "events"), 3);
    /* A raised cap lets creates in again. */
    dispatch_set_capacity (self->dispatch, 4, 0);
    assert_int_equal (s_create (self, "u", "four")->status, PROTO_OK);
    assert_int_equal (s_create (self, "u", "five")->status, PROTO_E_STORE_FULL);
}

static void
test_dispatch_memory_cap_refuses_creates_once_reached (void **state)
{
    fixture_t *self = *state;
    event_table_t *table = dispatch_table (self->dispatch);
    assert_int_equal (s_create (self, "u", "one")->status, PROTO_OK);
    size_t bytes = event_table_bytes (table);
    /* One byte below the cap: the create goes in (and crosses it). */
    dispatch_set_capacity (self->dispatch, 0, bytes + 1);
    assert_int_equal (s_create (self, "u", "two")->status, PROTO_OK);
    assert_true (event_table_bytes (table) >= bytes + 1);
    /* At the cap: refused, with the reason, and nothing changed. */
    bytes = event_table_bytes (table);
    dispatch_set_capacity (self->dispatch, 0, bytes);
    proto_reply_t *reply = s_create (self, "u", "three");
    assert_int_equal (reply->status, PROTO_E_STORE_FULL);
    assert_true (reply->message.ptr && strstr (reply->message.ptr, "max-memory"));
    assert_int_equal (event_table_size (table), 2);
    assert_int_equal (event_table_bytes (table), bytes);
    assert_int_equal (s_stat (self, "max_memory"), bytes);
    assert_int_equal (s_stat (self, "table_bytes"), bytes);
    assert_int_equal (s_feed_read (self, 0, 0)->n_changes, 2);
}

static void
test_dispatch_reply_budget_shortens_pages_never_below_one_item (void **state)
{
    fixture_t *self = *state;
    char description[101];
    memset (description, 'd', 100);
    description[100] = '\0';
    for (int i = 0; i < 10; i++)
        assert_int_equal (s_create (self, "u", description)->status, PROTO_OK);
    /* An item counts 256 + its strings (1 + 100 + 7) = 364, a reply 1024. */
    proto_request_t list = { .op = PROTO_OP_LIST, .has = PROTO_HAS_LIMIT, .limit = 1000 };
    dispatch_set_reply_budget (self->dispatch, 1024 + 3 * 364);
    proto_reply_t *reply = s_call (self, &list);
    assert_int_equal (reply->n_items, 3);
    assert_true (reply->has_next_after);
    assert_true (self->out.size <= 1024 + 3 * 364);
    dispatch_set_reply_budget (self->dispatch, 1024 + 3 * 364 - 1);
    assert_int_equal (s_call (self, &list)->n_items, 2);
    assert_int_equal (s_feed_read (self, 0, 0)->n_changes, 2);
    dispatch_set_reply_budget (self->dispatch, 0);
    reply = s_call (self, &list);
    assert_int_equal (reply->n_items, 1);
    assert_true (reply->has_next_after);
    assert_int_equal (s_feed_read (self, 0, 0)->n_changes, 1);
    dispatch_set_reply_budget (self->dispatch, PROTO_FRAME_MAX);
    reply = s_call (self, &list);
    assert_int_equal (reply->n_items, 10);
    assert_false (reply->has_next_after);
    assert_int_equal (s_feed_read (self, 0, 0)->n_changes, 10);
    /* Each page the budget ended counted once: three lists and two reads. */
    assert_int_equal (s_stat (self, "pages_cut"), 5);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_dispatch_ping_echoes_rid, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_create_then_get, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_get_and_update_unknown_are_not_found,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_update_takes_next_seq, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_list_pages_with_default_limit, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_big_events_page_within_the_frame_limit,
                                         s_setup, s_teardown),
        cmocka_unit_test (test_dispatch_pages_of_mid_sized_events_with_request_ids_fit),
        cmocka_unit_test_setup_teardown (test_dispatch_feed_read_and_ack_cursor, s_setup,
                                         s_teardown),
        cmocka_unit_test (test_dispatch_full_feed_refuses_writes_and_changes_nothing),
        cmocka_unit_test_setup_teardown (test_dispatch_bad_frames_get_error_replies, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_stats_report_counters, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_store_id_on_ping_stats_and_feed_replies,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_dispatch_feed_ack_meant_for_another_store_changes_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_dispatch_event_cap_refuses_creates_past_it_and_nothing_else, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_memory_cap_refuses_creates_once_reached,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_dispatch_reply_budget_shortens_pages_never_below_one_item, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
