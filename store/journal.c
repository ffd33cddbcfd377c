/*
 * journal — see journal.h.
 *
 * Loading maps the file read-only and walks it frame by frame, so a
 * million records replay in the time their payloads take to decode. The
 * write path is one growing buffer per loop iteration, closed by its
 * commit record, and pwrite at the committed size (never O_APPEND), so a
 * failed write is undone with ftruncate to that size and retried whole.
 *
 * Zeros are written ahead (journal.h) only once the file holds a synced
 * commit record, so a commit torn in them always follows a whole one:
 * journal_close_old closes a journal written before commit records with
 * one (and syncs it), a snapshot ends with one, and a new journal's
 * first commit appends. The zeros are not synced on their own: the next
 * commit's fdatasync carries them, once per JOURNAL_AHEAD.
 *
 * The everysec thread syncs a dup of the descriptor taken under the mutex,
 * so no lock is held across the fdatasync and a rewrite can swap the file
 * under it (a sync of the replaced file is harmless).
 *
 * HERALD_STORE_CRASH_AT (tests only, never set in production) names a step
 * of the rewrite at which the store SIGKILLs itself, so the tests can crash
 * it at each: rewrite-forked, rewrite-copied, rewrite-renamed, rewrite-done.
 */
#define _GNU_SOURCE
#include "journal_internal.h"

#include "clock.h"
#include "crc32c.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_SYNC_EVERY_MS 1000

/* ---- Opening ------------------------------------------------------------- */

static char *
s_join (const char *dir, const char *name)
{
    size_t n = strlen (dir) + strlen (name) + 2;
    char *path = malloc (n);
    if (path)
        snprintf (path, n, "%s/%s", dir, name);
    return path;
}

static void *s_sync_thread (void *arg);

int
journal_sync_dir (int fd)
{
    if (fsync (fd) == 0 || errno == EINVAL || errno == ENOTSUP)
        return 0;
    return -1;
}

/* journal_sync_dir of the directory holding path. */
static int
s_sync_parent (const char *path)
{
    char *copy = strdup (path);
    if (!copy)
        return -1;
    size_t len = strlen (copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0'; /* "dir/" is dir: its parent is the one to sync */
    char *slash = strrchr (copy, '/');
    const char *parent = !slash ? "." : slash == copy ? "/" : copy;
    if (slash && slash != copy)
        *slash = '\0';
    int fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 || journal_sync_dir (fd) != 0 ? -1 : 0;
    int err = errno;
    if (fd >= 0)
        close (fd);
    free (copy);
    errno = err;
    return rc;
}

journal_t *
journal_open (const char *dir, journal_fsync_t policy, char *why, size_t why_size)
{
    journal_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (why, why_size, "out of memory");
        return NULL;
    }
    self->dir_fd = self->lock_fd = self->fd = -1;
    self->policy = policy;
    self->crash_at = getenv ("HERALD_STORE_CRASH_AT");
    self->owner = getpid ();
    self->new_fd = -1;
    pthread_mutex_init (&self->mutex, NULL);
    pthread_cond_init (&self->cond, NULL);
    self->dir = strdup (dir);
    self->path = s_join (dir, "journal");
    self->rewrite_path = s_join (dir, "journal.rewrite");
    char *lock_path = s_join (dir, "LOCK");
    if (!self->dir || !self->path || !self->rewrite_path || !lock_path) {
        snprintf (why, why_size, "out of memory");
        goto failed;
    }
    if (mkdir (dir, 0750) == 0) {
        if (s_sync_parent (dir) != 0) {
            snprintf (why, why_size, "cannot sync the directory holding the new data dir %s: %s",
                      dir, strerror (errno));
            goto failed;
        }
    } else if (errno != EEXIST) {
        snprintf (why, why_size, "cannot create data dir %s: %s", dir, strerror (errno));
        goto failed;
    } else if (s_sync_parent (dir) != 0) {
        /* Made by an earlier start that may have failed before this sync;
           a parent we may not open is not worth refusing to start over. */
        log_warn ("data dir %s: cannot sync the directory holding it: %s", dir, strerror (errno));
    }
    self->dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (self->dir_fd < 0) {
        snprintf (why, why_size, "cannot open data dir %s: %s", dir, strerror (errno));
        goto failed;
    }
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (self->lock_fd < 0) {
        snprintf (why, why_size, "data dir %s cannot be written: %s", dir, strerror (errno));
        goto failed;
    }
    if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf (why, why_size, "data dir %s is in use by another herald-store (%s is locked)",
                  dir, lock_path);
        goto failed;
    }
    if (unlink (self->rewrite_path) == 0)
        log_warn ("removed %s, left by a compaction that did not finish", self->rewrite_path);
    self->fd = open (self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (self->fd < 0) {
        snprintf (why, why_size, "cannot open %s for writing: %s", self->path, strerror (errno));
        goto failed;
    }
    /* The journal's name (maybe just created) is durable before any reply
       relies on what is written to it. */
    if (journal_sync_dir (self->dir_fd) != 0) {
        snprintf (why, why_size, "cannot sync data dir %s: %s", dir, strerror (errno));
        goto failed;
    }
    free (lock_path);
    return self;
failed:
    free (lock_path);
    journal_destroy (&self);
    return NULL;
}

