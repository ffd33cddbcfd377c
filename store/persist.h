/*
 * persist — what makes herald-store durable: the bridge between the
 * dispatcher's state (event table, change feed) and the journal.
 *
 * At open it replays the journal into an empty dispatcher: events with
 * their timestamps and sequence numbers, the feed's unacknowledged tail and
 * its cursor, exactly as they were; a new data dir gets a header record
 * with a fresh random store identity. It then hooks the dispatcher so
 * every change and cursor move is appended as a record (proto_journal.h).
 *
 * The server drives it: persist_commit after each batch of requests (the
 * replies of that batch go out only when it returns 0), persist_tick on
 * every loop wake. While the journal cannot be written (disk full, I/O
 * error) the dispatcher refuses writes with a message naming the cause,
 * reads go on, and each tick tries the write again; writes resume by
 * themselves once it succeeds. The tick also runs compaction: when the
 * journal exceeds compact_factor times the live data (estimated from the
 * records' sizes) and compact_min bytes, a forked child rewrites it
 * (journal.h).
 */
#ifndef HERALD_PERSIST_H
#define HERALD_PERSIST_H

#include "dispatch.h"
#include "journal.h"

typedef struct _persist_t persist_t;

typedef struct {
    const char *dir;
    journal_fsync_t fsync;
    uint64_t compact_factor; /* >= 2 */
    uint64_t compact_min;    /* bytes */
} persist_config_t;

/* Opens config->dir, replays it into dispatch (empty, not yet serving) and
   hooks it. Returns NULL after logging why (unwritable dir, corruption
   with file and offset, ...). Borrows dispatch, which must outlive it. */
persist_t *persist_open (dispatch_t *dispatch, const persist_config_t *config);

/* The journal's fdatasync durations (journal_sync_histogram). Borrowed. */
prom_histogram_t *persist_sync_histogram (persist_t *self);

/* Commits what is pending, unhooks the dispatcher, closes the journal. */
void persist_destroy (persist_t **self_p);

/* The store identity recorded in the journal's header (16 bytes). */
const uint8_t *persist_store_id (persist_t *self);

/* Records appended since open, and changes that could not be (out of
   memory) and wait for a compaction to record them; a request that moved
   it must have its reply wait for a commit that returns 0. */
uint64_t persist_appended (persist_t *self);

/* Writes (and per policy syncs) the records appended since the last
   commit. Returns 0 when everything appended is written, -1 when the
   journal failed, or while a change that could not be appended waits for
   a compaction (persist_tick starts it) to record it (writes are then
   refused; replies of requests that appended records must wait for a
   later 0). */
int persist_commit (persist_t *self);

/* Periodic work: retries a failed commit, notices a failed everysec sync,
   finishes or starts a compaction. Returns like persist_commit. */
int persist_tick (persist_t *self);

/* What a journal's bytes replay to. */
typedef struct {
    journal_scan_t scan;
    bool have_header;
    uint8_t store_id[16];
    size_t events;
    uint64_t acked, head;
} persist_check_t;

/* Replays a journal held in memory into a scratch state, as start-up
   would, without touching any file (--journal-verify, the fuzz target).
   Returns 0 when the store would start from it, -1 with the reason in
   out->scan.message. */
int persist_check_bytes (const char *name, const uint8_t *buf, size_t len, persist_check_t *out);

/* --journal-verify: reads DIR/journal without changing it, prints what it
   holds (records, events, feed, store id, torn tail, corruption) to
   stdout. Returns 0 when the store would start from it, 1 when not. */
int persist_verify (const char *dir);

#endif
