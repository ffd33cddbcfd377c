/*
 * fuzz_seeds — writes the seed corpora of the proto fuzz targets:
 *   fuzz_seeds <dir>   creates <dir>/fuzz_proto_{request,reply,notification}/
 *                      and the created_us and commits seeds of <dir>/fuzz_store_journal/
 * Seeds are the encoder's own output for every request op, every reply
 * kind and both notification kinds, plus a few hand-made frames near the
 * edges (truncated, duplicate keys, huge declared counts), so the fuzzer
 * starts from every branch of the decoders. Run by hand; the output is
 * committed under tests/fuzz/corpus/.
 */
#include "journal.h"
#include "proto.h"
#include "proto_journal.h"

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
          .has = PROTO_HAS_USER_ID | PROTO_HAS_STATUS | PROTO_HAS_AFTER | PROTO_HAS_LIMIT
                 | PROTO_HAS_RECEIPT,
          .user_id = PROTO_STR ("u"),
          .status = PROTO_STR ("pending"),
          .limit = 1000 },
        { .op = PROTO_OP_FEED_READ,
          .rid = 6,
          .has = PROTO_HAS_FROM | PROTO_HAS_MAX | PROTO_HAS_RECEIPT,
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
        memcpy (reqs[i].receipt, ev.id, 16);
        proto_request_encode (&reqs[i], sb);
        s_write_sb (t, proto_op_name (reqs[i].op), sb);
    }
    /* A batch of the ping, create, get and update frames. */
    msgpack_sbuffer one;
    msgpack_sbuffer_init (&one);
    proto_batch_begin (8, false, 4, sb);
    for (size_t i = 0; i < 4; i++) {
        msgpack_sbuffer_clear (&one);
        proto_request_encode (&reqs[i], &one);
        proto_batch_append (one.data, one.size, sb);
    }
    s_write_sb (t, "batch", sb);
    msgpack_sbuffer_destroy (&one);
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
    /* and a receipt on the pages: list and feed_read */
    for (size_t i = 4; i <= 5; i++) {
        replies[i].has_receipt = true;
        memcpy (replies[i].receipt, events[1].id, 16);
    }
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        proto_reply_encode (&replies[i], sb);
        s_write_sb (t, proto_op_name (replies[i].op), sb);
    }
    /* The batch reply to the ping, create, get and update frames. */
    msgpack_sbuffer one;
    msgpack_sbuffer_init (&one);
    proto_batch_begin (10, true, 4, sb);
    for (size_t i = 0; i < 4; i++) {
        msgpack_sbuffer_clear (&one);
        proto_reply_encode (&replies[i], &one);
        proto_batch_append (one.data, one.size, sb);
    }
    s_write_sb (t, "batch", sb);
    msgpack_sbuffer_destroy (&one);
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
    /* events with created_us (the microseconds within created_at's
       millisecond): at its top, at its smallest, and absent (0) beside */
    proto_event_t us[3] = { s_event (3), s_event (4), s_event (5) };
    us[0].created_us = PROTO_CREATED_US_MAX;
    us[1].created_us = 1;
    us[2].request_id = PROTO_STR ("gw-0001-2b");
    proto_change_t us_changes[2] = { { 3, PROTO_CHANGE_CREATED, us[0] },
                                     { 4, PROTO_CHANGE_UPDATED, us[1] } };
    proto_reply_t get_us = { .op = PROTO_OP_GET, .rid = 11, .event = us[0] };
    proto_reply_encode (&get_us, sb);
    s_write_sb (t, "get_created_us", sb);
    proto_reply_t list_us = { .op = PROTO_OP_LIST, .rid = 12, .items = us, .n_items = 3 };
    proto_reply_encode (&list_us, sb);
    s_write_sb (t, "list_created_us", sb);
    proto_reply_t feed_us = { .op = PROTO_OP_FEED_READ,
                              .rid = 13,
                              .changes = us_changes,
                              .n_changes = 2,
                              .head = 4,
                              .feed_len = 2,
                              .feed_max = 100 };
    proto_reply_encode (&feed_us, sb);
    s_write_sb (t, "feed_read_created_us", sb);
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
    proto_change_t us = { 3, PROTO_CHANGE_CREATED, s_event (3) };
    us.event.created_us = 500;
    proto_notification_encode (&us, sb);
    s_write_sb (t, "created_us", sb);
}

