/*
 * test_store_integration — the real herald-store binary over real sockets:
 * every op on a ZeroMQ DEALER, the live PUB stream, the feed bound, garbage
 * of every kind (random bytes, truncated maps, wrong version, unknown op,
 * multi-frame junk, empty frames, raw non-ZMTP bytes and an HTTP request
 * on its TCP port) after which it must still answer, --check, its ZeroMQ
 * threads under SCHED_BATCH (--io-sched), and a clean exit 0 on SIGTERM.
 */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "harness.h"
#include "io_sched.h"
#include "proto.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define FEED_MAX 64
#define TIMEOUT_MS 5000

typedef struct {
    pid_t pid;
    int port;
    int pub_port;
    char endpoint[64];
    zsock_t *dealer;
    zframe_t *frame; /* the last reply; reply strings point into it */
    proto_reply_t reply;
    uint64_t rid;
} fixture_t;

static fixture_t s_store;

static zsock_t *
s_dealer (const char *endpoint)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert_non_null (dealer);
    zsock_set_rcvtimeo (dealer, TIMEOUT_MS);
    assert_int_equal (zsock_connect (dealer, "%s", endpoint), 0);
    return dealer;
}

static int
s_start (void **state)
{
    fixture_t *self = &s_store;
    self->port = harness_free_port ();
    self->pub_port = harness_free_port ();
    char bind[64], pub[64], max[16];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", self->port);
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", self->pub_port);
    snprintf (max, sizeof max, "%d", FEED_MAX);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", bind);
    const char *argv[] = {
        harness_bin ("herald-store"), "--bind", bind, "--pub-bind", pub, "--feed-max", max, NULL
    };
    char log[600];
    snprintf (log, sizeof log, "%s/store.log", harness_tmpdir ());
    self->pid = harness_spawn (argv, NULL, NULL, log);
    if (self->pid < 0 || harness_wait_tcp (self->port, 10000) != 0)
        return -1;
    self->dealer = s_dealer (self->endpoint);
    *state = self;
    return 0;
}

static int
s_stop (void **state)
{
    fixture_t *self = &s_store;
    proto_reply_clear (&self->reply);
    zframe_destroy (&self->frame);
    zsock_destroy (&self->dealer);
    if (self->pid > 0 && harness_alive (self->pid))
        harness_stop (self->pid, SIGKILL, 5000);
    return 0;
}

/* Receives one reply on dealer into self->reply. */
static proto_reply_t *
s_recv (fixture_t *self, zsock_t *dealer)
{
    proto_reply_clear (&self->reply);
    zframe_destroy (&self->frame);
    self->frame = zframe_recv (dealer);
    assert_non_null (self->frame); /* the store answered within TIMEOUT_MS */
    proto_error_t err;
    assert_int_equal (proto_reply_decode (zframe_data (self->frame), zframe_size (self->frame),
                                          &self->reply, &err),
                      PROTO_DECODE_OK);
    return &self->reply;
}

static proto_reply_t *
s_call_on (fixture_t *self, zsock_t *dealer, proto_request_t *req)
{
    req->rid = ++self->rid;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (proto_request_encode (req, &buf), 0);
    assert_int_equal (zmq_send (zsock_resolve (dealer), buf.data, buf.size, 0), (int)buf.size);
    msgpack_sbuffer_destroy (&buf);
    proto_reply_t *reply = s_recv (self, dealer);
    assert_int_equal (reply->rid, req->rid);
    assert_int_equal (reply->op, req->op);
    return reply;
}

static proto_reply_t *
s_call (fixture_t *self, proto_request_t *req)
{
    return s_call_on (self, self->dealer, req);
}

static bool
s_is (proto_str_t str, const char *text)
{
    return str.ptr && str.len == strlen (text) && memcmp (str.ptr, text, str.len) == 0;
}

static void
s_assert_pings (fixture_t *self)
{
    proto_request_t req = { .op = PROTO_OP_PING };
    assert_int_equal (s_call (self, &req)->status, PROTO_OK);
}

static uint64_t
s_stat (fixture_t *self, const char *name)
{
    proto_request_t req = { .op = PROTO_OP_STATS };
    proto_reply_t *reply = s_call (self, &req);
    for (size_t i = 0; i < reply->n_stats; i++)
        if (s_is (reply->stats[i].name, name))
            return reply->stats[i].value;
    fail_msg ("stat %s missing", name);
    return 0;
}

