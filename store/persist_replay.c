/*
 * persist_replay — reading a journal back into a dispatcher: at start-up
 * (persist_open) and for --journal-verify, which replays into a scratch
 * one and changes nothing.
 *
 * Replay checks what it applies as strictly as a request: sequence numbers
 * must follow each other, an update must name a known event, an ack must
 * not pass the head, a snapshot's feed tail must be whole. A record that
 * breaks one of these is reported like a bad checksum (file, offset,
 * reason): the store does not start on a journal it cannot trust.
 */
#include "persist_internal.h"

#include "proto_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Replay -------------------------------------------------------------- */

static int s_fail (char *why, size_t size, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fail (char *why, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (why, size, fmt, args);
    va_end (args);
    return -1;
}

/* Creates an event as a record states it, both timestamps (created_us
   too: 0 in records written before it) and seq kept. */
static int
s_restore_event (persist_t *self, const proto_event_t *ev, uint64_t seq, uint32_t *index)
{
    if (event_table_create (self->table, ev->id, ev->user_id, ev->description, ev->status,
                            ev->request_id, ev->created_at, ev->created_us, seq, index)
        != 0)
        return -1;
    if (ev->updated_at != ev->created_at
        && event_table_update (self->table, *index, PROTO_STR_NONE, PROTO_STR_NONE, PROTO_STR_NONE,
                               ev->request_id, ev->updated_at, seq)
               != 0)
        return -1; /* out of memory: the state would not come back exactly */
    return 0;
}

static int
s_append_feed (persist_t *self, proto_change_kind_t kind, uint32_t index, char *why, size_t size)
{
    if (feed_reserve (self->feed, kind) != FEED_OK)
        return s_fail (why, size, "out of memory growing the change feed");
    feed_append (self->feed, kind, index);
    return 0;
}

static int
s_apply_change (persist_t *self, const proto_journal_record_t *rec, uint64_t seq, char *why,
                size_t size)
{
    if (seq != feed_next_seq (self->feed) || rec->event.seq != seq)
        return s_fail (why, size, "change seq %" PRIu64 " where %" PRIu64 " was expected", seq,
                       feed_next_seq (self->feed));
    uint32_t index;
    if (rec->type == PROTO_JOURNAL_CREATED) {
        if (s_restore_event (self, &rec->event, seq, &index) != 0)
            return s_fail (why, size, "event created twice, or out of memory");
        return s_append_feed (self, PROTO_CHANGE_CREATED, index, why, size);
    }
    index = event_table_find (self->table, rec->event.id);
    if (index == EVENT_TABLE_NONE)
        return s_fail (why, size, "update of an event never created");
    if (event_table_update (self->table, index, rec->event.user_id, rec->event.description,
                            rec->event.status, rec->event.request_id, rec->event.updated_at, seq)
        != 0)
        return s_fail (why, size, "out of memory");
    return s_append_feed (self, PROTO_CHANGE_UPDATED, index, why, size);
}

static int
s_apply_tail (persist_t *self, const proto_journal_record_t *rec, char *why, size_t size)
{
    if (!self->snap_open || rec->from != feed_next_seq (self->feed)
        || rec->n_slots > self->snap_head - feed_head (self->feed))
        return s_fail (why, size, "feed tail from %" PRIu64 " does not continue the snapshot",
                       rec->from);
    for (size_t i = 0; i < rec->n_slots; i++) {
        const uint8_t *p = rec->slots + 4 * i;
        uint32_t slot =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        uint32_t index = slot & 0x7fffffffu;
        if (index >= event_table_size (self->table))
            return s_fail (why, size, "feed tail names event %u of %zu", index,
                           event_table_size (self->table));
        proto_change_kind_t kind =
            (slot & 0x80000000u) ? PROTO_CHANGE_UPDATED : PROTO_CHANGE_CREATED;
        if (s_append_feed (self, kind, index, why, size) != 0)
            return -1;
    }
    self->snap_open = feed_head (self->feed) < self->snap_head;
    return 0;
}

int
persist_apply (void *arg, uint64_t seq, const uint8_t *payload, size_t len, char *why, size_t size)
{
    persist_t *self = arg;
    proto_journal_record_t rec;
    proto_error_t err;
    if (proto_journal_decode (payload, len, &rec, &err) != PROTO_DECODE_OK)
        return s_fail (why, size, "undecodable record: %s", err.message);
    if (!self->have_header && rec.type != PROTO_JOURNAL_HEADER)
        return s_fail (why, size, "the first record is a %s, not a header",
                       proto_journal_type_name (rec.type));
    if (self->snap_open && rec.type != PROTO_JOURNAL_TAIL)
        return s_fail (why, size, "the snapshot's feed tail stops at %" PRIu64 " of %" PRIu64,
                       feed_head (self->feed), self->snap_head);
    uint32_t index;
    switch (rec.type) {
    case PROTO_JOURNAL_HEADER:
        if (self->have_header)
            return s_fail (why, size, "a second header");
        memcpy (self->store_id, rec.store_id, 16);
        self->have_header = true;
        return 0;
    case PROTO_JOURNAL_CREATED:
    case PROTO_JOURNAL_UPDATED:
        if (rec.type == PROTO_JOURNAL_CREATED) {
            self->created_bytes += JOURNAL_FRAME_HEADER + len;
            self->created_count++;
        }
        return s_apply_change (self, &rec, seq, why, size);
    case PROTO_JOURNAL_ACK:
        if (feed_ack (self->feed, seq) != 0)
            return s_fail (why, size, "ack of %" PRIu64 " beyond the head %" PRIu64, seq,
                           feed_head (self->feed));
        return 0;
    case PROTO_JOURNAL_EVENT:
        if (feed_head (self->feed) != 0)
            return s_fail (why, size, "snapshot event after the feed");
        self->created_bytes += JOURNAL_FRAME_HEADER + len;
        self->created_count++;
        if (s_restore_event (self, &rec.event, rec.event.seq, &index) != 0)
            return s_fail (why, size, "event restored twice, or out of memory");
        return 0;
    case PROTO_JOURNAL_FEED:
        if (feed_restore (self->feed, rec.acked) != 0)
            return s_fail (why, size, "snapshot feed after changes");
        self->snap_head = rec.head;
        self->snap_open = rec.head > rec.acked;
        return 0;
    case PROTO_JOURNAL_TAIL:
        return s_apply_tail (self, &rec, why, size);
    default:
        return s_fail (why, size, "unknown record type");
    }
}

int
persist_check_bytes (const char *name, const uint8_t *buf, size_t len, persist_check_t *out)
{
    memset (out, 0, sizeof *out);
    proto_limits_t limits = proto_limits_default ();
    persist_t scratch = { 0 };
    scratch.dispatch = dispatch_new (FEED_MAX_LIMIT, &limits);
    if (!scratch.dispatch) {
        snprintf (out->scan.message, sizeof out->scan.message, "out of memory");
        return -1;
    }
    scratch.table = dispatch_table (scratch.dispatch);
    scratch.feed = dispatch_feed (scratch.dispatch);
    int rc = journal_scan_bytes (name, buf, len, persist_apply, &scratch, &out->scan);
    if (rc == 0 && scratch.snap_open) {
        snprintf (out->scan.message, sizeof out->scan.message,
                  "%s: the snapshot's feed tail stops at %" PRIu64 " of %" PRIu64, name,
                  feed_head (scratch.feed), scratch.snap_head);
        out->scan.corrupt = true;
        rc = -1;
    }
    out->have_header = scratch.have_header;
    memcpy (out->store_id, scratch.store_id, 16);
    out->events = event_table_size (scratch.table);
    out->acked = feed_acked (scratch.feed);
    out->head = feed_head (scratch.feed);
    dispatch_destroy (&scratch.dispatch);
    return rc;
}

int
persist_verify (const char *dir)
{
    size_t n = strlen (dir) + sizeof "/journal";
    char *path = malloc (n);
    if (!path)
        return 1;
    snprintf (path, n, "%s/journal", dir);
    int rc = -1;
    persist_check_t check = { 0 };
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) != 0) {
        snprintf (check.scan.message, sizeof check.scan.message, "%s: %s", path, strerror (errno));
    } else {
        /* Read, not mapped: a running store may shrink the file meanwhile
           (it cuts its zeros ahead when it stops), which would fault a map. */
        size_t len = (size_t)st.st_size, got = 0;
        uint8_t *buf = malloc (len ? len : 1);
        ssize_t r = 1;
        while (buf && got < len && (r = pread (fd, buf + got, len - got, (off_t)got)) > 0)
            got += (size_t)r;
        if (!buf || r < 0)
            snprintf (check.scan.message, sizeof check.scan.message, "%s: cannot read: %s", path,
                      buf ? strerror (errno) : "out of memory");
        else
            rc = persist_check_bytes (path, buf, got, &check);
        free (buf);
    }
    if (fd >= 0)
        close (fd);
    char id[PROTO_UUID_LEN + 1] = "none (no header)";
    if (check.have_header)
        proto_uuid_format (check.store_id, id);
    printf ("journal: %s\nrecords: %" PRIu64 "\nvalid bytes: %" PRIu64 "\nstore id: %s\n"
            "events: %zu\nfeed: cursor %" PRIu64 ", head %" PRIu64 ", %" PRIu64 " unacknowledged\n",
            path, check.scan.records, check.scan.bytes, id, check.events, check.acked, check.head,
            check.head - check.acked);
    printf ("commits: %" PRIu64 "\n", check.scan.commits);
    if (check.scan.ahead_bytes)
        printf ("written ahead: %" PRIu64 " bytes of zeros after the records (cut at start)\n",
                check.scan.ahead_bytes);
    if (check.scan.torn)
        printf ("torn tail: %" PRIu64 " bytes at offset %" PRIu64
                " (a crash mid-write; the store cuts it off at start)\n",
                check.scan.torn_bytes, check.scan.torn_offset);
    if (rc != 0)
        printf ("ERROR: %s\n", check.scan.message);
    else
        printf ("ok: the store can start from this journal\n");
    free (path);
    return rc == 0 ? 0 : 1;
}
