/*
 * test_journal — the journal file's contract without the store: CRC32C
 * (the standard check value, hardware and table alike), frame parsing of
 * good, short and damaged bytes, commit and reload, a torn tail cut at its
 * offset, damage followed by valid records refused as corruption with the
 * offset named, commit records (the space written ahead under `always`, a
 * last commit with a hole or without its commit record cut, damage before
 * a whole commit refused, journals written before commit records read), a
 * failed write undone and retried, the data dir's lock, and the journal
 * record payload codec.
 */
#include "crc32c.h"
#include "journal.h"
#include "proto_journal.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    char dir[64];
    char path[96];
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/test_journal.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    snprintf (self->path, sizeof self->path, "%s/journal", self->dir);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", self->dir);
    assert_int_equal (system (cmd), 0);
    free (self);
    return 0;
}

/* Records seen by a load. */
typedef struct {
    uint64_t seqs[64];
    char payloads[64][32];
    size_t n;
    size_t fail_at; /* refuse this record (1-based), 0 never */
} seen_t;

static int
s_collect (void *arg, uint64_t seq, const uint8_t *payload, size_t len, char *why, size_t size)
{
    seen_t *seen = arg;
    if (seen->fail_at && seen->n + 1 == seen->fail_at) {
        snprintf (why, size, "refused by the test");
        return -1;
    }
    assert_true (seen->n < 64 && len < 32);
    seen->seqs[seen->n] = seq;
    memcpy (seen->payloads[seen->n], payload, len);
    seen->payloads[seen->n][len] = '\0';
    seen->n++;
    return 0;
}

/* Writes records "r1".."rN" with seqs 1..N through a journal, committed. */
static void
s_write_records (fixture_t *self, int n)
{
    char why[256];
    journal_t *j = journal_open (self->dir, JOURNAL_FSYNC_ALWAYS, why, sizeof why);
    assert_non_null (j);
    journal_scan_t scan;
    seen_t seen = { 0 };
    assert_int_equal (journal_load (j, s_collect, &seen, &scan), 0);
    for (int i = 1; i <= n; i++) {
        char text[16];
        int len = snprintf (text, sizeof text, "r%d", i);
        assert_int_equal (journal_append (j, (uint64_t)i, text, (size_t)len), 0);
    }
    assert_int_equal (journal_commit (j), 0);
    assert_int_equal (journal_pending (j), 0);
    journal_destroy (&j);
    assert_null (j);
}

static off_t
s_file_size (const char *path)
{
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    return st.st_size;
}

static void
test_crc32c_matches_the_standard_check_value (void **state)
{
    /* RFC 3720 B.4 / the Castagnoli check value of "123456789". */
    assert_int_equal (crc32c (0, "123456789", 9), 0xe3069283u);
    assert_int_equal (crc32c_portable (0, "123456789", 9), 0xe3069283u);
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    for (size_t len = 0; len < sizeof buf; len += 37)
        assert_int_equal (crc32c (0, buf, len), crc32c_portable (0, buf, len));
    /* Extending in pieces equals one pass. */
    assert_int_equal (crc32c (crc32c (0, buf, 100), buf + 100, 900), crc32c (0, buf, 1000));
}

static void
test_frame_parse_accepts_good_and_refuses_damage (void **state)
{
    uint8_t buf[64];
    journal_frame_header (buf, 42, "hello", 5);
    memcpy (buf + JOURNAL_FRAME_HEADER, "hello", 5);
    journal_frame_t frame;
    assert_int_equal (journal_frame_parse (buf, 21, &frame), JOURNAL_FRAME_OK);
    assert_int_equal (frame.seq, 42);
    assert_int_equal (frame.len, 5);
    assert_int_equal (frame.size, 21);
    assert_memory_equal (frame.payload, "hello", 5);
    for (size_t len = 0; len < 21; len++)
        assert_int_equal (journal_frame_parse (buf, len, &frame), JOURNAL_FRAME_SHORT);
    for (size_t i = 0; i < 21; i++) { /* any flipped bit is caught */
        buf[i] ^= 0x10;
        assert_int_not_equal (journal_frame_parse (buf, 21, &frame), JOURNAL_FRAME_OK);
        buf[i] ^= 0x10;
    }
    /* A length over the maximum is damage, not a short read. */
    buf[7] = 0x7f;
    assert_int_equal (journal_frame_parse (buf, 21, &frame), JOURNAL_FRAME_BAD);
}

