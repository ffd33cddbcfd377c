/*
 * persist — see persist.h.
 *
 * Replay checks what it applies as strictly as a request: sequence numbers
 * must follow each other, an update must name a known event, an ack must
 * not pass the head, a snapshot's feed tail must be whole. A record that
 * breaks one of these is reported like a bad checksum (file, offset,
 * reason): the store does not start on a journal it cannot trust.
 */
#include "persist.h"

#include "clock.h"
#include "log.h"
#include "proto_journal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

struct _persist_t {
    dispatch_t *dispatch;
    event_table_t *table;
    feed_t *feed;
    journal_t *journal;
    persist_config_t config;
    uint8_t store_id[16];
    bool have_header;
    msgpack_sbuffer sbuf;
    uint64_t appended; /* records appended, and changes owed to a snapshot (s_on_change) */
    /* A record could not be buffered (out of memory): from then on nothing
       more is appended (a later record after the missing one would make the
       journal unreadable), writes are refused, the feed hands out nothing
       past the last change journaled, and commits report failure (so the
       replies that wait for the journal stay held) until a compaction begun
       since then has recorded the whole state. */
    bool append_failed;
    bool rewrite_covers;  /* the compaction under way began after append_failed */
    uint64_t durable_cap; /* while append_failed: the last change the journal holds */
    /* replay */
    bool snap_open; /* a snapshot's feed tail is still being read */
    uint64_t snap_head;
    /* live data estimate: bytes of the records that created the events */
    uint64_t created_bytes;
    uint64_t created_count;
};

static void s_update_refusal (persist_t *self);

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

/* journal_record_fn: applies one record to the dispatcher's state. */
static int
s_apply (void *arg, uint64_t seq, const uint8_t *payload, size_t len, char *why, size_t size)
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

/* ---- Recording changes --------------------------------------------------- */

static int
s_append (persist_t *self, uint64_t seq, const proto_journal_record_t *rec)
{
    msgpack_sbuffer_clear (&self->sbuf);
    if (proto_journal_encode (rec, &self->sbuf) != 0
        || journal_append (self->journal, seq, self->sbuf.data, self->sbuf.size) != 0)
        return -1;
    self->appended++;
    return 0;
}

/* dispatch_journal_fn */
static int
s_on_change (void *arg, bool ack, proto_change_kind_t kind, uint64_t seq,
             const proto_event_t *event)
{
    persist_t *self = arg;
    proto_journal_record_t rec = { .type = PROTO_JOURNAL_ACK };
    if (!ack) {
        rec.type = kind == PROTO_CHANGE_CREATED ? PROTO_JOURNAL_CREATED : PROTO_JOURNAL_UPDATED;
        rec.event = *event;
    }
    if (self->append_failed || s_append (self, seq, &rec) != 0) {
        if (!self->append_failed) {
            log_error ("out of memory recording %s %" PRIu64 " in the journal: writes are "
                       "refused, and its reply waits, until a compaction records the whole "
                       "state",
                       ack ? "the acknowledgement of change" : "change", seq);
            self->append_failed = true;
            self->durable_cap = UINT64_MAX;
            s_update_refusal (self); /* at once: the rest of this pass too */
        }
        if (!ack && seq - 1 < self->durable_cap)
            self->durable_cap = seq - 1;
        self->rewrite_covers = false; /* a snapshot taken before now lacks it */
        self->appended++;             /* its reply waits for that snapshot */
        return -1;
    }
    if (rec.type == PROTO_JOURNAL_CREATED) {
        self->created_bytes += JOURNAL_FRAME_HEADER + self->sbuf.size;
        self->created_count++;
    }
    return 0;
}

/* dispatch_stats_fn */
static size_t
s_stats (void *arg, proto_stat_t *out, size_t room)
{
    persist_t *self = arg;
    journal_stats_t st;
    journal_stats (self->journal, &st);
    size_t n = 0;
#define S_STAT(name, value)                                                                        \
    if (n < room)                                                                                  \
    out[n++] = (proto_stat_t){ PROTO_STR (name), (uint64_t)(value) }
    S_STAT ("journal_bytes", journal_size (self->journal));
    S_STAT ("journal_live_bytes_estimate", self->created_bytes);
    S_STAT ("journal_commits", st.commits);
    S_STAT ("journal_records", st.records);
    S_STAT ("journal_syncs", st.syncs);
    S_STAT ("journal_sync_us_total", st.sync_us_total);
    S_STAT ("journal_sync_us_max", st.sync_us_max);
    S_STAT ("journal_unsynced_max_ms", st.unsynced_max_ms);
    S_STAT ("journal_synced_bytes", st.synced_bytes);
    S_STAT ("journal_write_errors", st.write_errors);
    S_STAT ("journal_rewrites", st.rewrites);
    S_STAT ("journal_error_errno", journal_error (self->journal));
#undef S_STAT
    return n;
}