static void
s_ack_all (fixture_t *self)
{
    proto_request_t req = { .op = PROTO_OP_FEED_READ, .has = PROTO_HAS_MAX, .max = 1 };
    uint64_t head = s_call (self, &req)->head;
    req = (proto_request_t){ .op = PROTO_OP_FEED_ACK, .has = PROTO_HAS_SEQ, .seq = head };
    assert_int_equal (s_call (self, &req)->status, PROTO_OK);
}

static void
test_store_answers_every_op (void **state)
{
    fixture_t *self = *state;
    s_assert_pings (self);
    /* Live stream: subscribe, then create until a notification shows up
       (a PUB subscriber joins asynchronously). */
    char pub[64];
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", self->pub_port);
    zsock_t *sub = zsock_new_sub (pub, "event.");
    assert_non_null (sub);
    zsock_set_rcvtimeo (sub, 100);
    proto_request_t create = { .op = PROTO_OP_CREATE,
                               .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                               .user_id = PROTO_STR ("u-42"),
                               .description = PROTO_STR ("Your order shipped") };
    uint8_t id[16];
    char *key = NULL;
    uint64_t created = 0;
    for (int i = 0; i < 40 && !key; i++, created++) {
        proto_reply_t *reply = s_call (self, &create);
        assert_int_equal (reply->status, PROTO_OK);
        assert_true (s_is (reply->event.status, "pending"));
        memcpy (id, reply->event.id, 16);
        key = zstr_recv (sub);
    }
    assert_non_null (key);
    assert_string_equal (key, "event.created");
    zstr_free (&key);
    zframe_t *body = zframe_recv (sub);
    assert_non_null (body);
    proto_change_t note;
    proto_error_t err;
    proto_limits_t limits = proto_limits_default ();
    assert_int_equal (
        proto_notification_decode (zframe_data (body), zframe_size (body), &limits, &note, &err),
        PROTO_DECODE_OK);
    assert_int_equal (note.kind, PROTO_CHANGE_CREATED);
    assert_true (s_is (note.event.user_id, "u-42"));
    zframe_destroy (&body);
    zsock_destroy (&sub);

    proto_request_t get = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    memcpy (get.event_id, id, 16);
    assert_true (s_is (s_call (self, &get)->event.description, "Your order shipped"));
    proto_request_t update = { .op = PROTO_OP_UPDATE,
                               .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS,
                               .status = PROTO_STR ("processed") };
    memcpy (update.event_id, id, 16);
    proto_reply_t *reply = s_call (self, &update);
    assert_int_equal (reply->status, PROTO_OK);
    uint64_t update_seq = reply->event.seq;
    assert_true (s_is (s_call (self, &get)->event.status, "processed"));
    proto_request_t list = { .op = PROTO_OP_LIST,
                             .has = PROTO_HAS_STATUS | PROTO_HAS_LIMIT,
                             .status = PROTO_STR ("processed"),
                             .limit = 10 };
    reply = s_call (self, &list);
    assert_int_equal (reply->n_items, 1);
    assert_memory_equal (reply->items[0].id, id, 16);
    assert_false (reply->has_next_after);
    get.event_id[0] ^= 0xff;
    assert_int_equal (s_call (self, &get)->status, PROTO_E_NOT_FOUND);

    proto_request_t read = { .op = PROTO_OP_FEED_READ };
    reply = s_call (self, &read);
    assert_int_equal (reply->status, PROTO_OK);
    assert_int_equal (reply->head, update_seq);
    assert_int_equal (reply->n_changes, reply->head - reply->acked);
    assert_int_equal (reply->changes[reply->n_changes - 1].kind, PROTO_CHANGE_UPDATED);
    proto_request_t ack = { .op = PROTO_OP_FEED_ACK, .has = PROTO_HAS_SEQ, .seq = update_seq + 1 };
    assert_int_equal (s_call (self, &ack)->status, PROTO_E_INVALID);
    ack.seq = update_seq;
    assert_int_equal (s_call (self, &ack)->acked, update_seq);
    assert_int_equal (s_call (self, &read)->n_changes, 0);
    /* (the subscriber may have joined in time for the first create) */
    assert_true (s_stat (self, "events") >= created);
    assert_true (s_stat (self, "published") >= 1);
}