static void
test_journal_commit_then_load_returns_every_record (void **state)
{
    fixture_t *self = *state;
    s_write_records (self, 10);
    seen_t seen = { 0 };
    journal_scan_t scan;
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 10);
    assert_false (scan.torn);
    for (size_t i = 0; i < 10; i++) {
        char text[16];
        snprintf (text, sizeof text, "r%zu", i + 1);
        assert_int_equal (seen.seqs[i], i + 1);
        assert_string_equal (seen.payloads[i], text);
    }
    assert_int_equal (scan.bytes, (uint64_t)s_file_size (self->path));
}

static void
test_journal_cuts_a_torn_tail_at_its_offset (void **state)
{
    fixture_t *self = *state;
    s_write_records (self, 5);
    off_t good = s_file_size (self->path);
    /* A crash mid-write: the first 10 bytes of a sixth record. */
    uint8_t frame[JOURNAL_FRAME_HEADER + 2];
    journal_frame_header (frame, 6, "r6", 2);
    memcpy (frame + JOURNAL_FRAME_HEADER, "r6", 2);
    int fd = open (self->path, O_WRONLY | O_APPEND);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, frame, 10), 10);
    close (fd);

    seen_t seen = { 0 };
    journal_scan_t scan;
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_true (scan.torn);
    assert_int_equal (scan.torn_offset, (uint64_t)good);
    assert_int_equal (scan.torn_bytes, 10);
    assert_int_equal (s_file_size (self->path), good + 10); /* verify changes nothing */

    char why[256];
    journal_t *j = journal_open (self->dir, JOURNAL_FSYNC_ALWAYS, why, sizeof why);
    assert_non_null (j);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_load (j, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 5);
    assert_int_equal (s_file_size (self->path), good); /* cut */
    /* Appending goes on after the last good record. */
    assert_int_equal (journal_append (j, 6, "r6", 2), 0);
    assert_int_equal (journal_commit (j), 0);
    journal_destroy (&j);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 6);
    assert_false (scan.torn);
}

/* Opens the journal under policy and loads it into seen. */
static journal_t *
s_open_loaded (fixture_t *self, journal_fsync_t policy, seen_t *seen)
{
    char why[256];
    journal_t *j = journal_open (self->dir, policy, why, sizeof why);
    assert_non_null (j);
    journal_scan_t scan;
    memset (seen, 0, sizeof *seen);
    assert_int_equal (journal_load (j, s_collect, seen, &scan), 0);
    return j;
}

/* Commits records "r<from>".."r<to>" (seqs alike) as one commit. */
static void
s_commit_range (journal_t *j, int from, int to)
{
    for (int i = from; i <= to; i++) {
        char text[16];
        int len = snprintf (text, sizeof text, "r%d", i);
        assert_int_equal (journal_append (j, (uint64_t)i, text, (size_t)len), 0);
    }
    assert_int_equal (journal_commit (j), 0);
}

static void
s_zero_bytes (const char *path, off_t at, size_t n)
{
    uint8_t zeros[512] = { 0 };
    assert_true (n <= sizeof zeros);
    int fd = open (path, O_WRONLY);
    assert_true (fd >= 0);
    assert_int_equal (pwrite (fd, zeros, n, at), (ssize_t)n);
    close (fd);
}

#define S_RECORD (JOURNAL_FRAME_HEADER + 2) /* "r1".."r9" */

