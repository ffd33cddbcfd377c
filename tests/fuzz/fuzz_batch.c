/*
 * fuzz_batch — see fuzz_batch.h.
 */
#include "fuzz_batch.h"

#include "fuzz_check.h"
#include "proto.h"
#include "proto_wire.h"

#include <string.h>

void
fuzz_check_batch (const uint8_t *data, size_t size, bool is_reply)
{
    static proto_str_t frames[PROTO_BATCH_MAX], generic[PROTO_BATCH_MAX], again[PROTO_BATCH_MAX];
    uint64_t rid, generic_rid;
    size_t n, generic_n;
    proto_error_t err, generic_err;
    proto_decode_t rc =
        proto_batch_decode (data, size, is_reply, PROTO_BATCH_MAX, &rid, frames, &n, &err);
    wire_set_generic_only (true);
    FUZZ_CHECK (proto_batch_decode (data, size, is_reply, PROTO_BATCH_MAX, &generic_rid, generic,
                                    &generic_n, &generic_err)
                == rc);
    wire_set_generic_only (false);
    FUZZ_CHECK (strcmp (err.message, generic_err.message) == 0);
    FUZZ_CHECK (err.has_rid == generic_err.has_rid && err.rid == generic_err.rid);
    FUZZ_CHECK (n == generic_n);
    if (rc != PROTO_DECODE_OK) {
        FUZZ_CHECK (err.message[0] != '\0');
        FUZZ_CHECK (n == 0);
        return;
    }
    FUZZ_CHECK (rid == generic_rid);
    FUZZ_CHECK (n >= 1 && n <= PROTO_BATCH_MAX);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK (frames[i].len >= 1);
        FUZZ_CHECK (FUZZ_INSIDE (frames[i].ptr, frames[i].len, data, size));
        FUZZ_CHECK (frames[i].ptr == generic[i].ptr && frames[i].len == generic[i].len);
    }
    /* A smaller limit refuses it exactly when it carries more. */
    size_t fewer;
    FUZZ_CHECK (
        (proto_batch_decode (data, size, is_reply, 1, &rid, again, &fewer, NULL) == PROTO_DECODE_OK)
        == (n == 1));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    FUZZ_CHECK (proto_batch_begin (rid, is_reply, n, &sb) == 0);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK (proto_batch_append (frames[i].ptr, frames[i].len, &sb) == 0);
    uint64_t rid_again;
    size_t n_again;
    FUZZ_CHECK (proto_batch_decode (sb.data, sb.size, is_reply, PROTO_BATCH_MAX, &rid_again, again,
                                    &n_again, &err)
                == PROTO_DECODE_OK);
    FUZZ_CHECK (rid_again == rid && n_again == n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK (again[i].len == frames[i].len
                    && memcmp (again[i].ptr, frames[i].ptr, frames[i].len) == 0);
    msgpack_sbuffer_destroy (&sb);
}
