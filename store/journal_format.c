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
    if (length > JOURNAL_PAYLOAD_MAX)
        return JOURNAL_FRAME_BAD;
    if (len - JOURNAL_FRAME_HEADER < length)
        return JOURNAL_FRAME_SHORT;
    if (crc32c (0, p + 4, JOURNAL_FRAME_HEADER - 4 + (size_t)length) != s_get32 (p))
        return JOURNAL_FRAME_BAD;
    frame->seq = (uint64_t)s_get32 (p + 8) | (uint64_t)s_get32 (p + 12) << 32;
    frame->payload = p + JOURNAL_FRAME_HEADER;
    frame->len = length;
    frame->size = JOURNAL_FRAME_HEADER + (size_t)length;
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

/* ---- Loading ------------------------------------------------------------- */

/* True when a valid frame starts anywhere in [from, len). */
static bool
s_valid_after (const uint8_t *base, size_t from, size_t len)
{
    journal_frame_t frame;
    for (size_t at = from; at + JOURNAL_FRAME_HEADER <= len; at++)
        if (journal_frame_parse (base + at, len - at, &frame) == JOURNAL_FRAME_OK)
            return true;
    return false;
}

int
journal_scan_bytes (const char *path, const uint8_t *base, size_t len, journal_record_fn *fn,
                    void *arg, journal_scan_t *scan)
{
    memset (scan, 0, sizeof *scan);
    size_t off = 0;
    while (off < len) {
        journal_frame_t frame;
        journal_frame_status_t st = journal_frame_parse (base + off, len - off, &frame);
        if (st == JOURNAL_FRAME_OK) {
            char why[256] = "";
            if (fn && fn (arg, frame.seq, frame.payload, frame.len, why, sizeof why) != 0) {
                scan->corrupt = true;
                scan->corrupt_offset = off;
                snprintf (scan->message, sizeof scan->message,
                          "%s: record at offset %zu (seq %llu) cannot be applied: %s", path, off,
                          (unsigned long long)frame.seq, why);
                return -1;
            }
            scan->records++;
            off += frame.size;
            continue;
        }
        if (s_valid_after (base, off + 1, len)) {
            scan->corrupt = true;
            scan->corrupt_offset = off;
            snprintf (scan->message, sizeof scan->message,
                      "%s is corrupt at offset %zu: a record fails its %s and valid records "
                      "follow. Nothing was changed. Keep a copy of the file; to start with the "
                      "records before the damage only, truncate it at that offset "
                      "(truncate -s %zu %s); herald-store --journal-verify reports without "
                      "starting",
                      path, off, st == JOURNAL_FRAME_BAD ? "checksum or length" : "length", off,
                      path);
            return -1;
        }
        scan->torn = true;
        scan->torn_offset = off;
        scan->torn_bytes = len - off;
        break;
    }
    scan->bytes = off;
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