/* Creates one event, acknowledges the feed (FEED_MAX is small) and
   returns the store's published count after it. */
static uint64_t
s_create_one (fixture_t *self)
{
    proto_request_t create = { .op = PROTO_OP_CREATE,
                               .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                               .user_id = PROTO_STR ("u-live"),
                               .description = PROTO_STR ("d") };
    assert_int_equal (s_call (self, &create)->status, PROTO_OK);
    s_ack_all (self);
    return s_stat (self, "published");
}

/* Creates events until one publishes nothing (a subscriber's leaving
   reaches the store asynchronously); returns the published count then. */
static uint64_t
s_until_unheard (fixture_t *self)
{
    uint64_t last = s_stat (self, "published");
    for (int64_t deadline = zclock_mono () + 5000; zclock_mono () < deadline;) {
        uint64_t now = s_create_one (self);
        if (now == last)
            return now;
        last = now;
    }
    fail_msg ("the store went on publishing with no subscriber");
    return 0;
}

/* The live stream is encoded only while someone subscribes (the store's
   XPUB counts subscriptions): without a subscriber a change publishes
   nothing; a subscriber to everything gets each change made after its
   subscription arrived; once it leaves, nothing is published again. */
static void
test_store_publishes_only_while_someone_subscribes (void **state)
{
    fixture_t *self = *state;
    uint64_t quiet = s_until_unheard (self);
    for (int i = 0; i < 20; i++)
        assert_int_equal (s_create_one (self), quiet);
    char pub[64];
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", self->pub_port);
    zsock_t *sub = zsock_new_sub (pub, "");
    assert_non_null (sub);
    zsock_set_rcvtimeo (sub, 100);
    char *key = NULL;
    for (int i = 0; i < 40 && !key; i++) {
        s_create_one (self);
        key = zstr_recv (sub);
    }
    assert_non_null (key);
    zstr_free (&key);
    zframe_t *body = zframe_recv (sub);
    assert_non_null (body);
    zframe_destroy (&body);
    /* Subscribed now: every create is published. */
    uint64_t heard = s_stat (self, "published");
    assert_true (heard > quiet);
    for (int i = 1; i <= 5; i++)
        assert_int_equal (s_create_one (self), heard + (uint64_t)i);
    zsock_destroy (&sub);
    quiet = s_until_unheard (self);
    for (int i = 0; i < 20; i++)
        assert_int_equal (s_create_one (self), quiet);
    s_ack_all (self);
}

/* The value of key in a MessagePack map, or NULL. */
static const msgpack_object *
s_map_get (const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen (key)
            && memcmp (kv->key.via.str.ptr, key, strlen (key)) == 0)
            return &kv->val;
    }
    return NULL;
}

/* A subscriber to "feed" alone (the notifier's doorbell) gets, after each
   change, {"v":1,"type":"feed","head":seq} with the seq of the change, and
   nothing else: the store encodes no notes while only "feed" is
   subscribed (published stays put). Subscribing to one kind of note
   covers that kind only. */