/* ---- Compaction ---------------------------------------------------------- */

static int
s_write (persist_t *self, journal_writer_t *w, uint64_t seq, const proto_journal_record_t *rec)
{
    msgpack_sbuffer_clear (&self->sbuf);
    if (proto_journal_encode (rec, &self->sbuf) != 0)
        return -1;
    return journal_writer_append (w, seq, self->sbuf.data, self->sbuf.size);
}

/* journal_snapshot_fn, in the forked child: header, every event in
   creation order, the feed's cursor and its unacknowledged records. */
static int
s_snapshot (void *arg, journal_writer_t *w)
{
    persist_t *self = arg;
    proto_journal_record_t rec = { .type = PROTO_JOURNAL_HEADER, .format = PROTO_JOURNAL_FORMAT };
    memcpy (rec.store_id, self->store_id, 16);
    if (s_write (self, w, 0, &rec) != 0)
        return -1;
    size_t n = event_table_size (self->table);
    rec = (proto_journal_record_t){ .type = PROTO_JOURNAL_EVENT };
    for (size_t i = 0; i < n; i++) {
        event_table_view (self->table, (uint32_t)i, &rec.event);
        if (s_write (self, w, 0, &rec) != 0)
            return -1;
    }
    rec = (proto_journal_record_t){ .type = PROTO_JOURNAL_FEED,
                                    .acked = feed_acked (self->feed),
                                    .head = feed_head (self->feed) };
    if (s_write (self, w, 0, &rec) != 0)
        return -1;
    feed_record_t *records = malloc (PROTO_JOURNAL_TAIL_MAX * sizeof *records);
    uint8_t *slots = malloc (PROTO_JOURNAL_TAIL_MAX * 4);
    int rc = records && slots ? 0 : -1;
    for (uint64_t from = feed_acked (self->feed) + 1; rc == 0 && from <= feed_head (self->feed);) {
        size_t got = feed_read (self->feed, from, PROTO_JOURNAL_TAIL_MAX, records);
        for (size_t i = 0; i < got; i++) {
            uint32_t slot =
                records[i].ref | (records[i].kind == PROTO_CHANGE_UPDATED ? 0x80000000u : 0);
            for (int b = 0; b < 4; b++)
                slots[4 * i + (size_t)b] = (uint8_t)(slot >> (8 * b));
        }
        rec = (proto_journal_record_t){
            .type = PROTO_JOURNAL_TAIL, .from = from, .slots = slots, .n_slots = got
        };
        rc = got > 0 ? s_write (self, w, 0, &rec) : -1;
        from += got;
    }
    free (records);
    free (slots);
    return rc;
}

static bool
s_should_compact (persist_t *self)
{
    uint64_t size = journal_size (self->journal);
    uint64_t live = self->created_bytes;
    return size >= self->config.compact_min && size / self->config.compact_factor >= live;
}

/* ---- Lifecycle ----------------------------------------------------------- */

static void
s_update_refusal (persist_t *self)
{
    int err = journal_error (self->journal);
    if (err == 0 && !self->append_failed) {
        dispatch_refuse_writes (self->dispatch, NULL);
        return;
    }
    char message[256];
    if (err)
        snprintf (message, sizeof message,
                  "journal %s cannot be written (%s): writes are refused until it can",
                  journal_path (self->journal), strerror (err));
    else
        snprintf (message, sizeof message,
                  "out of memory recording a change in the journal: writes are refused until "
                  "the next compaction");
    dispatch_refuse_writes (self->dispatch, message);
}

