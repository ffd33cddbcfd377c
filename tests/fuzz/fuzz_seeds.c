/*
 * fuzz_seeds — writes the seed corpora of the proto fuzz targets:
 *   fuzz_seeds <dir>   creates <dir>/fuzz_proto_{request,reply,notification}/
 * Seeds are the encoder's own output for every request op, every reply
 * kind and both notification kinds, plus a few hand-made frames near the
 * edges (truncated, duplicate keys, huge declared counts), so the fuzzer
 * starts from every branch of the decoders. Run by hand; the output is
 * committed under tests/fuzz/corpus/.
 */
#include "proto.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *s_dir;

static void
s_write (const char *target, const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", s_dir, target);
    mkdir (path, 0755);
    snprintf (path, sizeof path, "%s/%s/%s", s_dir, target, name);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (data, 1, len, file) != len) {
        perror (path);
        return;
    }
    fclose (file);
}

/* A hand-made frame from a string literal (which may contain NUL bytes). */
#define S_RAW(target, name, literal) s_write (target, name, literal, sizeof literal - 1)

static void
s_write_sb (const char *target, const char *name, msgpack_sbuffer *sb)
{
    s_write (target, name, sb->data, sb->size);
    msgpack_sbuffer_clear (sb);
}

static proto_event_t
s_event (unsigned n)
{
    proto_event_t ev = {
        .user_id = PROTO_STR ("u-42"),
        .description = PROTO_STR ("Your order shipped \xe2\x82\xac"),
        .status = PROTO_STR ("pending"),
        .created_at = 1795514400123LL,
        .updated_at = 1795514400456LL,
        .seq = n,
    };
    for (int i = 0; i < 16; i++)
        ev.id[i] = (uint8_t)(n * 16 + (unsigned)i);
    return ev;
}

