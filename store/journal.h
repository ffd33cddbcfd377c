/*
 * journal — herald-store's append-only file (docs/ARCHITECTURE.md §3), the
 * way Redis's AOF and Kafka's log segments are: every change is appended
 * before its reply goes out, and start-up replays the file.
 *
 * A record is a 16-byte frame header and a payload:
 *   u32 crc32c  over everything after itself (length, seq, payload)
 *   u32 length  of the payload, at most JOURNAL_PAYLOAD_MAX
 *   u64 seq     the change's sequence number (0 for records without one)
 *   payload     MessagePack (proto_journal.h; this file does not look inside)
 * all little-endian. Each commit ends with a commit record (a frame whose
 * length has its top bit set, JOURNAL_COMMIT_FLAG): seq holds how many bytes
 * of records the commit wrote before it, the 4-byte payload their CRC32C,
 * so the load can tell a whole commit from part of one (journals written
 * before commit records existed have none; the load takes both).
 * The file lives in the data dir as `journal`, beside a
 * `LOCK` held with flock while a store runs, so two stores can never share
 * a dir.
 *
 * Group commit: journal_append only buffers; journal_commit writes the
 * whole buffer with one pwrite and, under fsync `always`, one fdatasync,
 * and the server sends the replies of those changes only after it returns
 * 0. Under `everysec` a background thread calls fdatasync once a second,
 * under `no` the kernel writes back when it likes; in every mode a process
 * crash (kill -9) loses nothing written, only a machine crash loses the
 * unsynced part, whose age the journal measures (journal_stats).
 *
 * A failed write or sync (disk full, I/O error) truncates the file back to
 * its last good size and keeps the buffer: the caller refuses new writes
 * and calls journal_commit again on its tick until it succeeds. Nothing
 * half-written stays in the file.
 *
 * Written ahead: under `always`, once the file holds a commit record, the
 * journal writes zeros up to JOURNAL_AHEAD past its end before a commit
 * needs the space, so a commit overwrites blocks the file already has and
 * its fdatasync writes data only, not the file's size and extents (about
 * a quarter of a sync's time on ext4). The price is that such a commit's
 * pages can reach the disk in any order, so a machine crash can leave a
 * hole in the middle of the last commit; the commit records are what lets
 * the load cut that commit off instead of calling it corruption.
 *
 * Load: damage (a record failing its CRC or length) is a torn tail when
 * nothing after it could have been acknowledged: after the file's first
 * commit record, when no whole commit follows it, and then everything
 * after the last whole commit is cut (records of an unfinished commit
 * included); before it (records written before commit records existed, a
 * snapshot, a store's very first commit), when no valid record follows
 * it. A file loaded without a commit record is closed with one once the
 * store accepts it (journal_close_old), and a snapshot ends with one, so
 * that only a store's first commit, which appends, is ever judged the old
 * way. A torn tail is cut off with a warning. Anything else is
 * corruption: loading stops, naming the file and offset, and nothing is
 * changed. Zeros after the last commit are space written ahead, cut
 * without a warning.
 *
 * Compaction (journal_rewrite_*, journal_rewrite.c): a forked child writes
 * a snapshot of the live state to `journal.rewrite` while the store goes
 * on appending to `journal`; a thread then copies what was appended since
 * the fork onto the new file until little is left, and the loop copies
 * that last bit, syncs, renames the new file over `journal` and syncs the
 * directory (Redis's BGREWRITEAOF). A crash at any step leaves either the
 * old journal or the complete new one; a left-over `journal.rewrite` is
 * removed at the next open.
 */
#ifndef HERALD_JOURNAL_H
#define HERALD_JOURNAL_H

#include "prom.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_FRAME_HEADER 16
#define JOURNAL_PAYLOAD_MAX (1024 * 1024)
#define JOURNAL_COMMIT_FLAG 0x80000000u /* in the length field: a commit record */
#define JOURNAL_COMMIT_SIZE (JOURNAL_FRAME_HEADER + 4)
#define JOURNAL_AHEAD (1024 * 1024) /* zeros written past the end under `always` */

typedef struct _journal_t journal_t;

typedef enum {
    JOURNAL_FSYNC_ALWAYS = 0, /* fdatasync before any reply: a 201 is on disk */
    JOURNAL_FSYNC_EVERYSEC,   /* fdatasync once a second from a thread */
    JOURNAL_FSYNC_NO,         /* never: the kernel's writeback decides */
} journal_fsync_t;