void
journal_destroy (journal_t **self_p)
{
    assert (self_p);
    journal_t *self = *self_p;
    if (!self)
        return;
    if (self->thread_started) {
        pthread_mutex_lock (&self->mutex);
        self->stopping = true;
        pthread_cond_signal (&self->cond);
        pthread_mutex_unlock (&self->mutex);
        pthread_join (self->thread, NULL);
    }
    journal_rewrite_abort (self);
    /* A stopped journal's file is its records: the zeros ahead go. */
    if (self->fd >= 0 && self->allocated > self->size
        && ftruncate (self->fd, (off_t)self->size) != 0)
        log_debug ("journal %s: cutting the space written ahead: %s", self->path, strerror (errno));
    if (self->fd >= 0 && self->policy != JOURNAL_FSYNC_NO)
        fdatasync (self->fd);
    if (self->fd >= 0)
        close (self->fd);
    if (self->lock_fd >= 0)
        close (self->lock_fd);
    if (self->dir_fd >= 0)
        close (self->dir_fd);
    pthread_mutex_destroy (&self->mutex);
    pthread_cond_destroy (&self->cond);
    free (self->buf);
    free (self->dir);
    free (self->path);
    free (self->rewrite_path);
    free (self);
    *self_p = NULL;
}

int
journal_load (journal_t *self, journal_record_fn *fn, void *arg, journal_scan_t *scan)
{
    assert (self);
    memset (scan, 0, sizeof *scan);
    const uint8_t *base;
    size_t len;
    if (journal_map (self->fd, self->path, &base, &len, scan) != 0)
        return -1;
    int rc = journal_scan_bytes (self->path, base, len, fn, arg, scan);
    /* A journal written before commit records gets one covering all of it
       (journal_close_old), so every file holds a synced commit record
       before its next commit: that commit, torn, is then cut whole, never
       half replayed. */
    self->close_old = rc == 0 && scan->commits == 0 && scan->bytes > 0;
    self->old_crc = self->close_old ? crc32c (0, base, (size_t)scan->bytes) : 0;
    if (base)
        munmap ((void *)base, len);
    if (rc != 0)
        return -1;
    if (scan->torn)
        log_warn ("%s: torn record at offset %llu (%llu bytes, a crash mid-write) discarded",
                  self->path, (unsigned long long)scan->torn_offset,
                  (unsigned long long)scan->torn_bytes);
    if (len > scan->bytes
        && (ftruncate (self->fd, (off_t)scan->bytes) != 0 || fdatasync (self->fd) != 0)) {
        snprintf (scan->message, sizeof scan->message, "%s: cannot cut the %s at offset %llu: %s",
                  self->path, scan->torn ? "torn tail" : "space written ahead",
                  (unsigned long long)scan->bytes, strerror (errno));
        return -1;
    }
    self->size = self->allocated = scan->bytes;
    /* Zeros are written ahead only once a commit record is known to be on
       disk: a later commit torn in them must find it there. */
    bool synced = self->policy != JOURNAL_FSYNC_NO && fdatasync (self->fd) == 0;
    if (synced)
        atomic_store (&self->synced_size, self->size);
    self->has_commit = scan->commits > 0 && synced;
    if (self->policy == JOURNAL_FSYNC_EVERYSEC) {
        if (pthread_create (&self->thread, NULL, s_sync_thread, self) != 0) {
            snprintf (scan->message, sizeof scan->message, "cannot start the sync thread");
            return -1;
        }
        self->thread_started = true;
    }
    return 0;
}

/* Cuts the file back to its committed size after a failed write (no
   half-written record, no zeros ahead left). When even that fails it is
   logged, and the next load cuts what is past the last whole commit. */
static void
s_cut_back (journal_t *self)
{
    if (ftruncate (self->fd, (off_t)self->size) == 0)
        self->allocated = self->size;
    else
        log_debug ("journal %s: cutting back after a failed write: %s", self->path,
                   strerror (errno));
}