static void
test_commit_record_parses_and_refuses_damage (void **state)
{
    uint8_t records[2 * S_RECORD];
    journal_frame_header (records, 1, "r1", 2);
    memcpy (records + JOURNAL_FRAME_HEADER, "r1", 2);
    journal_frame_header (records + S_RECORD, 2, "r2", 2);
    memcpy (records + S_RECORD + JOURNAL_FRAME_HEADER, "r2", 2);
    uint8_t commit[JOURNAL_COMMIT_SIZE];
    journal_commit_record (commit, records, sizeof records);
    journal_frame_t frame;
    assert_int_equal (journal_frame_parse (commit, sizeof commit, &frame), JOURNAL_FRAME_OK);
    assert_true (frame.commit);
    assert_int_equal (frame.seq, sizeof records);
    assert_int_equal (frame.size, JOURNAL_COMMIT_SIZE);
    assert_int_equal (frame.commit_crc, crc32c (0, records, sizeof records));
    assert_int_equal (journal_frame_parse (records, sizeof records, &frame), JOURNAL_FRAME_OK);
    assert_false (frame.commit);
    for (size_t i = 0; i < sizeof commit; i++) {
        commit[i] ^= 0x04;
        assert_int_not_equal (journal_frame_parse (commit, sizeof commit, &frame),
                              JOURNAL_FRAME_OK);
        commit[i] ^= 0x04;
    }
    /* A commit record's payload is its 4-byte CRC, nothing else. */
    uint8_t longer[JOURNAL_FRAME_HEADER + 5] = { 0 };
    journal_frame_header (longer, 10, "abcde", 5);
    longer[7] |= 0x80; /* JOURNAL_COMMIT_FLAG on a 5-byte payload */
    memcpy (longer + JOURNAL_FRAME_HEADER, "abcde", 5);
    assert_int_equal (journal_frame_parse (longer, sizeof longer, &frame), JOURNAL_FRAME_BAD);
}

static void
test_journal_writes_ahead_under_always_and_cuts_it_when_stopped (void **state)
{
    fixture_t *self = *state;
    seen_t seen;
    journal_t *j = s_open_loaded (self, JOURNAL_FSYNC_ALWAYS, &seen);
    s_commit_range (j, 1, 3); /* the file's first commit appends */
    uint64_t first = journal_size (j);
    assert_int_equal (first, 3 * S_RECORD + JOURNAL_COMMIT_SIZE);
    assert_int_equal (s_file_size (self->path), (off_t)first);
    s_commit_range (j, 4, 5); /* later ones land in zeros written ahead */
    uint64_t size = journal_size (j);
    assert_int_equal (size, first + 2 * S_RECORD + JOURNAL_COMMIT_SIZE);
    assert_int_equal (s_file_size (self->path), JOURNAL_AHEAD);

    journal_scan_t scan;
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 5);
    assert_int_equal (scan.records, 5);
    assert_int_equal (scan.commits, 2);
    assert_int_equal (scan.bytes, size);
    assert_false (scan.torn);
    assert_int_equal (scan.ahead_bytes, JOURNAL_AHEAD - size);

    journal_destroy (&j);
    assert_int_equal (s_file_size (self->path), (off_t)size);
    /* everysec and no append: nothing is written ahead. */
    j = s_open_loaded (self, JOURNAL_FSYNC_EVERYSEC, &seen);
    assert_int_equal (seen.n, 5);
    s_commit_range (j, 6, 7);
    s_commit_range (j, 8, 9);
    assert_int_equal (s_file_size (self->path), (off_t)journal_size (j));
    journal_destroy (&j);
}

