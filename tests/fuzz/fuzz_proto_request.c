/*
 * fuzz_proto_request — proto_request_decode on arbitrary bytes, the store's
 * first contact with every client frame.
 *
 * Beyond memory safety (ASan, UBSan, libFuzzer's malloc limit) it checks
 * the codec's contract: a failure always explains itself; decoded strings
 * point into the input and pass the string checks; a decoded request
 * re-encodes into a frame that decodes to the same request; and the
 * small-frame reader (no msgpack-c, wire_unpack_small) agrees with
 * msgpack-c on every input: the same result, error and request. Every input
 * is also read as a batch (fuzz_batch.h); a request that decodes as op
 * batch is not re-encoded as a request (its frames are the batch's).
 * proto_request_peek, the store's hints, reads the same bytes: it stays
 * inside them and agrees with the decoder on the id, a create's user and
 * the receipt; proto_request_peek_event_id, _user_id and _receipt give its
 * answers one by one.
 */
#include "fuzz_batch.h"
#include "fuzz_check.h"
#include "proto.h"
#include "proto_wire.h"

#include <string.h>

static void
s_same_str (proto_str_t a, proto_str_t b)
{
    FUZZ_CHECK (a.len == b.len);
    FUZZ_CHECK (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_check_batch (data, size, false);
    proto_limits_t limits = proto_limits_default ();
    proto_request_t req;
    proto_error_t err;
    proto_decode_t rc = proto_request_decode (data, size, &limits, &req, &err);
    proto_request_t generic;
    proto_error_t generic_err;
    wire_set_generic_only (true);
    FUZZ_CHECK (proto_request_decode (data, size, &limits, &generic, &generic_err) == rc);
    wire_set_generic_only (false);
    FUZZ_CHECK (strcmp (err.message, generic_err.message) == 0);
    FUZZ_CHECK (strcmp (err.field, generic_err.field) == 0);
    FUZZ_CHECK (err.has_rid == generic_err.has_rid && err.rid == generic_err.rid);
    FUZZ_CHECK (req.op == generic.op && req.rid == generic.rid && req.has == generic.has);
    FUZZ_CHECK (memcmp (req.event_id, generic.event_id, 16) == 0);
    FUZZ_CHECK (memcmp (req.after, generic.after, 16) == 0);
    FUZZ_CHECK (memcmp (req.store_id, generic.store_id, 16) == 0);
    FUZZ_CHECK (memcmp (req.receipt, generic.receipt, 16) == 0);
    FUZZ_CHECK (req.limit == generic.limit && req.max == generic.max);
    FUZZ_CHECK (req.from == generic.from && req.seq == generic.seq);
    FUZZ_CHECK (req.user_id.ptr == generic.user_id.ptr && req.user_id.len == generic.user_id.len);
    FUZZ_CHECK (req.description.ptr == generic.description.ptr
                && req.description.len == generic.description.len);
    FUZZ_CHECK (req.status.ptr == generic.status.ptr && req.status.len == generic.status.len);
    FUZZ_CHECK (req.request_id.ptr == generic.request_id.ptr
                && req.request_id.len == generic.request_id.len);
    /* The store's hints: never past the end (ASan), and when the frame
       decodes with an event_id, an id found is that one. */
    proto_request_hints_t hints;
    proto_request_peek (data, size, &hints);
    if (hints.has_event_id && rc == PROTO_DECODE_OK && (req.has & PROTO_HAS_EVENT_ID))
        FUZZ_CHECK (memcmp (hints.event_id, req.event_id, 16) == 0);
    /* A create's user, the same way: a pointer into the bytes, and when
       the frame decodes as a create, its user_id. */
    proto_str_t user = hints.user_id;
    if (user.ptr)
        FUZZ_CHECK ((const uint8_t *)user.ptr >= data
                    && (const uint8_t *)user.ptr + user.len <= data + size);
    if (user.ptr && rc == PROTO_DECODE_OK && req.op == PROTO_OP_CREATE
        && (req.has & PROTO_HAS_USER_ID))
        FUZZ_CHECK (user.len == req.user_id.len
                    && memcmp (user.ptr, req.user_id.ptr, user.len) == 0);
    /* The receipt the store applies before it decodes: the same rule. */
    if (hints.has_receipt && rc == PROTO_DECODE_OK && (req.has & PROTO_HAS_RECEIPT))
        FUZZ_CHECK (memcmp (hints.receipt, req.receipt, 16) == 0);
    /* The one-hint forms answer the same. */
    uint8_t one[16];
    proto_str_t one_user;
    FUZZ_CHECK (proto_request_peek_event_id (data, size, one) == hints.has_event_id);
    FUZZ_CHECK (!hints.has_event_id || memcmp (one, hints.event_id, 16) == 0);
    FUZZ_CHECK (proto_request_peek_user_id (data, size, &one_user) == (user.ptr != NULL));
    FUZZ_CHECK (!user.ptr || (one_user.ptr == user.ptr && one_user.len == user.len));
    FUZZ_CHECK (proto_request_peek_receipt (data, size, one) == hints.has_receipt);
    FUZZ_CHECK (!hints.has_receipt || memcmp (one, hints.receipt, 16) == 0);
    if (rc != PROTO_DECODE_OK) {
        FUZZ_CHECK (err.message[0] != '\0');
        FUZZ_CHECK (memchr (err.message, '\0', sizeof err.message) != NULL);
        FUZZ_CHECK (memchr (err.field, '\0', sizeof err.field) != NULL);
        return 0;
    }
    FUZZ_CHECK (req.op > PROTO_OP_NONE && req.op < PROTO_OP_COUNT_);
    const proto_str_t *strs[] = { &req.user_id, &req.description, &req.status };
    const unsigned bits[] = { PROTO_HAS_USER_ID, PROTO_HAS_DESCRIPTION, PROTO_HAS_STATUS };
    const size_t maxes[] = { limits.user_id_max, limits.description_max, limits.status_max };
    for (int i = 0; i < 3; i++)
        if (req.has & bits[i]) {
            FUZZ_CHECK (FUZZ_INSIDE (strs[i]->ptr, strs[i]->len, data, size));
            FUZZ_CHECK (proto_check_string (strs[i]->ptr, strs[i]->len, maxes[i]) == PROTO_STR_OK);
        }
    if (req.has & PROTO_HAS_LIMIT)
        FUZZ_CHECK (req.limit >= 1 && req.limit <= PROTO_LIST_LIMIT_MAX);
    if (req.has & PROTO_HAS_MAX)
        FUZZ_CHECK (req.max >= 1 && req.max <= PROTO_FEED_READ_MAX);
    if (req.op == PROTO_OP_BATCH)
        return 0;

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    FUZZ_CHECK (proto_request_encode (&req, &sb) == 0);
    proto_request_t again;
    FUZZ_CHECK (proto_request_decode (sb.data, sb.size, &limits, &again, &err) == PROTO_DECODE_OK);
    FUZZ_CHECK (again.op == req.op && again.rid == req.rid && again.has == req.has);
    FUZZ_CHECK (memcmp (again.event_id, req.event_id, 16) == 0);
    FUZZ_CHECK (memcmp (again.after, req.after, 16) == 0);
    FUZZ_CHECK (again.limit == req.limit && again.max == req.max);
    FUZZ_CHECK (again.from == req.from && again.seq == req.seq);
    s_same_str (again.user_id, req.user_id);
    s_same_str (again.description, req.description);
    s_same_str (again.status, req.status);
    msgpack_sbuffer_destroy (&sb);
    return 0;
}