/* "always" | "everysec" | "no". Returns 0, or -1 for anything else. */
int journal_fsync_parse (const char *text, journal_fsync_t *out);
const char *journal_fsync_name (journal_fsync_t policy);

/* ---- Frames (pure functions over bytes; fuzzed) -------------------------- */

typedef enum {
    JOURNAL_FRAME_OK = 0,
    JOURNAL_FRAME_SHORT, /* fewer bytes than the header or its length says */
    JOURNAL_FRAME_BAD,   /* length over the maximum, or the CRC does not match */
} journal_frame_status_t;

typedef struct {
    uint64_t seq;           /* a commit record's: the bytes it covers */
    const uint8_t *payload; /* borrowed from the buffer parsed */
    size_t len;
    size_t size;         /* JOURNAL_FRAME_HEADER + len */
    bool commit;         /* a commit record (its length carried JOURNAL_COMMIT_FLAG) */
    uint32_t commit_crc; /* a commit record's: CRC32C of the seq bytes before it */
} journal_frame_t;

/* Parses the record at the start of buf (untrusted bytes). A commit
   record whose payload is not 4 bytes is BAD. */
journal_frame_status_t journal_frame_parse (const void *buf, size_t len, journal_frame_t *frame);

/* Writes the 16-byte header for a payload (len <= JOURNAL_PAYLOAD_MAX). */
void journal_frame_header (uint8_t out[JOURNAL_FRAME_HEADER], uint64_t seq, const void *payload,
                           size_t len);

/* Writes the commit record that closes the len bytes of records at
   records (len > 0). */
void journal_commit_record (uint8_t out[JOURNAL_COMMIT_SIZE], const void *records, size_t len);

/* The same for len bytes whose CRC32C is crc. */
void journal_commit_record_crc (uint8_t out[JOURNAL_COMMIT_SIZE], uint64_t len, uint32_t crc);

/* What loading a journal found. */
typedef struct {
    uint64_t records;     /* records replayed (commit records not counted) */
    uint64_t commits;     /* commit records */
    uint64_t bytes;       /* valid bytes kept */
    bool torn;            /* a torn tail was found (and cut, unless verifying) */
    uint64_t torn_offset; /* where it starts: bytes */
    uint64_t torn_bytes;  /* from there to the end */
    uint64_t ahead_bytes; /* zeros from bytes to the end (no torn tail): space written ahead */
    bool corrupt;         /* stop: see message */
    uint64_t corrupt_offset;
    char message[512];
} journal_scan_t;

/* Called for each valid record in file order. Returns 0 to go on, or -1
   with a reason in why (then loading stops as corruption at this record). */
typedef int (journal_record_fn) (void *arg, uint64_t seq, const uint8_t *payload, size_t len,
                                 char *why, size_t why_size);

/* The load's walk over a journal's bytes held in memory (path names it in
   messages): records to fn (NULL: none), torn tail and corruption
   reported in scan (zeroed first). Returns 0 or -1 (corrupt). */
int journal_scan_bytes (const char *path, const uint8_t *base, size_t len, journal_record_fn *fn,
                        void *arg, journal_scan_t *scan);

/* Maps the open journal fd (named path in messages) read-only: *base NULL
   and *len 0 for an empty file. Returns 0, or -1 with the reason in
   scan->message. The caller munmaps. */
int journal_map (int fd, const char *path, const uint8_t **base, size_t *len, journal_scan_t *scan);

/* Reads path (a journal file) without changing it: every record to fn,
   torn tail and corruption reported in scan. Returns 0 when the file
   would load (a torn tail included), -1 when it is corrupt or cannot be
   read (scan->message says which). */
int journal_verify (const char *path, journal_record_fn *fn, void *arg, journal_scan_t *scan);

/* ---- The journal --------------------------------------------------------- */

/* Opens (creating if needed) the data dir and its journal, takes its lock,
   removes a left-over journal.rewrite. Returns NULL with the reason in
   why (dir not creatable or writable, held by another store, ...). */
journal_t *journal_open (const char *dir, journal_fsync_t policy, char *why, size_t why_size);

/* Stops the sync thread (after a last sync), waits for a rewrite child,
   closes the files. Does NOT commit: call journal_commit first. */
void journal_destroy (journal_t **self_p);

