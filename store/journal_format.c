/*
 * journal_format — the journal's bytes without the file's life: fsync
 * policy names, the record frame (CRC32C, length, seq), the walk over a
 * journal's bytes that tells valid records, a torn tail and corruption
 * apart, and reading a journal file for --journal-verify. Pure functions
 * over memory, apart from journal_map and journal_verify, so the fuzz
 * target and the tests reach them directly. See journal.h.
 */
#include "journal.h"

#include "crc32c.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Policy names -------------------------------------------------------- */

static const char *s_policy_names[] = { "always", "everysec", "no" };

int
journal_fsync_parse (const char *text, journal_fsync_t *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp (text, s_policy_names[i]) == 0) {
            *out = (journal_fsync_t)i;
            return 0;
        }
    return -1;
}

const char *
journal_fsync_name (journal_fsync_t policy)
{
    return policy <= JOURNAL_FSYNC_NO ? s_policy_names[policy] : "?";
}

/* ---- Frames -------------------------------------------------------------- */

static uint32_t
s_get32 (const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
s_put32 (uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

journal_frame_status_t
journal_frame_parse (const void *buf, size_t len, journal_frame_t *frame)
{
    const uint8_t *p = buf;
    if (len < JOURNAL_FRAME_HEADER)
        return JOURNAL_FRAME_SHORT;
    uint32_t length = s_get32 (p + 4);
    bool commit = (length & JOURNAL_COMMIT_FLAG) != 0;
    length &= ~JOURNAL_COMMIT_FLAG;
    if (length > JOURNAL_PAYLOAD_MAX || (commit && length != 4))
        return JOURNAL_FRAME_BAD;
    if (len - JOURNAL_FRAME_HEADER < length)
        return JOURNAL_FRAME_SHORT;
    if (crc32c (0, p + 4, JOURNAL_FRAME_HEADER - 4 + (size_t)length) != s_get32 (p))
        return JOURNAL_FRAME_BAD;
    frame->seq = (uint64_t)s_get32 (p + 8) | (uint64_t)s_get32 (p + 12) << 32;
    frame->payload = p + JOURNAL_FRAME_HEADER;
    frame->len = length;
    frame->size = JOURNAL_FRAME_HEADER + (size_t)length;
    frame->commit = commit;
    frame->commit_crc = commit ? s_get32 (frame->payload) : 0;
    return JOURNAL_FRAME_OK;
}

void
journal_frame_header (uint8_t out[JOURNAL_FRAME_HEADER], uint64_t seq, const void *payload,
                      size_t len)
{
    assert (len <= JOURNAL_PAYLOAD_MAX);
    s_put32 (out + 4, (uint32_t)len);
    s_put32 (out + 8, (uint32_t)seq);
    s_put32 (out + 12, (uint32_t)(seq >> 32));
    uint32_t crc = crc32c (0, out + 4, JOURNAL_FRAME_HEADER - 4);
    s_put32 (out, crc32c (crc, payload, len));
}

void
journal_commit_record_crc (uint8_t out[JOURNAL_COMMIT_SIZE], uint64_t len, uint32_t crc)
{
    assert (len > 0);
    uint8_t *payload = out + JOURNAL_FRAME_HEADER;
    s_put32 (payload, crc);
    s_put32 (out + 4, JOURNAL_COMMIT_FLAG | 4u);
    s_put32 (out + 8, (uint32_t)len);
    s_put32 (out + 12, (uint32_t)(len >> 32));
    s_put32 (out, crc32c (crc32c (0, out + 4, JOURNAL_FRAME_HEADER - 4), payload, 4));
}

void
journal_commit_record (uint8_t out[JOURNAL_COMMIT_SIZE], const void *records, size_t len)
{
    journal_commit_record_crc (out, len, crc32c (0, records, len));
}

/* ---- Loading ------------------------------------------------------------- */

/* True when the commit record parsed at base + at closes a whole commit:
   the bytes it covers are there and match its CRC. */
static bool
s_commit_whole (const uint8_t *base, size_t at, const journal_frame_t *frame)
{
    return frame->seq > 0 && frame->seq <= at
           && crc32c (0, base + at - frame->seq, (size_t)frame->seq) == frame->commit_crc;
}

/* True when a valid record starts anywhere in [from, len); with
   whole_commit, only a commit record that closes a whole commit lying
   entirely in [from, len) counts (one reaching back over the damage before
   from cannot be whole). The CRCs computed are bounded by len: past that,
   so many commit-shaped records follow the damage that it cannot be a
   torn tail, and it counts as found. */
static bool
s_valid_after (const uint8_t *base, size_t from, size_t len, bool whole_commit)
{
    journal_frame_t frame;
    uint64_t budget = len;
    for (size_t at = from; at + JOURNAL_FRAME_HEADER <= len; at++) {
        /* Only a commit record's length field can start one: checked before
           the frame's CRC, which any 4 bytes read as a length would cost. */
        if (whole_commit && s_get32 (base + at + 4) != (JOURNAL_COMMIT_FLAG | 4u))
            continue;
        if (journal_frame_parse (base + at, len - at, &frame) != JOURNAL_FRAME_OK)
            continue;
        if (!whole_commit)
            return true;
        if (!frame.commit || frame.seq == 0 || frame.seq > at - from)
            continue;
        if (frame.seq > budget)
            return true;
        budget -= frame.seq;
        if (s_commit_whole (base, at, &frame))
            return true;
    }
    return false;
}

/* The walk's first pass: where the journal's kept bytes end (scan->bytes),
   what follows them (torn, ahead), or corruption (-1). Calls nothing. */
static int
s_find_end (const char *path, const uint8_t *base, size_t len, journal_scan_t *scan)
{
    size_t off = 0;
    size_t committed = 0; /* just past the last commit record */
    journal_frame_status_t st = JOURNAL_FRAME_OK;
    while (off < len) {
        journal_frame_t frame;
        st = journal_frame_parse (base + off, len - off, &frame);
        if (st == JOURNAL_FRAME_OK && frame.commit) {
            /* A commit covers exactly the records since the one before it
               (the first may follow records written without commits). */
            if ((scan->commits == 0 ? frame.seq <= off : off - committed == frame.seq)
                && s_commit_whole (base, off, &frame)) {
                scan->commits++;
                off += frame.size;
                committed = off;
                continue;
            }
            st = JOURNAL_FRAME_BAD;
        }
        if (st != JOURNAL_FRAME_OK)
            break;
        off += frame.size;
    }
    bool commits = scan->commits > 0;
    if (off < len && s_valid_after (base, off + 1, len, commits)) {
        scan->corrupt = true;
        scan->corrupt_offset = off;
        snprintf (scan->message, sizeof scan->message,
                  "%s is corrupt at offset %zu: a record fails its %s and %s follow. Nothing "
                  "was changed. Keep a copy of the file; to start with the records before the "
                  "damage only, truncate it at that offset (truncate -s %zu %s); herald-store "
                  "--journal-verify reports without starting",
                  path, off, st == JOURNAL_FRAME_BAD ? "checksum or length" : "length",
                  commits ? "whole commits" : "valid records", off, path);
        return -1;
    }
    /* With commits, only whole ones are kept: what follows the last one was
       never acknowledged (its commit did not finish) or is space written
       ahead. Without, every valid record is kept. */
    size_t end = commits ? committed : off;
    size_t last = len;
    while (last > end && base[last - 1] == 0)
        last--;
    scan->bytes = end;
    if (last > end) {
        scan->torn = true;
        scan->torn_offset = end;
        scan->torn_bytes = len - end;
    } else
        scan->ahead_bytes = len - end;
    return 0;
}

int
journal_scan_bytes (const char *path, const uint8_t *base, size_t len, journal_record_fn *fn,
                    void *arg, journal_scan_t *scan)
{
    memset (scan, 0, sizeof *scan);
    if (s_find_end (path, base, len, scan) != 0)
        return -1;
    /* The second pass replays only what is kept: a record of a commit that
       turns out unfinished must never reach the state. */
    size_t off = 0;
    while (off < scan->bytes) {
        journal_frame_t frame;
        journal_frame_status_t st = journal_frame_parse (base + off, len - off, &frame);
        assert (st == JOURNAL_FRAME_OK); /* the first pass walked these */
        (void)st;
        char why[256] = "";
        if (!frame.commit && fn
            && fn (arg, frame.seq, frame.payload, frame.len, why, sizeof why) != 0) {
            scan->corrupt = true;
            scan->corrupt_offset = off;
            snprintf (scan->message, sizeof scan->message,
                      "%s: record at offset %zu (seq %llu) cannot be applied: %s", path, off,
                      (unsigned long long)frame.seq, why);
            return -1;
        }
        if (!frame.commit)
            scan->records++;
        off += frame.size;
    }
    return 0;
}

int
journal_map (int fd, const char *path, const uint8_t **base, size_t *len, journal_scan_t *scan)
{
    struct stat st;
    *base = NULL;
    *len = 0;
    if (fstat (fd, &st) != 0) {
        snprintf (scan->message, sizeof scan->message, "%s: %s", path, strerror (errno));
        return -1;
    }
    if (st.st_size == 0)
        return 0;
    void *map = mmap (NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        snprintf (scan->message, sizeof scan->message, "%s: cannot map: %s", path,
                  strerror (errno));
        return -1;
    }
    madvise (map, (size_t)st.st_size, MADV_SEQUENTIAL);
    *base = map;
    *len = (size_t)st.st_size;
    return 0;
}

int
journal_verify (const char *path, journal_record_fn *fn, void *arg, journal_scan_t *scan)
{
    memset (scan, 0, sizeof *scan);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf (scan->message, sizeof scan->message, "%s: %s", path, strerror (errno));
        return -1;
    }
    const uint8_t *base;
    size_t len;
    int rc = journal_map (fd, path, &base, &len, scan);
    close (fd);
    if (rc != 0)
        return -1;
    rc = journal_scan_bytes (path, base, len, fn, arg, scan);
    if (base)
        munmap ((void *)base, len);
    return rc;
}
