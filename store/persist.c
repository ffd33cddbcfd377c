/*
 * persist — see persist.h. This file records changes, commits, compacts
 * and opens; reading a journal back (replay, --journal-verify) is
 * persist_replay.c.
 */
#include "persist_internal.h"

#include "clock.h"
#include "log.h"
#include "proto_journal.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

static void s_update_refusal (persist_t *self);

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
    int rc = journal_load (self->journal, persist_apply, self, &scan);
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

prom_histogram_t *
persist_sync_histogram (persist_t *self)
{
    assert (self);
    return journal_sync_histogram (self->journal);
}