/* Replays the journal into fn, cutting a torn tail (logged as a warning
   with its offset). Call once, right after open. Returns 0, or -1 on
   corruption or a read error (scan->message: file, offset, what to do). */
int journal_load (journal_t *self, journal_record_fn *fn, void *arg, journal_scan_t *scan);

/* After a load that found records but no commit record (a journal written
   before them), appends and syncs a commit record covering all of them:
   call it once the caller has accepted what was loaded, so a journal it
   refuses is left unchanged. Does nothing otherwise. Returns 0, or -1 with
   errno when the write fails (the file is cut back; the journal goes on
   and writes nothing ahead until a commit of its own is synced). */
int journal_close_old (journal_t *self);

/* Buffers one record. Returns 0, or -1 when out of memory or len is over
   JOURNAL_PAYLOAD_MAX. */
int journal_append (journal_t *self, uint64_t seq, const void *payload, size_t len);

/* Bytes buffered and not yet written. */
size_t journal_pending (journal_t *self);

/* Writes the buffer (one pwrite) and, under `always`, syncs it. Returns 0
   (also when nothing was pending), or -1 on a write or sync error: the
   file is cut back, the buffer kept, and journal_error says why. */
int journal_commit (journal_t *self);

/* errno of the last failure of a write or a sync (also the everysec
   thread's), 0 once a commit or sync succeeded again; EIO while
   journal_sync_lost. */
int journal_error (journal_t *self);

/* True after the everysec thread's fdatasync failed, until a rewrite
   begun after that failure has finished: what was written before it may
   not be on disk even once a later fdatasync succeeds (the kernel can drop
   the pages it could not write), and only the snapshot of the state in
   memory puts it there again. The caller starts that rewrite
   (journal_rewrite_start) and refuses writes meanwhile (journal_error). */
bool journal_sync_lost (journal_t *self);

/* The file's committed size in bytes. */
uint64_t journal_size (journal_t *self);

const char *journal_path (journal_t *self);

typedef struct {
    uint64_t commits;       /* journal_commit calls that wrote something */
    uint64_t records;       /* records written */
    uint64_t syncs;         /* fdatasync calls that succeeded */
    uint64_t sync_us_total; /* their total duration */
    uint64_t sync_us_max;
    uint64_t write_errors;    /* failed writes or syncs */
    uint64_t rewrites;        /* compactions completed */
    uint64_t unsynced_max_ms; /* longest time written data waited for its sync */
    uint64_t synced_bytes;    /* file size known to be on disk (0 under fsync no) */
} journal_stats_t;

/* Counters, copied into out. */
void journal_stats (journal_t *self, journal_stats_t *out);

/* Every fdatasync's duration (the everysec thread's too). Borrowed. */
prom_histogram_t *journal_sync_histogram (journal_t *self);

/* ---- Compaction ---------------------------------------------------------- */

typedef struct _journal_writer_t journal_writer_t;

/* Writes one record to a snapshot being made (in the child). Returns 0 or
   -1 (the snapshot is then abandoned). */
int journal_writer_append (journal_writer_t *w, uint64_t seq, const void *payload, size_t len);

/* Writes the snapshot through journal_writer_append; runs in a forked
   child, so it must only read memory. Returns 0 or -1. */
typedef int (journal_snapshot_fn) (void *arg, journal_writer_t *w);

#define JOURNAL_REWRITE_RETRY_MS 1000
#define JOURNAL_REWRITE_RETRY_MAX_MS 60000

/* Starts a rewrite: commits pending records, forks a child running fn.
   Returns 0, or -1 when one is already running, a commit fails or fork
   fails (logged; the journal goes on unchanged), or while a failed rewrite
   waits before the next (JOURNAL_REWRITE_RETRY_MS, doubling up to
   JOURNAL_REWRITE_RETRY_MAX_MS), so a disk that cannot take the snapshot
   does not get a fork at every call. */
int journal_rewrite_start (journal_t *self, journal_snapshot_fn *fn, void *arg);

/* True while a child is writing. */
bool journal_rewriting (journal_t *self);

/* Checks the child without blocking; when it finished, switches to the new
   file (a short copy of what was appended since the fork, a sync, a
   rename and a directory sync). Call with nothing pending (right after a
   successful journal_commit). Returns 1 when the switch happened, 0 when
   the child runs or none is running, -1 when the rewrite failed (logged;
   the old journal stays in use). */
int journal_rewrite_poll (journal_t *self);

#endif
