/*
 * persist_internal — persist_t's state, shared by persist.c (recording
 * changes, commits, compaction, the lifecycle) and persist_replay.c
 * (reading a journal back: at start-up, and for --journal-verify). Nothing
 * else includes it.
 */
#ifndef HERALD_PERSIST_INTERNAL_H
#define HERALD_PERSIST_INTERNAL_H

#include "persist.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

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

/* journal_record_fn: applies one record read back from a journal to the
   state of arg (a persist_t: its dispatcher's table and feed, its header
   fields). Returns 0, or -1 with the reason in why when the record breaks
   the journal's rules (persist_replay.c). */
int persist_apply (void *arg, uint64_t seq, const uint8_t *payload, size_t len, char *why,
                   size_t size);

#endif
