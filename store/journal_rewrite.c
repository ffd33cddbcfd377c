/*
 * journal_rewrite — compaction of the journal (journal.h), Redis's
 * BGREWRITEAOF in four steps:
 *   1. fork: the child writes a snapshot of the live state to
 *      journal.rewrite and syncs it; the store goes on serving and
 *      appending to journal;
 *   2. catch-up: once the child is done, a thread copies what was appended
 *      since the fork onto the new file and syncs it, again and again,
 *      until what is left is small (S_CATCHUP_DONE); the loop goes on;
 *   3. switch, in the loop thread: the last few records copied, one sync,
 *      rename over journal, a sync of the directory, the new descriptor in
 *      place. Only this step holds the loop, for a small copy and two syncs;
 *   4. done.
 * A crash before the rename leaves the old journal (journal.rewrite is
 * removed at the next open); after it, the new complete one.
 */
#include "journal_internal.h"

#include "clock.h"
#include "crc32c.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_WRITER_FLUSH (1024 * 1024)
#define S_COPY_CHUNK (1024 * 1024)
#define S_CATCHUP_DONE (256 * 1024) /* left for the switch to copy in the loop */

static int
s_writer_flush (journal_writer_t *w)
{
    if (w->len == 0)
        return 0;
    size_t off = 0;
    while (off < w->len) {
        ssize_t n = write (w->fd, w->buf + off, w->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    w->crc = crc32c (w->crc, w->buf, w->len);
    w->written += w->len;
    w->len = 0;
    return 0;
}

/* Closes the snapshot with a commit record covering all of it, so the new
   file holds a synced commit record before anything is appended to it. */
static int
s_writer_close (journal_writer_t *w)
{
    if (s_writer_flush (w) != 0 || w->written == 0)
        return -1;
    uint8_t commit[JOURNAL_COMMIT_SIZE];
    journal_commit_record_crc (commit, w->written, w->crc);
    return journal_pwrite_all (w->fd, commit, sizeof commit, w->written);
}

int
journal_writer_append (journal_writer_t *w, uint64_t seq, const void *payload, size_t len)
{
    if (len > JOURNAL_PAYLOAD_MAX)
        return -1;
    size_t need = JOURNAL_FRAME_HEADER + len;
    if (w->len + need > w->cap && s_writer_flush (w) != 0)
        return -1;
    if (need > w->cap) {
        uint8_t *buf = realloc (w->buf, need);
        if (!buf)
            return -1;
        w->buf = buf;
        w->cap = need;
    }
    journal_frame_header (w->buf + w->len, seq, payload, len);
    memcpy (w->buf + w->len + JOURNAL_FRAME_HEADER, payload, len);
    w->len += need;
    return 0;
}

/* The child: snapshot into journal.rewrite, synced. Never returns. */
static void
s_rewrite_child (journal_t *self, journal_snapshot_fn *fn, void *arg)
{
    /* The data dir's lock is the parent's alone (a flock is shared by the
       fork: a restarted store must not find it held by an orphan), and a
       snapshot nobody will switch to is not worth finishing. */
    close (self->lock_fd);
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != self->owner)
        _exit (1);
    journal_writer_t w = { .cap = S_WRITER_FLUSH };
    w.buf = malloc (w.cap);
    w.fd = open (self->rewrite_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    int ok = w.buf && w.fd >= 0 && fn (arg, &w) == 0 && s_writer_close (&w) == 0
             && fdatasync (w.fd) == 0;
    _exit (ok ? 0 : 1);
}

static int s_rewrite_fail (journal_t *self, const char *what);

int
journal_rewrite_start (journal_t *self, journal_snapshot_fn *fn, void *arg)
{
    assert (self);
    if (journal_rewriting (self) || clock_mono_ms () < self->retry_at || journal_commit (self) != 0)
        return -1;
    self->fork_size = self->size;
    self->fork_at = clock_mono_ms ();
    self->fork_failures = atomic_load (&self->sync_failures);
    pid_t pid = fork ();
    if (pid < 0)
        return s_rewrite_fail (self, "fork");
    if (pid == 0)
        s_rewrite_child (self, fn, arg);
    self->child = pid;
    log_info ("compaction started (child %d): journal is %llu bytes", (int)pid,
              (unsigned long long)self->size);
    journal_crash_point (self, "rewrite-forked");
    return 0;
}

bool
journal_rewriting (journal_t *self)
{
    assert (self);
    return self->child > 0 || self->catchup_started;
}

/* Copies [from, to) of the old journal onto fd at offset dst. 0 or -1. */
static int
s_copy_range (journal_t *self, int fd, uint64_t from, uint64_t to, uint64_t dst)
{
    uint8_t *chunk = malloc (S_COPY_CHUNK);
    if (!chunk)
        return -1;
    while (from < to) {
        size_t n = to - from < S_COPY_CHUNK ? (size_t)(to - from) : S_COPY_CHUNK;
        ssize_t got = pread (self->fd, chunk, n, (off_t)from);
        if (got <= 0 || journal_pwrite_all (fd, chunk, (size_t)got, dst) != 0) {
            if (got == 0)
                errno = EIO;
            free (chunk);
            return -1;
        }
        from += (uint64_t)got;
        dst += (uint64_t)got;
    }
    free (chunk);
    return 0;
}

/* The catch-up thread: copies what the loop appends to the old journal
   onto the new one, syncing each pass, until a pass finds little left. */
static void *
s_catchup (void *arg)
{
    journal_t *self = arg;
    for (;;) {
        pthread_mutex_lock (&self->mutex);
        uint64_t target = self->size;
        pthread_mutex_unlock (&self->mutex);
        uint64_t from = self->fork_size + self->copied;
        if (s_copy_range (self, self->new_fd, from, target, self->snapshot_size + self->copied) != 0
            || fdatasync (self->new_fd) != 0) {
            self->catchup_errno = errno;
            atomic_store (&self->catchup_state, -1);
            return NULL;
        }
        self->copied += target - from;
        if (target - from < S_CATCHUP_DONE) {
            atomic_store (&self->catchup_state, 1);
            return NULL;
        }
    }
}

static int
s_rewrite_fail (journal_t *self, const char *what)
{
    if (self->retry_ms < JOURNAL_REWRITE_RETRY_MS)
        self->retry_ms = JOURNAL_REWRITE_RETRY_MS;
    log_error ("compaction failed: %s: %s; going on with %s, next attempt in %lld ms", what,
               strerror (errno), self->path, (long long)self->retry_ms);
    self->retry_at = clock_mono_ms () + self->retry_ms;
    self->retry_ms = self->retry_ms * 2 < JOURNAL_REWRITE_RETRY_MAX_MS
                         ? self->retry_ms * 2
                         : JOURNAL_REWRITE_RETRY_MAX_MS;
    if (self->new_fd >= 0)
        close (self->new_fd);
    self->new_fd = -1;
    unlink (self->rewrite_path);
    return -1;
}

/* The child finished: starts the catch-up thread on its file. */
static int
s_child_done (journal_t *self, int status)
{
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        errno = EIO;
        return s_rewrite_fail (self, "the snapshot child failed");
    }
    self->new_fd = open (self->rewrite_path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (self->new_fd < 0 || fstat (self->new_fd, &st) != 0)
        return s_rewrite_fail (self, "opening the snapshot");
    self->snapshot_size = (uint64_t)st.st_size;
    self->copied = 0;
    atomic_store (&self->catchup_state, 0);
    if (pthread_create (&self->catchup, NULL, s_catchup, self) != 0) {
        errno = EAGAIN;
        return s_rewrite_fail (self, "starting the catch-up thread");
    }
    self->catchup_started = true;
    log_info ("compaction: snapshot of %llu bytes written in %lld ms; catching up",
              (unsigned long long)self->snapshot_size,
              (long long)(clock_mono_ms () - self->fork_at));
    return 0;
}

/* Closes the replaced journal. Its last reference goes, so the kernel frees
   all its blocks: tens of milliseconds for a few hundred MB on ext4, which
   the loop does not wait for (Redis closes its old AOF in a background
   job for the same reason). */
static void *
s_close_old (void *arg)
{
    close ((int)(intptr_t)arg);
    return NULL;
}

static void
s_close_in_background (int fd)
{
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init (&attr);
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create (&thread, &attr, s_close_old, (void *)(intptr_t)fd) != 0)
        close (fd);
    pthread_attr_destroy (&attr);
}

/* Step 3, in the loop: the last records, a sync, the rename. */
static int
s_switch (journal_t *self)
{
    int64_t t0 = clock_mono_us ();
    uint64_t from = self->fork_size + self->copied;
    uint64_t tail = self->size - from;
    if (s_copy_range (self, self->new_fd, from, self->size, self->snapshot_size + self->copied)
        != 0)
        return s_rewrite_fail (self, "copying the last records appended since the fork");
    if (fdatasync (self->new_fd) != 0)
        return s_rewrite_fail (self, "sync");
    journal_crash_point (self, "rewrite-copied");
    if (rename (self->rewrite_path, self->path) != 0)
        return s_rewrite_fail (self, "rename");
    journal_crash_point (self, "rewrite-renamed");
    if (journal_sync_dir (self->dir_fd) != 0) {
        /* Until the rename is durable, a crash could bring back the old
           file and lose what is committed to the new one: journal_commit
           syncs the directory first and fails while it cannot. */
        log_error ("compaction: syncing %s after the switch: %s", self->dir, strerror (errno));
        self->dir_unsynced = true;
    }
    uint64_t before = self->size;
    pthread_mutex_lock (&self->mutex);
    int old = self->fd;
    self->fd = self->new_fd;
    self->size = self->snapshot_size + (self->size - self->fork_size);
    pthread_mutex_unlock (&self->mutex);
    /* The new file is exactly its records and ends with a synced commit
       record (the snapshot's, or the last one copied). */
    self->allocated = self->size;
    self->has_commit = true;
    self->ahead_retry = 0; /* measured on the old file */
    s_close_in_background (old);
    self->new_fd = -1;
    if (self->policy != JOURNAL_FSYNC_NO)
        atomic_store (&self->synced_size, self->size);
    self->stats.rewrites++;
    self->retry_ms = 0;
    if (atomic_load (&self->sync_repaired) < self->fork_failures) {
        atomic_store (&self->sync_repaired, self->fork_failures);
        if (!journal_sync_lost (self))
            log_info ("journal %s: written again from memory after the failed fdatasync",
                      self->path);
    }
    log_info ("compaction done: %llu -> %llu bytes in %lld ms (snapshot %llu, caught up %llu, "
              "the switch held the loop %lld us for the last %llu bytes)",
              (unsigned long long)before, (unsigned long long)self->size,
              (long long)(clock_mono_ms () - self->fork_at),
              (unsigned long long)self->snapshot_size, (unsigned long long)self->copied,
              (long long)(clock_mono_us () - t0), (unsigned long long)tail);
    journal_crash_point (self, "rewrite-done");
    return 1;
}

int
journal_rewrite_poll (journal_t *self)
{
    assert (self);
    if (self->catchup_started) {
        int state = atomic_load (&self->catchup_state);
        if (state == 0)
            return 0;
        pthread_join (self->catchup, NULL);
        self->catchup_started = false;
        if (state < 0) {
            errno = self->catchup_errno;
            return s_rewrite_fail (self, "copying the records appended since the fork");
        }
        assert (self->buf_len == 0);
        return s_switch (self);
    }
    if (self->child <= 0)
        return 0;
    int status;
    pid_t pid = waitpid (self->child, &status, WNOHANG);
    if (pid == 0)
        return 0;
    self->child = 0;
    if (pid < 0)
        return s_rewrite_fail (self, "waiting for the snapshot child");
    return s_child_done (self, status) == 0 ? 0 : -1;
}

void
journal_rewrite_abort (journal_t *self)
{
    if (self->child > 0) {
        kill (self->child, SIGKILL);
        waitpid (self->child, NULL, 0);
        self->child = 0;
        unlink (self->rewrite_path);
    }
    if (self->catchup_started) {
        pthread_join (self->catchup, NULL); /* it ends: nothing is appended now */
        self->catchup_started = false;
        close (self->new_fd);
        self->new_fd = -1;
        unlink (self->rewrite_path);
    }
}