/* Journal records with created_us, both ways the target reads its input:
   a whole file (first byte even) and records it frames itself (first byte
   odd, then [u16 length LE][u8 seq step][payload] each). */
static void
s_journal (msgpack_sbuffer *sb)
{
    const char *t = "fuzz_store_journal";
    proto_journal_record_t recs[5] = {
        { .type = PROTO_JOURNAL_HEADER, .format = PROTO_JOURNAL_FORMAT },
        { .type = PROTO_JOURNAL_CREATED, .event = s_event (1) },
        { .type = PROTO_JOURNAL_CREATED, .event = s_event (2) },
        { .type = PROTO_JOURNAL_UPDATED, .event = s_event (1) },
        { .type = PROTO_JOURNAL_ACK },
    };
    const uint64_t seqs[5] = { 0, 1, 2, 3, 3 };
    memcpy (recs[0].store_id, s_event (9).id, 16);
    recs[1].event.created_us = PROTO_CREATED_US_MAX;
    recs[1].event.updated_at = recs[1].event.created_at;
    recs[2].event.created_us = 0; /* as an older store wrote it */
    recs[2].event.updated_at = recs[2].event.created_at;
    recs[3].event.created_us = PROTO_CREATED_US_MAX;
    recs[3].event.seq = 3;
    recs[3].event.status = PROTO_STR ("processed");
    static uint8_t file[4096], framed[4096], commits[4096], commits_framed[4096];
    size_t file_len = 1, framed_len = 1, commits_len = 1, commits_framed_len = 1, committed = 1;
    file[0] = commits[0] = 0;
    framed[0] = commits_framed[0] = 1;
    uint64_t last = 0;
    for (int i = 0; i < 5; i++) {
        if (i > 0)
            recs[i].event.seq = recs[i].type == PROTO_JOURNAL_ACK ? 0 : seqs[i];
        msgpack_sbuffer_clear (sb);
        proto_journal_encode (&recs[i], sb);
        journal_frame_header (file + file_len, seqs[i], sb->data, sb->size);
        memcpy (file + file_len + JOURNAL_FRAME_HEADER, sb->data, sb->size);
        file_len += JOURNAL_FRAME_HEADER + sb->size;
        framed[framed_len++] = (uint8_t)sb->size;
        framed[framed_len++] = (uint8_t)(sb->size >> 8);
        framed[framed_len++] = (uint8_t)(seqs[i] - last);
        memcpy (framed + framed_len, sb->data, sb->size);
        framed_len += sb->size;
        last = seqs[i];
        /* The same records as a store writes them now: commits of 3 and 2
           records, then zeros written ahead (framed: 0xff steps close the
           commits, a 0xffff length is a hole of zeros). */
        memcpy (commits + commits_len, file + file_len - JOURNAL_FRAME_HEADER - sb->size,
                JOURNAL_FRAME_HEADER + sb->size);
        commits_len += JOURNAL_FRAME_HEADER + sb->size;
        memcpy (commits_framed + commits_framed_len, framed + framed_len - 3 - sb->size,
                3 + sb->size);
        commits_framed_len += 3 + sb->size;
        if (i == 2 || i == 4) {
            journal_commit_record (commits + commits_len, commits + committed,
                                   commits_len - committed);
            commits_len += JOURNAL_COMMIT_SIZE;
            committed = commits_len;
            memcpy (commits_framed + commits_framed_len, "\0\0\xff", 3);
            commits_framed_len += 3;
        }
    }
    memset (commits + commits_len, 0, 64);
    commits_len += 64;
    memcpy (commits_framed + commits_framed_len, "\xff\xff\x40", 3);
    commits_framed_len += 3;
    msgpack_sbuffer_clear (sb);
    s_write (t, "created_us", file, file_len);
    s_write (t, "created_us-records", framed, framed_len);
    s_write (t, "commits", commits, commits_len);
    s_write (t, "commits-records", commits_framed, commits_framed_len);
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
    s_journal (&sb);
    msgpack_sbuffer_destroy (&sb);
    return 0;
}