static void
test_journal_cuts_a_last_commit_with_a_hole_in_it (void **state)
{
    fixture_t *self = *state;
    seen_t seen;
    journal_t *j = s_open_loaded (self, JOURNAL_FSYNC_ALWAYS, &seen);
    s_commit_range (j, 1, 3);
    uint64_t good = journal_size (j);
    s_commit_range (j, 4, 8);
    uint64_t written = journal_size (j);
    /* A machine crash mid-commit in space written ahead: a later page of
       the commit reached the disk, an earlier one did not (r5 and r6 read
       as zeros), its commit record is there. Leave the journal open as a
       crash would: the zeros ahead stay. */
    s_zero_bytes (self->path, (off_t)(good + S_RECORD), 2 * S_RECORD);
    off_t size = s_file_size (self->path);
    assert_true (size > (off_t)written);

    journal_scan_t scan;
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 3); /* r4 is part of the unfinished commit: never replayed */
    assert_true (scan.torn);
    assert_int_equal (scan.torn_offset, good);
    assert_int_equal (scan.torn_bytes, (uint64_t)size - good);
    assert_int_equal (s_file_size (self->path), size); /* verify changes nothing */
    journal_destroy (&j);

    j = s_open_loaded (self, JOURNAL_FSYNC_ALWAYS, &seen);
    assert_int_equal (seen.n, 3);
    assert_int_equal (journal_size (j), good);
    assert_int_equal (s_file_size (self->path), (off_t)good); /* cut */
    s_commit_range (j, 4, 4);
    journal_destroy (&j);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 4);
    assert_int_equal (seen.seqs[3], 4);
    assert_false (scan.torn);
}

static void
test_journal_cuts_records_whose_commit_record_was_lost (void **state)
{
    fixture_t *self = *state;
    seen_t seen;
    journal_t *j = s_open_loaded (self, JOURNAL_FSYNC_ALWAYS, &seen);
    s_commit_range (j, 1, 2);
    uint64_t good = journal_size (j);
    s_commit_range (j, 3, 5);
    s_zero_bytes (self->path, (off_t)(journal_size (j) - JOURNAL_COMMIT_SIZE), JOURNAL_COMMIT_SIZE);
    journal_destroy (&j); /* cuts the zeros ahead: the file ends with r5 */
    assert_int_equal (s_file_size (self->path), (off_t)good + 3 * S_RECORD + JOURNAL_COMMIT_SIZE);

    journal_scan_t scan;
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 2);
    assert_true (scan.torn);
    assert_int_equal (scan.torn_offset, good);
}

static void
test_journal_refuses_damage_followed_by_a_whole_commit (void **state)
{
    fixture_t *self = *state;
    seen_t seen;
    journal_t *j = s_open_loaded (self, JOURNAL_FSYNC_ALWAYS, &seen);
    s_commit_range (j, 1, 2);
    uint64_t second = journal_size (j);
    s_commit_range (j, 3, 5);
    s_commit_range (j, 6, 6);
    s_zero_bytes (self->path, (off_t)second + S_RECORD, 4); /* r4's CRC */
    journal_destroy (&j);
    off_t size = s_file_size (self->path);

    journal_scan_t scan;
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), -1);
    assert_true (scan.corrupt);
    assert_int_equal (scan.corrupt_offset, second + S_RECORD);
    assert_non_null (strstr (scan.message, "whole commits follow"));
    assert_int_equal (seen.n, 0); /* nothing replayed from a journal that will not load */

    char why[256];
    j = journal_open (self->dir, JOURNAL_FSYNC_ALWAYS, why, sizeof why);
    assert_non_null (j);
    assert_int_equal (journal_load (j, s_collect, &seen, &scan), -1);
    journal_destroy (&j);
    assert_int_equal (s_file_size (self->path), size); /* nothing changed */
}