static void
s_requests (msgpack_sbuffer *sb)
{
    const char *t = "fuzz_proto_request";
    proto_request_t reqs[] = {
        { .op = PROTO_OP_PING, .rid = 1 },
        { .op = PROTO_OP_CREATE,
          .rid = 2,
          .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_REQUEST_ID,
          .user_id = PROTO_STR ("u-42"),
          .description = PROTO_STR ("hello \xc3\xa9"),
          .request_id = PROTO_STR ("req-7f3a:2") },
        { .op = PROTO_OP_GET, .rid = 3, .has = PROTO_HAS_EVENT_ID },
        { .op = PROTO_OP_UPDATE,
          .rid = 4,
          .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS | PROTO_HAS_USER_ID,
          .status = PROTO_STR ("processed"),
          .user_id = PROTO_STR ("u") },
        { .op = PROTO_OP_LIST,
          .rid = 5,
          .has = PROTO_HAS_USER_ID | PROTO_HAS_STATUS | PROTO_HAS_AFTER | PROTO_HAS_LIMIT,
          .user_id = PROTO_STR ("u"),
          .status = PROTO_STR ("pending"),
          .limit = 1000 },
        { .op = PROTO_OP_FEED_READ,
          .rid = 6,
          .has = PROTO_HAS_FROM | PROTO_HAS_MAX,
          .from = 9,
          .max = 100 },
        { .op = PROTO_OP_FEED_ACK,
          .rid = 7,
          .has = PROTO_HAS_SEQ | PROTO_HAS_STORE_ID,
          .seq = UINT64_MAX },
        { .op = PROTO_OP_STATS, .rid = UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        proto_event_t ev = s_event ((unsigned)i);
        memcpy (reqs[i].event_id, ev.id, 16);
        memcpy (reqs[i].after, ev.id, 16);
        memcpy (reqs[i].store_id, ev.id, 16);
        proto_request_encode (&reqs[i], sb);
        s_write_sb (t, proto_op_name (reqs[i].op), sb);
    }
    /* {"v":1,"op":"ping","rid":1,"rid":2}: duplicate key */
    S_RAW (t, "dup_key", "\x84\xa1v\x01\xa2op\xa4ping\xa3rid\x01\xa3rid\x02");
    /* {"v":1,"op":"ping","rid":1,"x":[array32 of 2^32-1]} */
    S_RAW (t, "huge_array", "\x84\xa1v\x01\xa2op\xa4ping\xa3rid\x01\xa1x\xdd\xff\xff\xff\xff");
    /* {"v":1,"op":"ping","rid":1,"x":[[1]]}: too deep */
    S_RAW (t, "deep", "\x84\xa1v\x01\xa2op\xa4ping\xa3rid\x01\xa1x\x91\x91\x01");
}

static void
s_replies (msgpack_sbuffer *sb)
{
    const char *t = "fuzz_proto_reply";
    proto_event_t events[2] = { s_event (1), s_event (2) };
    events[1].request_id = PROTO_STR ("gw-0001-2a"); /* one event with, one without */
    proto_change_t changes[2] = { { 1, PROTO_CHANGE_CREATED, events[0] },
                                  { 2, PROTO_CHANGE_UPDATED, events[1] } };
    proto_stat_t stats[2] = { { PROTO_STR ("events"), 2 }, { PROTO_STR ("head"), 2 } };
    proto_reply_t replies[] = {
        { .op = PROTO_OP_PING, .rid = 1 },
        { .op = PROTO_OP_CREATE, .rid = 2, .event = events[0] },
        { .op = PROTO_OP_GET, .rid = 3, .event = events[1] },
        { .op = PROTO_OP_UPDATE, .rid = 4, .event = events[1] },
        { .op = PROTO_OP_LIST, .rid = 5, .items = events, .n_items = 2, .has_next_after = true },
        { .op = PROTO_OP_FEED_READ,
          .rid = 6,
          .changes = changes,
          .n_changes = 2,
          .acked = 0,
          .head = 2,
          .feed_len = 2,
          .feed_max = 100000 },
        { .op = PROTO_OP_FEED_ACK, .rid = 7, .acked = 2 },
        { .op = PROTO_OP_STATS, .rid = 8, .stats = stats, .n_stats = 2 },
    };
    memcpy (replies[4].next_after, events[1].id, 16);
    /* what the store sends: its identity on ping, feed_read, feed_ack, stats */
    size_t with_id[] = { 0, 5, 6, 7 };
    for (size_t i = 0; i < sizeof with_id / sizeof with_id[0]; i++) {
        replies[with_id[i]].has_store_id = true;
        memcpy (replies[with_id[i]].store_id, events[0].id, 16);
    }
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        proto_reply_encode (&replies[i], sb);
        s_write_sb (t, proto_op_name (replies[i].op), sb);
    }
    proto_reply_encode_error (PROTO_OP_GET, 9, PROTO_E_NOT_FOUND, "Event not found", "event_id",
                              sb);
    s_write_sb (t, "error_not_found", sb);
    proto_reply_encode_error (PROTO_OP_NONE, 0, PROTO_E_MALFORMED, "truncated frame", NULL, sb);
    s_write_sb (t, "error_malformed", sb);
    /* a sharded store's redirect */
    proto_reply_t moved = { .op = PROTO_OP_UPDATE, .rid = 10, .status = PROTO_E_MOVED };
    moved.message = PROTO_STR ("event_id is in slot 9000, owned by shard 1");
    moved.field = PROTO_STR ("event_id");
    moved.moved.endpoint = PROTO_STR ("tcp://127.0.0.1:5565");
    moved.moved.epoch = 7;
    moved.moved.slot = 9000;
    proto_reply_encode (&moved, sb);
    s_write_sb (t, "error_moved", sb);
}

static void
s_notifications (msgpack_sbuffer *sb)
{
    const char *t = "fuzz_proto_notification";
    proto_change_t created = { 1, PROTO_CHANGE_CREATED, s_event (1) };
    proto_change_t updated = { 2, PROTO_CHANGE_UPDATED, s_event (2) };
    updated.event.status = PROTO_STR ("processed");
    proto_notification_encode (&created, sb);
    s_write_sb (t, "created", sb);
    proto_notification_encode (&updated, sb);
    /* and the same body cut short */
    s_write (t, "truncated", sb->data, sb->size / 2);
    s_write_sb (t, "updated", sb);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: fuzz_seeds <corpus dir>\n");
        return 2;
    }
    s_dir = argv[1];
    mkdir (s_dir, 0755);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_requests (&sb);
    s_replies (&sb);
    s_notifications (&sb);
    msgpack_sbuffer_destroy (&sb);
    return 0;
}
