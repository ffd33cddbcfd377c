/*
 * fuzz_store_journal — the store's journal read back from arbitrary bytes:
 * a journal on disk can be damaged or forged, and start-up must judge it
 * (replay, cut a torn tail, or refuse) without crashing.
 *
 * The first byte chooses how the rest is read: even, it is a whole journal
 * file; odd, it is a list of records [u16 length LE][u8 seq][payload] that
 * the target frames with valid checksums itself, so mutations reach the
 * payload decoder and the replay's checks instead of dying at the CRC; a
 * seq byte of 0xff instead closes the records since the last commit with
 * a commit record (nothing framed when there are none), and a length of
 * 0xffff is n zero bytes (a hole) with the next byte as n.
 * Checks: every frame journal_frame_parse
 * accepts re-encodes to the same header (a commit record: to the same
 * commit record when its CRC matches); every payload proto_journal_decode
 * accepts re-encodes to a payload that decodes to the same record; the
 * replay (persist_check_bytes, what start-up runs) accounts for every byte:
 * the valid part, then either nothing, zeros written ahead, a torn tail to
 * the end, or a refusal that names an offset inside the input; the valid
 * part ends with a whole commit when the input has a whole commit, and
 * alone it replays to the same state with nothing left to cut.
 */
#include "fuzz_check.h"
#include "journal.h"
#include "persist.h"
#include "proto_journal.h"
#include "proto_wire.h"

#include <stdlib.h>
#include <string.h>

static void
s_check_payload (const uint8_t *payload, size_t len)
{
    proto_journal_record_t rec, again, generic;
    proto_error_t err, generic_err;
    /* The small-frame reader and msgpack-c agree (wire_unpack_small). */
    proto_decode_t rc = proto_journal_decode (payload, len, &rec, &err);
    wire_set_generic_only (true);
    FUZZ_CHECK (proto_journal_decode (payload, len, &generic, &generic_err) == rc);
    wire_set_generic_only (false);
    FUZZ_CHECK (strcmp (err.message, generic_err.message) == 0);
    if (rc == PROTO_DECODE_OK) {
        FUZZ_SAME_ENCODING (proto_journal_encode, &rec, &generic);
    }
    if (rc != PROTO_DECODE_OK) {
        FUZZ_CHECK (err.message[0] != '\0');
        return;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    FUZZ_CHECK (proto_journal_encode (&rec, &sb) == 0);
    FUZZ_CHECK (proto_journal_decode (sb.data, sb.size, &again, &err) == PROTO_DECODE_OK);
    FUZZ_CHECK (again.type == rec.type);
    FUZZ_CHECK (memcmp (again.store_id, rec.store_id, 16) == 0);
    FUZZ_CHECK (memcmp (again.event.id, rec.event.id, 16) == 0);
    FUZZ_CHECK (again.event.seq == rec.event.seq && again.acked == rec.acked);
    FUZZ_CHECK (again.event.created_at == rec.event.created_at);
    FUZZ_CHECK (again.event.created_us == rec.event.created_us);
    FUZZ_CHECK (rec.event.created_us <= PROTO_CREATED_US_MAX);
    FUZZ_CHECK (again.head == rec.head && again.from == rec.from);
    FUZZ_CHECK (again.n_slots == rec.n_slots);
    FUZZ_CHECK (again.event.description.len == rec.event.description.len);
    msgpack_sbuffer_destroy (&sb);
}

/* Frames the records of a payload-mode input; the caller frees. */
static uint8_t *
s_frame_records (const uint8_t *data, size_t size, size_t *out_len)
{
    /* Per 3 input bytes at most one frame header (a commit record's
       included) or 255 zeros. */
    uint8_t *out = malloc (size / 3 * (JOURNAL_COMMIT_SIZE + 255) + size + 1);
    FUZZ_CHECK (out != NULL);
    size_t len = 0, committed = 0;
    uint64_t seq = 0;
    while (size >= 3) {
        size_t n = (size_t)data[0] | (size_t)data[1] << 8;
        uint8_t step = data[2];
        data += 3;
        size -= 3;
        if (n == 0xffff && step != 0xff) {
            memset (out + len, 0, step);
            len += step;
            continue;
        }
        if (step == 0xff) {
            if (len > committed) {
                journal_commit_record (out + len, out + committed, len - committed);
                len += JOURNAL_COMMIT_SIZE;
                committed = len;
            }
            continue;
        }
        seq += step;
        if (n > size)
            n = size;
        journal_frame_header (out + len, seq, data, n);
        memcpy (out + len + JOURNAL_FRAME_HEADER, data, n);
        len += JOURNAL_FRAME_HEADER + n;
        data += n;
        size -= n;
    }
    *out_len = len;
    return out;
}

/* True when a whole commit record (its covered bytes matching) is at p. */
static bool
s_whole_commit_at (const uint8_t *data, size_t at, size_t size)
{
    journal_frame_t frame;
    if (journal_frame_parse (data + at, size - at, &frame) != JOURNAL_FRAME_OK || !frame.commit
        || frame.seq == 0 || frame.seq > at)
        return false;
    uint8_t again[JOURNAL_COMMIT_SIZE];
    journal_commit_record (again, data + at - frame.seq, (size_t)frame.seq);
    return memcmp (again, data + at, JOURNAL_COMMIT_SIZE) == 0;
}

static void s_check_journal (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1) {
        size_t len;
        uint8_t *journal = s_frame_records (data + 1, size - 1, &len);
        s_check_journal (journal, len);
        free (journal);
    } else
        s_check_journal (data + 1, size - 1);
    return 0;
}