static void
test_journal_reads_records_written_before_commit_records (void **state)
{
    fixture_t *self = *state;
    /* A journal as stores wrote it before commit records: frames only. */
    uint8_t old[3 * S_RECORD];
    for (int i = 0; i < 3; i++) {
        char text[3] = { 'r', (char)('1' + i), 0 };
        journal_frame_header (old + i * S_RECORD, (uint64_t)i + 1, text, 2);
        memcpy (old + i * S_RECORD + JOURNAL_FRAME_HEADER, text, 2);
    }
    int fd = open (self->path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, old, sizeof old), (ssize_t)sizeof old);
    close (fd);

    seen_t seen;
    journal_t *j = s_open_loaded (self, JOURNAL_FSYNC_ALWAYS, &seen);
    assert_int_equal (seen.n, 3);
    assert_int_equal (journal_size (j), sizeof old); /* the load changes nothing */
    assert_int_equal (s_file_size (self->path), (off_t)sizeof old);
    /* Once accepted, the old records are closed with a commit record. */
    assert_int_equal (journal_close_old (j), 0);
    assert_int_equal (journal_size (j), sizeof old + JOURNAL_COMMIT_SIZE);
    assert_int_equal (journal_close_old (j), 0); /* once only */
    assert_int_equal (journal_size (j), sizeof old + JOURNAL_COMMIT_SIZE);
    s_commit_range (j, 4, 5);
    uint64_t good = journal_size (j);
    s_commit_range (j, 6, 7);
    journal_scan_t scan;
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 7);
    assert_int_equal (scan.commits, 3);
    assert_false (scan.torn);
    /* A crash that kept only the first half of the last commit: none of
       its records is replayed (r6 is whole, r7 is cut short). */
    journal_destroy (&j);
    assert_int_equal (truncate (self->path, (off_t)good + S_RECORD + 5), 0);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 5);
    assert_true (scan.torn);
    assert_int_equal (scan.torn_offset, good);

    /* Damage in the part without commits is judged as before them: valid
       records follow, so it is corruption. */
    s_zero_bytes (self->path, S_RECORD, 4);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), -1);
    assert_int_equal (scan.corrupt_offset, S_RECORD);
}

/* journal_snapshot_fn: records "r1" and "r2". */
static int
s_snapshot_two (void *arg, journal_writer_t *w)
{
    (void)arg;
    return journal_writer_append (w, 1, "r1", 2) == 0 && journal_writer_append (w, 2, "r2", 2) == 0
               ? 0
               : -1;
}

/* Compacts j to the snapshot s_snapshot_two writes, waiting for the
   switch. */
static void
s_compact_to_two (journal_t *j)
{
    assert_int_equal (journal_rewrite_start (j, s_snapshot_two, NULL), 0);
    int rc = 0;
    for (int i = 0; i < 1000 && (rc = journal_rewrite_poll (j)) == 0; i++)
        usleep (2000);
    assert_int_equal (rc, 1);
}

static void
test_journal_compaction_closes_the_snapshot_with_a_commit_record (void **state)
{
    fixture_t *self = *state;
    seen_t seen;
    journal_t *j = s_open_loaded (self, JOURNAL_FSYNC_ALWAYS, &seen);
    s_commit_range (j, 1, 2);
    s_compact_to_two (j); /* nothing appended since the fork */
    uint64_t snapshot = journal_size (j);
    assert_int_equal (snapshot, 2 * S_RECORD + JOURNAL_COMMIT_SIZE);
    journal_scan_t scan;
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 2);
    assert_int_equal (scan.commits, 1);
    /* The first commit on the new file, torn after its first record: it is
       cut whole, not half replayed. */
    s_commit_range (j, 3, 4);
    journal_destroy (&j);
    assert_int_equal (truncate (self->path, (off_t)snapshot + S_RECORD + 3), 0);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 2);
    assert_true (scan.torn);
    assert_int_equal (scan.torn_offset, snapshot);
}