static void
test_store_feed_topic_wakes_without_notes (void **state)
{
    fixture_t *self = *state;
    uint64_t quiet = s_until_unheard (self);
    char pub[64];
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", self->pub_port);
    zsock_t *sub = zsock_new_sub (pub, PROTO_FEED_TOPIC);
    assert_non_null (sub);
    zsock_set_rcvtimeo (sub, 100);
    proto_request_t create = { .op = PROTO_OP_CREATE,
                               .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                               .user_id = PROTO_STR ("u-feed"),
                               .description = PROTO_STR ("d") };
    zmsg_t *msg = NULL;
    uint64_t seq = 0;
    for (int i = 0; i < 40 && !msg; i++) {
        proto_reply_t *reply = s_call (self, &create);
        assert_int_equal (reply->status, PROTO_OK);
        seq = reply->event.seq;
        msg = zmsg_recv (sub);
    }
    assert_non_null (msg);
    zmsg_destroy (&msg);
    /* A wake-up that came after its create's 100 ms: take it, so each
       create below meets its own. */
    while ((msg = zmsg_recv (sub)) != NULL)
        zmsg_destroy (&msg);
    for (int i = 0; i < 5; i++) {
        proto_reply_t *reply = s_call (self, &create);
        assert_int_equal (reply->status, PROTO_OK);
        seq = reply->event.seq;
        msg = zmsg_recv (sub);
        assert_non_null (msg);
        assert_int_equal (zmsg_size (msg), 2);
        char *topic = zmsg_popstr (msg);
        assert_string_equal (topic, PROTO_FEED_TOPIC);
        zstr_free (&topic);
        zframe_t *body = zmsg_pop (msg);
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        assert_int_equal (msgpack_unpack_next (&unpacked, (const char *)zframe_data (body),
                                               zframe_size (body), NULL),
                          MSGPACK_UNPACK_SUCCESS);
        const msgpack_object *v = s_map_get (&unpacked.data, "v");
        const msgpack_object *type = s_map_get (&unpacked.data, "type");
        const msgpack_object *head = s_map_get (&unpacked.data, "head");
        assert_non_null (v);
        assert_int_equal (v->via.u64, 1);
        assert_non_null (type);
        assert_int_equal (type->via.str.size, strlen (PROTO_FEED_TOPIC));
        assert_memory_equal (type->via.str.ptr, PROTO_FEED_TOPIC, strlen (PROTO_FEED_TOPIC));
        assert_non_null (head);
        assert_int_equal (head->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        assert_int_equal (head->via.u64, seq);
        msgpack_unpacked_destroy (&unpacked);
        zframe_destroy (&body);
        zmsg_destroy (&msg);
    }
    s_ack_all (self);
    assert_int_equal (s_stat (self, "published"), quiet);
    /* event.updated alone: an update is a note, a create is not. */
    zsock_t *updates = zsock_new_sub (pub, "event.updated");
    assert_non_null (updates);
    zsock_set_rcvtimeo (updates, 100);
    proto_request_t update = { .op = PROTO_OP_UPDATE,
                               .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS,
                               .status = PROTO_STR ("processed") };
    memcpy (update.event_id, s_call (self, &create)->event.id, 16);
    char *key = NULL;
    for (int i = 0; i < 40 && !key; i++) {
        assert_int_equal (s_call (self, &update)->status, PROTO_OK);
        key = zstr_recv (updates);
    }
    assert_non_null (key);
    assert_string_equal (key, "event.updated");
    zstr_free (&key);
    zframe_t *body = zframe_recv (updates);
    zframe_destroy (&body);
    s_ack_all (self);
    uint64_t heard = s_stat (self, "published");
    assert_int_equal (s_create_one (self), heard);
    assert_int_equal (s_call (self, &update)->status, PROTO_OK);
    s_ack_all (self);
    assert_int_equal (s_stat (self, "published"), heard + 1);
    zsock_destroy (&updates);
    zsock_destroy (&sub);
    s_until_unheard (self);
}

static void
test_store_refuses_writes_when_feed_full (void **state)
{
    fixture_t *self = *state;
    s_ack_all (self);
    proto_request_t create = { .op = PROTO_OP_CREATE,
                               .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                               .user_id = PROTO_STR ("u"),
                               .description = PROTO_STR ("d") };
    for (int i = 0; i < FEED_MAX; i++)
        assert_int_equal (s_call (self, &create)->status, PROTO_OK);
    uint64_t events = s_stat (self, "events");
    proto_reply_t *reply = s_call (self, &create);
    assert_int_equal (reply->status, PROTO_E_FEED_FULL);
    assert_int_equal (s_stat (self, "events"), events);
    s_ack_all (self);
    assert_int_equal (s_call (self, &create)->status, PROTO_OK);
    s_ack_all (self);
}

/* Sends one multi-frame message of raw frames. */
static void
s_send_frames (zsock_t *dealer, const char *const frames[], const size_t sizes[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_true (
            zmq_send (zsock_resolve (dealer), frames[i], sizes[i], i + 1 < n ? ZMQ_SNDMORE : 0)
            >= 0);
}

static void
s_expect_error (fixture_t *self, const void *buf, size_t len, proto_status_t status)
{
    const char *frames[] = { buf };
    size_t sizes[] = { len };
    s_send_frames (self->dealer, frames, sizes, 1);
    proto_reply_t *reply = s_recv (self, self->dealer);
    assert_int_equal (reply->status, status);
}

static void
test_store_answers_garbage_frames_with_errors (void **state)
{
    fixture_t *self = *state;
    uint64_t dropped = s_stat (self, "dropped");
    /* Random bytes of many sizes. */
    srand (7);
    char junk[2048];
    for (int i = 0; i < 200; i++) {
        size_t len = (size_t)(rand () % (int)sizeof junk);
        for (size_t k = 0; k < len; k++)
            junk[k] = (char)rand ();
        junk[0] = (char)0xc1; /* never a valid MessagePack type byte */
        s_expect_error (self, junk, len ? len : 1, PROTO_E_MALFORMED);
    }
    s_expect_error (self, "", 0, PROTO_E_MALFORMED); /* empty frame */
    /* Truncated maps: every prefix of a valid create. */
    proto_request_t req = { .op = PROTO_OP_CREATE,
                            .rid = 9,
                            .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                            .user_id = PROTO_STR ("user"),
                            .description = PROTO_STR ("description") };
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    proto_request_encode (&req, &buf);
    for (size_t cut = 1; cut < buf.size; cut++) {
        const char *frames[] = { buf.data };
        size_t sizes[] = { cut };
        s_send_frames (self->dealer, frames, sizes, 1);
        assert_int_not_equal (s_recv (self, self->dealer)->status, PROTO_OK);
    }
    /* Wrong version and unknown op, hand-packed. */
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    msgpack_sbuffer_clear (&buf);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_uint32 (&pk, 2);
    msgpack_pack_str_with_body (&pk, "op", 2);
    msgpack_pack_str_with_body (&pk, "ping", 4);
    msgpack_pack_str_with_body (&pk, "rid", 3);
    msgpack_pack_uint64 (&pk, 31337);
    s_expect_error (self, buf.data, buf.size, PROTO_E_VERSION);
    assert_int_equal (self->reply.rid, 31337);
    msgpack_sbuffer_clear (&buf);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_uint32 (&pk, PROTO_VERSION);
    msgpack_pack_str_with_body (&pk, "op", 2);
    msgpack_pack_str_with_body (&pk, "drop_tables", 11);
    msgpack_pack_str_with_body (&pk, "rid", 3);
    msgpack_pack_uint64 (&pk, 31338);
    s_expect_error (self, buf.data, buf.size, PROTO_E_UNKNOWN_OP);
    assert_int_equal (self->reply.rid, 31338);
    msgpack_sbuffer_destroy (&buf);
    /* Multi-frame junk cannot be framed: dropped and counted, no reply. */
    const char *frames[] = { "a", "b", "c" };
    size_t sizes[] = { 1, 1, 1 };
    s_send_frames (self->dealer, frames, sizes, 3);
    s_send_frames (self->dealer, frames, sizes, 2);
    /* A REQ-style envelope ([empty][payload]) is answered in kind. */
    const char *envelope[] = { "", "\xc1" };
    size_t envelope_sizes[] = { 0, 1 };
    s_send_frames (self->dealer, envelope, envelope_sizes, 2);
    zmsg_t *msg = zmsg_recv (self->dealer);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 2);
    assert_int_equal (zframe_size (zmsg_first (msg)), 0);
    zmsg_destroy (&msg);
    s_assert_pings (self);
    assert_int_equal (s_stat (self, "dropped"), dropped + 2);
    assert_true (s_stat (self, "malformed") >= 200);
}

/* Writes bytes on a plain TCP connection to the store's port. */
static void
s_raw_tcp (int port, const char *bytes, size_t len)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (connect (fd, (struct sockaddr *)&addr, sizeof addr), 0);
    ssize_t sent = send (fd, bytes, len, MSG_NOSIGNAL);
    assert_true (sent > 0);
    /* Wait (bounded) for the store to hang up on us or to stay silent. */
    struct timeval tv = { 1, 0 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char sink[256];
    while (recv (fd, sink, sizeof sink, 0) > 0)
        ;
    close (fd);
}

static void
test_store_survives_raw_bytes_on_its_port (void **state)
{
    fixture_t *self = *state;
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 131 + 17);
    s_raw_tcp (self->port, junk, sizeof junk);
    const char http[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    s_raw_tcp (self->port, http, sizeof http - 1);
    /* A ZMTP greeting cut short, then junk. */
    const char greeting[] = "\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03\x00NULL";
    s_raw_tcp (self->port, greeting, sizeof greeting - 1);
    s_assert_pings (self);
    zsock_t *fresh = s_dealer (self->endpoint);
    proto_request_t req = { .op = PROTO_OP_PING };
    assert_int_equal (s_call_on (self, fresh, &req)->status, PROTO_OK);
    zsock_destroy (&fresh);
    assert_true (harness_alive (self->pid));
}

static int
s_run (const char *const argv[])
{
    pid_t pid = harness_spawn (argv, NULL, NULL, NULL);
    assert_true (pid > 0);
    int status = harness_stop (pid, 0, 10000); /* signal 0: just wait */
    assert_true (WIFEXITED (status));
    return WEXITSTATUS (status);
}

static void
test_store_check_flag_pings (void **state)
{
    fixture_t *self = *state;
    const char *argv[] = { harness_bin ("herald-store"), "--check", "--bind", self->endpoint,
                           NULL };
    assert_int_equal (s_run (argv), 0);
    char nobody[64];
    snprintf (nobody, sizeof nobody, "tcp://127.0.0.1:%d", harness_free_port ());
    const char *argv2[] = { harness_bin ("herald-store"), "--check", "--bind", nobody, NULL };
    assert_int_equal (s_run (argv2), 1);
    const char *help[] = { harness_bin ("herald-store"), "--help", NULL };
    assert_int_equal (s_run (help), 0);
    const char *bad[] = { harness_bin ("herald-store"), "--feed-max", "0", NULL };
    assert_int_equal (s_run (bad), 2);
}

/* libzmq's own threads run under SCHED_BATCH unless HERALD_IO_SCHED (or
   --io-sched) says normal; the loop thread keeps the policy it inherits.
   Skipped where this system refuses SCHED_BATCH (the store then warns and
   runs without) or this test's own HERALD_IO_SCHED asks for normal. */
static void
test_store_io_threads_run_under_sched_batch (void **state)
{
    fixture_t *self = *state;
    const char *bad[] = { harness_bin ("herald-store"), "--io-sched", "fast", NULL };
    assert_int_equal (s_run (bad), 2);
    const char *asked = getenv ("HERALD_IO_SCHED");
    if ((asked && strcmp (asked, "batch") != 0) || io_sched_policy (true) != SCHED_BATCH)
        skip ();
    int inherited = sched_getscheduler (0);
    assert_int_equal (harness_thread_policy (self->pid, "ZMQbg/IO/0"), SCHED_BATCH);
    assert_int_equal (harness_thread_policy (self->pid, "herald-store"), inherited);
    int port = harness_free_port ();
    char bind[64], pub[64];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", port);
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", harness_free_port ());
    const char *argv[] = { harness_bin ("herald-store"), "--bind", bind, "--pub-bind", pub, NULL };
    const char *env[] = { "HERALD_IO_SCHED=normal", NULL };
    pid_t normal = harness_spawn (argv, env, NULL, NULL);
    assert_true (normal > 0);
    assert_int_equal (harness_wait_tcp (port, 10000), 0);
    /* A new libzmq thread names itself just after it sets its policy. */
    for (int i = 0; i < 100
                    && (harness_thread_policy (normal, "ZMQbg/Reaper") < 0
                        || harness_thread_policy (normal, "ZMQbg/IO/0") < 0);
         i++)
        harness_nap_ms (50);
    assert_int_equal (harness_thread_policy (normal, "ZMQbg/IO/0"), inherited);
    assert_int_equal (harness_thread_policy (normal, "ZMQbg/Reaper"), inherited);
    harness_stop (normal, SIGTERM, 5000);
}

static void
test_store_exits_zero_on_sigterm (void **state)
{
    fixture_t *self = *state;
    s_assert_pings (self);
    int status = harness_stop (self->pid, SIGTERM, 5000);
    self->pid = -1;
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    zsys_init ();
    zsys_handler_set (NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_store_answers_every_op),
        cmocka_unit_test (test_store_publishes_only_while_someone_subscribes),
        cmocka_unit_test (test_store_feed_topic_wakes_without_notes),
        cmocka_unit_test (test_store_refuses_writes_when_feed_full),
        cmocka_unit_test (test_store_answers_garbage_frames_with_errors),
        cmocka_unit_test (test_store_survives_raw_bytes_on_its_port),
        cmocka_unit_test (test_store_check_flag_pings),
        cmocka_unit_test (test_store_io_threads_run_under_sched_batch),
        cmocka_unit_test (test_store_exits_zero_on_sigterm),
    };
    return cmocka_run_group_tests (tests, s_start, s_stop);
}