int
journal_close_old (journal_t *self)
{
    assert (self);
    if (!self->close_old)
        return 0;
    self->close_old = false;
    uint8_t commit[JOURNAL_COMMIT_SIZE];
    journal_commit_record_crc (commit, self->size, self->old_crc);
    if (journal_pwrite_all (self->fd, commit, sizeof commit, self->size) != 0) {
        int err = errno;
        s_cut_back (self);
        errno = err;
        return -1;
    }
    pthread_mutex_lock (&self->mutex);
    self->size += JOURNAL_COMMIT_SIZE;
    pthread_mutex_unlock (&self->mutex);
    self->allocated = self->size;
    if (self->policy != JOURNAL_FSYNC_NO && fdatasync (self->fd) == 0) {
        atomic_store (&self->synced_size, self->size);
        self->has_commit = true;
    }
    return 0;
}

/* ---- Appending and committing -------------------------------------------- */

int
journal_append (journal_t *self, uint64_t seq, const void *payload, size_t len)
{
    assert (self);
    if (len > JOURNAL_PAYLOAD_MAX)
        return -1;
    size_t need = self->buf_len + JOURNAL_FRAME_HEADER + len;
    if (need + JOURNAL_COMMIT_SIZE > self->buf_cap) { /* room for the commit record too */
        size_t cap = self->buf_cap ? self->buf_cap : 64 * 1024;
        while (cap < need + JOURNAL_COMMIT_SIZE)
            cap *= 2;
        uint8_t *buf = realloc (self->buf, cap);
        if (!buf)
            return -1;
        self->buf = buf;
        self->buf_cap = cap;
    }
    journal_frame_header (self->buf + self->buf_len, seq, payload, len);
    memcpy (self->buf + self->buf_len + JOURNAL_FRAME_HEADER, payload, len);
    self->buf_len = need;
    self->buf_records++;
    return 0;
}

size_t
journal_pending (journal_t *self)
{
    assert (self);
    return self->buf_len;
}

void
journal_crash_point (journal_t *self, const char *step)
{
    if (self->crash_at && strcmp (self->crash_at, step) == 0) {
        log_warn ("HERALD_STORE_CRASH_AT=%s: killing myself (tests only)", step);
        raise (SIGKILL);
    }
}