persist_t *
persist_open (dispatch_t *dispatch, const persist_config_t *config)
{
    assert (dispatch);
    assert (config->compact_factor >= 2);
    persist_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dispatch = dispatch;
    self->table = dispatch_table (dispatch);
    self->feed = dispatch_feed (dispatch);
    self->config = *config;
    msgpack_sbuffer_init (&self->sbuf);
    char why[512];
    self->journal = journal_open (config->dir, config->fsync, why, sizeof why);
    if (!self->journal) {
        log_error ("%s", why);
        goto failed;
    }
    int64_t t0 = clock_mono_ms ();
    size_t max = (size_t)feed_max (self->feed);
    feed_set_max (self->feed, FEED_MAX_LIMIT); /* replay what was there */
    journal_scan_t scan;
    int rc = journal_load (self->journal, s_apply, self, &scan);
    feed_set_max (self->feed, max);
    if (rc == 0 && self->snap_open) {
        snprintf (scan.message, sizeof scan.message,
                  "%s: the snapshot's feed tail stops at %" PRIu64 " of %" PRIu64,
                  journal_path (self->journal), feed_head (self->feed), self->snap_head);
        rc = -1;
    }
    if (rc != 0) {
        log_error ("%s", scan.message);
        goto failed;
    }
    /* Accepted: a journal written before commit records gets one now. */
    if (journal_close_old (self->journal) != 0)
        log_warn ("%s: cannot close the records loaded with a commit record (%s); going on "
                  "without writing ahead",
                  journal_path (self->journal), strerror (errno));
    if (!self->have_header) {
        if (getrandom (self->store_id, 16, 0) != 16)
            uuid_generate_random (self->store_id);
        proto_journal_record_t rec = { .type = PROTO_JOURNAL_HEADER,
                                       .format = PROTO_JOURNAL_FORMAT };
        memcpy (rec.store_id, self->store_id, 16);
        if (s_append (self, 0, &rec) != 0 || journal_commit (self->journal) != 0) {
            log_error ("data dir %s cannot be written: %s", config->dir,
                       strerror (journal_error (self->journal)));
            goto failed;
        }
        self->have_header = true;
    }
    char id[PROTO_UUID_LEN + 1];
    proto_uuid_format (self->store_id, id);
    log_info ("journal %s: %" PRIu64 " records (%" PRIu64 " bytes) replayed in %lld ms: %zu "
              "events, feed cursor %" PRIu64 " head %" PRIu64 ", store id %s, fsync %s",
              journal_path (self->journal), scan.records, scan.bytes,
              (long long)(clock_mono_ms () - t0), event_table_size (self->table),
              feed_acked (self->feed), feed_head (self->feed), id,
              journal_fsync_name (config->fsync));
    /* Replies name the data (PROTOCOL.md §4.1): the same store_id after
       every restart that recovers it, so clients keep their positions. */
    dispatch_set_store_id (dispatch, self->store_id);
    dispatch_set_durable (dispatch, feed_head (self->feed));
    dispatch_set_journal_handler (dispatch, s_on_change, self);
    dispatch_set_stats_handler (dispatch, s_stats, self);
    return self;
failed:
    persist_destroy (&self);
    return NULL;
}

void
persist_destroy (persist_t **self_p)
{
    assert (self_p);
    persist_t *self = *self_p;
    if (!self)
        return;
    if (self->journal && self->have_header) {
        dispatch_set_journal_handler (self->dispatch, NULL, NULL);
        dispatch_set_stats_handler (self->dispatch, NULL, NULL);
        if (journal_commit (self->journal) != 0)
            log_error ("journal: the last %zu bytes could not be written: %s",
                       journal_pending (self->journal), strerror (journal_error (self->journal)));
    }
    journal_destroy (&self->journal);
    msgpack_sbuffer_destroy (&self->sbuf);
    free (self);
    *self_p = NULL;
}

const uint8_t *
persist_store_id (persist_t *self)
{
    assert (self);
    return self->store_id;
}

uint64_t
persist_appended (persist_t *self)
{
    assert (self);
    return self->appended;
}

int
persist_commit (persist_t *self)
{
    assert (self);
    int rc = journal_commit (self->journal);
    s_update_refusal (self);
    if (rc != 0)
        return -1;
    uint64_t head = feed_head (self->feed);
    if (self->append_failed) {
        dispatch_set_durable (self->dispatch, head < self->durable_cap ? head : self->durable_cap);
        return -1; /* a change is only in memory until a compaction records it */
    }
    dispatch_set_durable (self->dispatch, head);
    return 0;
}

int
persist_tick (persist_t *self)
{
    assert (self);
    int rc = persist_commit (self);
    if (journal_pending (self->journal) != 0)
        return -1; /* not written: retried at the next tick */
    if (journal_rewriting (self->journal)) {
        if (journal_rewrite_poll (self->journal) == 1 && self->append_failed
            && self->rewrite_covers) {
            self->append_failed = false;
            log_info ("journal %s: the compaction recorded what the journal missed; writes are "
                      "accepted again",
                      journal_path (self->journal));
            rc = persist_commit (self);
        }
    } else if (s_should_compact (self) || self->append_failed
               || journal_sync_lost (self->journal)) {
        /* The estimate restarts from what the snapshot will hold. */
        if (journal_rewrite_start (self->journal, s_snapshot, self) == 0) {
            uint64_t count = event_table_size (self->table);
            if (self->created_count)
                self->created_bytes = self->created_bytes / self->created_count * count;
            self->created_count = count;
            self->rewrite_covers = self->append_failed;
        }
    }
    return rc;
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
    int rc = journal_scan_bytes (name, buf, len, s_apply, &scratch, &out->scan);
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

prom_histogram_t *
persist_sync_histogram (persist_t *self)
{
    assert (self);
    return journal_sync_histogram (self->journal);
}