static void
test_journal_refuses_damage_followed_by_valid_records (void **state)
{
    fixture_t *self = *state;
    s_write_records (self, 5);
    /* Flip a payload byte of the third record (records are 18 bytes). */
    size_t third = 2 * (JOURNAL_FRAME_HEADER + 2);
    int fd = open (self->path, O_RDWR);
    uint8_t byte;
    assert_int_equal (pread (fd, &byte, 1, (off_t)third + JOURNAL_FRAME_HEADER), 1);
    byte ^= 0x01;
    assert_int_equal (pwrite (fd, &byte, 1, (off_t)third + JOURNAL_FRAME_HEADER), 1);
    close (fd);
    off_t size = s_file_size (self->path);

    seen_t seen = { 0 };
    journal_scan_t scan;
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), -1);
    assert_true (scan.corrupt);
    assert_int_equal (scan.corrupt_offset, third);
    assert_non_null (strstr (scan.message, self->path));
    assert_non_null (strstr (scan.message, "offset 36"));

    char why[256];
    journal_t *j = journal_open (self->dir, JOURNAL_FSYNC_ALWAYS, why, sizeof why);
    assert_non_null (j);
    assert_int_equal (journal_load (j, s_collect, &seen, &scan), -1);
    journal_destroy (&j);
    assert_int_equal (s_file_size (self->path), size); /* nothing changed */
}

static void
test_journal_stops_where_a_record_is_refused (void **state)
{
    fixture_t *self = *state;
    s_write_records (self, 5);
    seen_t seen = { .fail_at = 4 };
    journal_scan_t scan;
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), -1);
    assert_int_equal (seen.n, 3);
    assert_int_equal (scan.corrupt_offset, 3 * (JOURNAL_FRAME_HEADER + 2));
    assert_non_null (strstr (scan.message, "refused by the test"));
}

/* Limits this process's files to bytes (writes past it fail with EFBIG,
   as on a full disk); the limit before goes to old. */
static void
s_limit_file_size (off_t bytes, struct rlimit *old)
{
    signal (SIGXFSZ, SIG_IGN);
    assert_int_equal (getrlimit (RLIMIT_FSIZE, old), 0);
    struct rlimit lim = *old;
    lim.rlim_cur = (rlim_t)bytes;
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &lim), 0);
}

static void
test_journal_failed_write_is_undone_and_retried (void **state)
{
    fixture_t *self = *state;
    s_write_records (self, 3);
    off_t good = s_file_size (self->path);
    char why[256];
    journal_t *j = journal_open (self->dir, JOURNAL_FSYNC_ALWAYS, why, sizeof why);
    seen_t seen = { 0 };
    journal_scan_t scan;
    assert_int_equal (journal_load (j, s_collect, &seen, &scan), 0);
    /* A file size limit makes the write fail as a full disk would. */
    struct rlimit old;
    s_limit_file_size ((off_t)good + 20, &old);
    char big[10];
    memset (big, 'x', sizeof big);
    assert_int_equal (journal_append (j, 4, big, sizeof big), 0);
    assert_int_equal (journal_commit (j), -1);
    assert_int_not_equal (journal_error (j), 0);
    assert_int_equal (journal_pending (j), JOURNAL_FRAME_HEADER + sizeof big);
    assert_int_equal (s_file_size (self->path), good); /* no partial record left */
    assert_int_equal (journal_commit (j), -1);         /* still failing */
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &old), 0);
    assert_int_equal (journal_commit (j), 0); /* space is back */
    assert_int_equal (journal_error (j), 0);
    journal_stats_t st;
    journal_stats (j, &st);
    assert_int_equal (st.write_errors, 2);
    journal_destroy (&j);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 4);
    assert_int_equal (seen.seqs[3], 4);
}