static void
s_check_journal (const uint8_t *data, size_t size)
{
    size_t off = 0;
    journal_frame_t frame;
    bool whole_commit = false;
    while (journal_frame_parse (data + off, size - off, &frame) == JOURNAL_FRAME_OK) {
        FUZZ_CHECK (FUZZ_INSIDE (frame.payload, frame.len, data, size));
        if (frame.commit) {
            FUZZ_CHECK (frame.len == 4 && frame.size == JOURNAL_COMMIT_SIZE);
            whole_commit = whole_commit || s_whole_commit_at (data, off, size);
            off += frame.size;
            continue;
        }
        uint8_t header[JOURNAL_FRAME_HEADER];
        journal_frame_header (header, frame.seq, frame.payload, frame.len);
        FUZZ_CHECK (memcmp (header, data + off, JOURNAL_FRAME_HEADER) == 0);
        s_check_payload (frame.payload, frame.len);
        off += frame.size;
    }

    persist_check_t check;
    int rc = persist_check_bytes ("fuzz", data, size, &check);
    const journal_scan_t *scan = &check.scan;
    FUZZ_CHECK (check.acked <= check.head);
    if (rc == 0) {
        FUZZ_CHECK (!scan->corrupt);
        FUZZ_CHECK (scan->bytes <= size);
        if (scan->torn)
            FUZZ_CHECK (scan->torn_offset == scan->bytes
                        && scan->torn_offset + scan->torn_bytes == size && scan->ahead_bytes == 0);
        else
            FUZZ_CHECK (scan->bytes + scan->ahead_bytes == size);
        for (size_t i = scan->bytes; !scan->torn && i < size; i++)
            FUZZ_CHECK (data[i] == 0); /* only zeros are cut without a warning */
        /* Kept bytes end where a record ends: on a whole commit's record
           once the leading valid records hold one. */
        if (scan->commits > 0)
            FUZZ_CHECK (s_whole_commit_at (data, scan->bytes - JOURNAL_COMMIT_SIZE, size));
        if (whole_commit)
            FUZZ_CHECK (scan->commits > 0);
        FUZZ_CHECK (check.events == 0 || check.have_header);
        /* What was cut was never replayed: the kept bytes alone give the
           same state, and are a journal with nothing to cut. */
        persist_check_t kept;
        FUZZ_CHECK (persist_check_bytes ("fuzz", data, scan->bytes, &kept) == 0);
        FUZZ_CHECK (!kept.scan.torn && kept.scan.ahead_bytes == 0);
        FUZZ_CHECK (kept.scan.bytes == scan->bytes && kept.scan.records == scan->records);
        FUZZ_CHECK (kept.events == check.events && kept.head == check.head
                    && kept.acked == check.acked);
    } else {
        FUZZ_CHECK (scan->corrupt && scan->message[0] != '\0');
        FUZZ_CHECK (scan->corrupt_offset < size);
    }
}