int
journal_pwrite_all (int fd, const uint8_t *buf, size_t len, uint64_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite (fd, buf, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

static void
s_note_sync (journal_t *self, int64_t started_us)
{
    uint64_t us = (uint64_t)(clock_mono_us () - started_us);
    atomic_fetch_add (&self->syncs, 1);
    atomic_fetch_add (&self->sync_us_total, us);
    if (us > atomic_load (&self->sync_us_max))
        atomic_store (&self->sync_us_max, us);
    prom_observe_us (&self->sync_latency, (int64_t)us);
}

prom_histogram_t *
journal_sync_histogram (journal_t *self)
{
    assert (self);
    return &self->sync_latency;
}

/* The written-but-unsynced data got synced: its age joins the window. */
static void
s_note_synced (journal_t *self, int64_t since_ms)
{
    if (since_ms == 0)
        return;
    uint64_t age = (uint64_t)(clock_mono_ms () - since_ms);
    if (age > atomic_load (&self->unsynced_max_ms))
        atomic_store (&self->unsynced_max_ms, age);
}

/* Under `always`, makes sure the next commit (len bytes) lands in space
   the file already has, writing zeros up to JOURNAL_AHEAD past it when it
   does not. A failure leaves the file at its committed size: the commit
   then appends as without. */
static void
s_write_ahead (journal_t *self, size_t len)
{
    static uint8_t zeros[64 * 1024];
    if (self->policy != JOURNAL_FSYNC_ALWAYS || !self->has_commit
        || self->allocated >= self->size + len || self->size < self->ahead_retry)
        return;
    uint64_t target = (self->size + len + JOURNAL_AHEAD) / JOURNAL_AHEAD * JOURNAL_AHEAD;
    uint64_t at = self->allocated;
    while (at < target) {
        size_t n = target - at < sizeof zeros ? (size_t)(target - at) : sizeof zeros;
        if (journal_pwrite_all (self->fd, zeros, n, at) != 0) {
            /* A nearly full disk: commits append until the journal has
               grown by JOURNAL_AHEAD, rather than each writing zeros into
               the last free blocks only to cut them again. */
            log_debug ("journal %s: writing ahead: %s", self->path, strerror (errno));
            s_cut_back (self);
            self->ahead_retry = self->size + JOURNAL_AHEAD;
            return;
        }
        at += n;
        self->allocated = at;
    }
}

int
journal_commit (journal_t *self)
{
    assert (self);
    if (self->dir_unsynced && self->policy != JOURNAL_FSYNC_NO) {
        if (journal_sync_dir (self->dir_fd) != 0) {
            int err = errno;
            if (self->error == 0)
                log_error ("journal %s: cannot sync its directory after a compaction: %s; writes "
                           "are refused until it can",
                           self->path, strerror (err));
            self->error = err;
            self->stats.write_errors++;
            return -1;
        }
        self->dir_unsynced = false;
    }
    if (self->buf_len == 0) {
        if (self->error != 0) /* only the directory's sync failed: nothing waited */
            log_info ("journal %s: writable again", self->path);
        self->error = 0;
        return 0;
    }
    size_t records = self->buf_len;
    journal_commit_record (self->buf + records, self->buf, records); /* room kept by append */
    self->buf_len += JOURNAL_COMMIT_SIZE;
    s_write_ahead (self, self->buf_len);
    int err = 0;
    if (journal_pwrite_all (self->fd, self->buf, self->buf_len, self->size) != 0)
        err = errno;
    else if (self->policy == JOURNAL_FSYNC_ALWAYS) {
        int64_t t0 = clock_mono_us ();
        if (fdatasync (self->fd) != 0)
            err = errno;
        else
            s_note_sync (self, t0);
    }
    if (err) {
        /* Nothing half-written may stay: a later good record after it would
           make this one look like corruption. */
        s_cut_back (self);
        if (self->error == 0)
            log_error ("journal %s: cannot write %zu bytes: %s; writes are refused until it can",
                       self->path, self->buf_len, strerror (err));
        self->error = err;
        self->stats.write_errors++;
        self->buf_len = records; /* the commit record is made again by the retry */
        return -1;
    }
    if (self->error != 0)
        log_info ("journal %s: writable again (%zu bytes written that waited)", self->path,
                  self->buf_len);
    self->error = 0;
    pthread_mutex_lock (&self->mutex);
    self->size += self->buf_len;
    pthread_mutex_unlock (&self->mutex);
    if (self->allocated < self->size)
        self->allocated = self->size;
    self->has_commit = true;
    if (self->policy == JOURNAL_FSYNC_ALWAYS)
        atomic_store (&self->synced_size, self->size);
    self->stats.commits++;
    self->stats.records += self->buf_records;
    self->buf_len = 0;
    self->buf_records = 0;
    if (self->policy == JOURNAL_FSYNC_EVERYSEC) {
        pthread_mutex_lock (&self->mutex);
        if (self->unsynced_since == 0)
            self->unsynced_since = clock_mono_ms ();
        pthread_mutex_unlock (&self->mutex);
    }
    return 0;
}

int
journal_error (journal_t *self)
{
    assert (self);
    if (self->error)
        return self->error;
    int err = atomic_load (&self->sync_error);
    return err ? err : journal_sync_lost (self) ? EIO : 0;
}

bool
journal_sync_lost (journal_t *self)
{
    assert (self);
    return atomic_load (&self->sync_failures) != atomic_load (&self->sync_repaired);
}

uint64_t
journal_size (journal_t *self)
{
    assert (self);
    return self->size;
}

const char *
journal_path (journal_t *self)
{
    assert (self);
    return self->path;
}

void
journal_stats (journal_t *self, journal_stats_t *out)
{
    assert (self);
    *out = self->stats;
    out->syncs = atomic_load (&self->syncs);
    out->sync_us_total = atomic_load (&self->sync_us_total);
    out->sync_us_max = atomic_load (&self->sync_us_max);
    out->unsynced_max_ms = atomic_load (&self->unsynced_max_ms);
    out->synced_bytes = atomic_load (&self->synced_size);
}

/* The everysec thread: once a second, sync what was written since the last
   sync. A failed sync is reported through journal_error until one works. */
static void *
s_sync_thread (void *arg)
{
    journal_t *self = arg;
    pthread_mutex_lock (&self->mutex);
    while (!self->stopping) {
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_sec += S_SYNC_EVERY_MS / 1000;
        pthread_cond_timedwait (&self->cond, &self->mutex, &until);
        if (self->stopping || self->unsynced_since == 0)
            continue;
        int64_t since = self->unsynced_since;
        self->unsynced_since = 0;
        uint64_t size = self->size;
        int fd = dup (self->fd);
        pthread_mutex_unlock (&self->mutex);
        int64_t t0 = clock_mono_us ();
        int rc = fd >= 0 ? fdatasync (fd) : -1;
        int err = rc == 0 ? 0 : errno;
        if (fd >= 0)
            close (fd);
        if (rc == 0) {
            s_note_sync (self, t0);
            s_note_synced (self, since);
            atomic_store (&self->synced_size, size);
            atomic_store (&self->sync_error, 0);
        } else {
            log_error ("journal %s: fdatasync failed: %s; writes are refused until a compaction "
                       "has written the state again from memory",
                       self->path, strerror (err));
            atomic_store (&self->sync_error, err);
            atomic_fetch_add (&self->sync_failures, 1);
        }
        pthread_mutex_lock (&self->mutex);
        if (rc != 0 && self->unsynced_since == 0)
            self->unsynced_since = since; /* try again next second */
    }
    pthread_mutex_unlock (&self->mutex);
    return NULL;
}