static void
test_journal_appends_for_a_while_after_writing_ahead_failed (void **state)
{
    fixture_t *self = *state;
    s_write_records (self, 3);
    off_t good = s_file_size (self->path);
    seen_t seen;
    journal_t *j = s_open_loaded (self, JOURNAL_FSYNC_ALWAYS, &seen);
    /* Room for the commits, not for the zeros ahead: a nearly full disk. */
    struct rlimit old;
    s_limit_file_size ((off_t)good + 4096, &old);
    s_commit_range (j, 4, 5);
    assert_int_equal (s_file_size (self->path), (off_t)journal_size (j)); /* appended */
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &old), 0);
    /* Space is back, but the journal has not grown by JOURNAL_AHEAD since:
       it goes on appending instead of trying the zeros at every commit. */
    s_commit_range (j, 6, 7);
    assert_int_equal (s_file_size (self->path), (off_t)journal_size (j));
    journal_destroy (&j);
    memset (&seen, 0, sizeof seen);
    journal_scan_t scan;
    assert_int_equal (journal_verify (self->path, s_collect, &seen, &scan), 0);
    assert_int_equal (seen.n, 7);
}

static void
test_journal_writes_ahead_again_after_a_compaction (void **state)
{
    fixture_t *self = *state;
    seen_t seen;
    journal_t *j = s_open_loaded (self, JOURNAL_FSYNC_ALWAYS, &seen);
    s_commit_range (j, 1, 2);
    struct rlimit old;
    s_limit_file_size ((off_t)journal_size (j) + 4096, &old);
    s_commit_range (j, 3, 4); /* writing ahead fails: the journal appends */
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &old), 0);
    assert_int_equal (s_file_size (self->path), (off_t)journal_size (j));
    /* The compaction frees the space and starts a new file: the wait that
       was measured on the old one no longer applies. */
    s_compact_to_two (j);
    s_commit_range (j, 3, 3);
    assert_int_equal (s_file_size (self->path), JOURNAL_AHEAD);
    journal_destroy (&j);
}

static void
test_journal_dir_is_locked_by_one_store (void **state)
{
    fixture_t *self = *state;
    char why[256];
    journal_t *a = journal_open (self->dir, JOURNAL_FSYNC_NO, why, sizeof why);
    assert_non_null (a);
    journal_t *b = journal_open (self->dir, JOURNAL_FSYNC_NO, why, sizeof why);
    assert_null (b);
    assert_non_null (strstr (why, "in use by another herald-store"));
    journal_destroy (&a);
    b = journal_open (self->dir, JOURNAL_FSYNC_NO, why, sizeof why);
    assert_non_null (b);
    journal_destroy (&b);
}

static void
test_journal_open_refuses_a_dir_it_cannot_create (void **state)
{
    char why[256];
    journal_t *j = journal_open ("/proc/herald-no-such-dir", JOURNAL_FSYNC_ALWAYS, why, sizeof why);
    assert_null (j);
    assert_non_null (strstr (why, "/proc/herald-no-such-dir"));
}

static void
test_journal_fsync_names_round_trip (void **state)
{
    journal_fsync_t p;
    const char *names[] = { "always", "everysec", "no" };
    for (int i = 0; i < 3; i++) {
        assert_int_equal (journal_fsync_parse (names[i], &p), 0);
        assert_string_equal (journal_fsync_name (p), names[i]);
    }
    assert_int_equal (journal_fsync_parse ("sometimes", &p), -1);
}

