/*
 * journal_internal — the journal's state, shared by journal.c (the file's
 * life: open, load, append, commit, the everysec thread) and
 * journal_rewrite.c (compaction). Nothing else includes it.
 *
 * Threads: the loop thread owns everything but what the mutex guards
 * (size, fd, unsynced_since, stopping) and the atomics. The everysec
 * thread reads size and fd under the mutex; the catch-up thread reads size
 * under it and reads the old file below that size, which nobody rewrites.
 */
#ifndef HERALD_JOURNAL_INTERNAL_H
#define HERALD_JOURNAL_INTERNAL_H

#include "journal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

struct _journal_t {
    char *dir;
    char *path;         /* dir/journal */
    char *rewrite_path; /* dir/journal.rewrite */
    int dir_fd;
    bool dir_unsynced; /* a compaction's rename awaits its directory's fsync (journal_commit) */
    int lock_fd;
    int fd;
    journal_fsync_t policy;
    uint64_t size;        /* committed bytes */
    uint64_t allocated;   /* the file's size: size, then zeros written ahead */
    bool has_commit;      /* the file holds a synced commit record: may write ahead */
    uint64_t ahead_retry; /* after a failed write ahead: not again below this size */
    bool close_old;       /* loaded without a commit record: journal_close_old adds one */
    uint32_t old_crc;     /* CRC32C of what was loaded, for that record */
    uint8_t *buf;         /* records not yet written */
    size_t buf_len, buf_cap;
    uint64_t buf_records;
    int error;
    journal_stats_t stats;
    const char *crash_at;
    pid_t owner; /* the store's pid, for the snapshot child */
    /* rewrite (journal_rewrite.c) */
    pid_t child;        /* the snapshot child, 0 none */
    int64_t retry_at;   /* mono ms: after a failed rewrite, none starts before this */
    int64_t retry_ms;   /* the wait after the next failure (doubles, reset by a success) */
    uint64_t fork_size; /* journal size at the fork: the child's snapshot covers it */
    int64_t fork_at;
    bool catchup_started; /* the catch-up thread runs (or ended, not yet joined) */
    pthread_t catchup;
    int new_fd;               /* journal.rewrite while catching up */
    uint64_t snapshot_size;   /* its size as the child left it */
    uint64_t copied;          /* bytes past fork_size copied onto it */
    atomic_int catchup_state; /* 0 copying, 1 nearly caught up, -1 failed */
    int catchup_errno;
    /* everysec thread */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool stopping;          /* under mutex */
    int64_t unsynced_since; /* mono ms of the oldest unsynced write, 0 none; under mutex */
    atomic_int sync_error;
    /* fdatasync failures of the everysec thread, and how many of them a
       finished rewrite has made good (the failures before its fork: the
       snapshot holds everything written until then). After a failed
       fdatasync Linux may drop the dirty pages and report the next one as
       a success, leaving a hole in the file; only a rewrite from memory
       repairs it (journal_sync_lost). */
    atomic_uint_fast64_t sync_failures, sync_repaired;
    uint64_t fork_failures; /* sync_failures at the rewrite's fork */
    atomic_uint_fast64_t unsynced_max_ms;
    atomic_uint_fast64_t synced_size; /* bytes known to be on disk */
    atomic_uint_fast64_t syncs;
    atomic_uint_fast64_t sync_us_total;
    atomic_uint_fast64_t sync_us_max;
    prom_histogram_t sync_latency; /* each fdatasync, for /metrics */
};

struct _journal_writer_t {
    int fd;
    uint8_t *buf;
    size_t len, cap;
    uint64_t written; /* bytes flushed, all covered by crc */
    uint32_t crc;     /* CRC32C of the bytes flushed */
};

/* fsync of the directory open as fd, so that names created or renamed in
   it survive a crash (fdatasync of a file does not make its directory entry
   durable). Returns 0, or -1 with errno set. A file system that cannot
   sync a directory at all (EINVAL, ENOTSUP: some network and FUSE ones)
   counts as 0: there is nothing more to wait for on it. */
int journal_sync_dir (int fd);

/* Writes all of buf at offset; 0 or -1 with errno. */
int journal_pwrite_all (int fd, const uint8_t *buf, size_t len, uint64_t offset);

/* HERALD_STORE_CRASH_AT (tests only): SIGKILLs the process at step. */
void journal_crash_point (journal_t *self, const char *step);

/* Stops a rewrite in progress (kills the child, joins the catch-up
   thread) and removes journal.rewrite. For journal_destroy. */
void journal_rewrite_abort (journal_t *self);

#endif