static void
test_journal_records_round_trip (void **state)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    proto_journal_record_t in = { .type = PROTO_JOURNAL_UPDATED };
    for (int i = 0; i < 16; i++)
        in.event.id[i] = (uint8_t)(i * 17);
    in.event.id[6] = 0x4a;
    in.event.id[8] = 0x9b;
    in.event.user_id = PROTO_STR ("u-42");
    in.event.description = PROTO_STR ("shipped \xc3\xa9");
    in.event.status = PROTO_STR ("processed");
    in.event.created_at = 1700000000123;
    in.event.created_us = 999;
    in.event.updated_at = 1700000000456;
    in.event.seq = 77;
    assert_int_equal (proto_journal_encode (&in, &buf), 0);
    proto_journal_record_t out;
    proto_error_t err;
    assert_int_equal (proto_journal_decode (buf.data, buf.size, &out, &err), PROTO_DECODE_OK);
    assert_int_equal (out.type, PROTO_JOURNAL_UPDATED);
    assert_memory_equal (out.event.id, in.event.id, 16);
    assert_int_equal (out.event.description.len, in.event.description.len);
    assert_memory_equal (out.event.description.ptr, in.event.description.ptr,
                         in.event.description.len);
    assert_int_equal (out.event.created_at, in.event.created_at);
    assert_int_equal (out.event.created_us, 999);
    assert_int_equal (out.event.updated_at, in.event.updated_at);
    assert_int_equal (out.event.seq, 77);

    uint8_t slots[8] = { 1, 0, 0, 0, 2, 0, 0, 0x80 };
    proto_journal_record_t tail = {
        .type = PROTO_JOURNAL_TAIL, .from = 9, .slots = slots, .n_slots = 2
    };
    msgpack_sbuffer_clear (&buf);
    assert_int_equal (proto_journal_encode (&tail, &buf), 0);
    assert_int_equal (proto_journal_decode (buf.data, buf.size, &out, &err), PROTO_DECODE_OK);
    assert_int_equal (out.from, 9);
    assert_int_equal (out.n_slots, 2);
    assert_memory_equal (out.slots, slots, 8);

    /* A feed whose cursor passes its head is refused. */
    proto_journal_record_t feed = { .type = PROTO_JOURNAL_FEED, .acked = 5, .head = 4 };
    msgpack_sbuffer_clear (&buf);
    assert_int_equal (proto_journal_encode (&feed, &buf), 0);
    assert_int_equal (proto_journal_decode (buf.data, buf.size, &out, &err), PROTO_DECODE_INVALID);
    /* Headers: format 1 (before commit records) and 2 are read, 3 is not. */
    for (uint64_t format = 1; format <= 3; format++) {
        proto_journal_record_t header = { .type = PROTO_JOURNAL_HEADER, .format = format };
        msgpack_sbuffer_clear (&buf);
        assert_int_equal (proto_journal_encode (&header, &buf), 0);
        assert_int_equal (proto_journal_decode (buf.data, buf.size, &out, &err),
                          format <= PROTO_JOURNAL_FORMAT ? PROTO_DECODE_OK : PROTO_DECODE_VERSION);
    }
    /* Not a record at all. */
    assert_int_not_equal (proto_journal_decode ("\x93\x01\x02\x03", 4, &out, &err),
                          PROTO_DECODE_OK);
    msgpack_sbuffer_destroy (&buf);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_crc32c_matches_the_standard_check_value),
        cmocka_unit_test (test_frame_parse_accepts_good_and_refuses_damage),
        cmocka_unit_test_setup_teardown (test_journal_commit_then_load_returns_every_record,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_cuts_a_torn_tail_at_its_offset, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_refuses_damage_followed_by_valid_records,
                                         s_setup, s_teardown),
        cmocka_unit_test (test_commit_record_parses_and_refuses_damage),
        cmocka_unit_test_setup_teardown (
            test_journal_writes_ahead_under_always_and_cuts_it_when_stopped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_cuts_a_last_commit_with_a_hole_in_it, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_cuts_records_whose_commit_record_was_lost,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_refuses_damage_followed_by_a_whole_commit,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_reads_records_written_before_commit_records,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_journal_compaction_closes_the_snapshot_with_a_commit_record, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_stops_where_a_record_is_refused, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_failed_write_is_undone_and_retried, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (
            test_journal_appends_for_a_while_after_writing_ahead_failed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_writes_ahead_again_after_a_compaction,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_dir_is_locked_by_one_store, s_setup,
                                         s_teardown),
        cmocka_unit_test (test_journal_open_refuses_a_dir_it_cannot_create),
        cmocka_unit_test (test_journal_fsync_names_round_trip),
        cmocka_unit_test (test_journal_records_round_trip),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
