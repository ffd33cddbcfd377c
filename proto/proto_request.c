/*
 * proto_request — the store request codec.
 *
 * Decoding runs in a fixed order so that the same bad frame always gets the
 * same answer: frame shape (pre-scan, msgpack-c), map keys, "v", "rid",
 * "op", then the fields the op takes, in the order of s_fields. When the
 * map fails any of these, its rid is looked for on its own (s_peek_rid), so
 * that even a request rejected for its version or a bad field gets a reply
 * the client can match.
 *
 * Fields an op does not take are ignored like unknown keys (they are still
 * subject to the no-duplicate rule); a nil value is the same as an absent
 * key. The op table below is the one PROTOCOL.md documents.
 */
#include "proto_wire.h"

#include <stdio.h>
#include <string.h>

typedef enum { S_UUID, S_TEXT, S_COUNT, S_U64, S_REQUEST_ID, S_RECEIPT } s_kind_t;

typedef struct {
    unsigned bit; /* PROTO_HAS_* */
    proto_key_t key;
    s_kind_t kind;
    uint32_t count_max; /* S_COUNT: inclusive upper bound (lower bound 1) */
} s_field_t;

static const s_field_t s_fields[] = {
    { PROTO_HAS_EVENT_ID, PROTO_KEY_EVENT_ID, S_UUID, 0 },
    { PROTO_HAS_USER_ID, PROTO_KEY_USER_ID, S_TEXT, 0 },
    { PROTO_HAS_DESCRIPTION, PROTO_KEY_DESCRIPTION, S_TEXT, 0 },
    { PROTO_HAS_STATUS, PROTO_KEY_STATUS, S_TEXT, 0 },
    { PROTO_HAS_AFTER, PROTO_KEY_AFTER, S_UUID, 0 },
    { PROTO_HAS_LIMIT, PROTO_KEY_LIMIT, S_COUNT, PROTO_LIST_LIMIT_MAX },
    { PROTO_HAS_FROM, PROTO_KEY_FROM, S_U64, 0 },
    { PROTO_HAS_MAX, PROTO_KEY_MAX, S_COUNT, PROTO_FEED_READ_MAX },
    { PROTO_HAS_SEQ, PROTO_KEY_SEQ, S_U64, 0 },
    { PROTO_HAS_STORE_ID, PROTO_KEY_STORE_ID, S_UUID, 0 },
    { PROTO_HAS_REQUEST_ID, PROTO_KEY_REQUEST_ID, S_REQUEST_ID, 0 },
    { PROTO_HAS_RECEIPT, PROTO_KEY_RECEIPT, S_RECEIPT, 0 },
};
#define S_FIELD_COUNT (sizeof s_fields / sizeof s_fields[0])

/* Which fields each op takes, and which of those it requires. */
static const struct {
    unsigned takes;
    unsigned requires;
} s_ops[PROTO_OP_COUNT_] = {
    [PROTO_OP_CREATE] = { PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_REQUEST_ID,
                          PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION },
    [PROTO_OP_GET] = { PROTO_HAS_EVENT_ID, PROTO_HAS_EVENT_ID },
    [PROTO_OP_UPDATE] = { PROTO_HAS_EVENT_ID | PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION
                              | PROTO_HAS_STATUS | PROTO_HAS_REQUEST_ID,
                          PROTO_HAS_EVENT_ID },
    [PROTO_OP_LIST] = { PROTO_HAS_USER_ID | PROTO_HAS_STATUS | PROTO_HAS_AFTER | PROTO_HAS_LIMIT
                            | PROTO_HAS_RECEIPT,
                        0 },
    [PROTO_OP_FEED_READ] = { PROTO_HAS_FROM | PROTO_HAS_MAX | PROTO_HAS_RECEIPT, 0 },
    [PROTO_OP_FEED_ACK] = { PROTO_HAS_SEQ | PROTO_HAS_STORE_ID, PROTO_HAS_SEQ },
    /* batch: its frames are read by proto_batch_decode (proto_batch.c) */
};

static size_t
s_text_max (const proto_limits_t *limits, unsigned bit)
{
    switch (bit) {
    case PROTO_HAS_USER_ID:
        return limits->user_id_max;
    case PROTO_HAS_DESCRIPTION:
        return limits->description_max;
    default:
        return limits->status_max;
    }
}

/* Where each field lands in the request. */
static void *
s_slot (proto_request_t *req, unsigned bit)
{
    switch (bit) {
    case PROTO_HAS_EVENT_ID:
        return req->event_id;
    case PROTO_HAS_USER_ID:
        return &req->user_id;
    case PROTO_HAS_DESCRIPTION:
        return &req->description;
    case PROTO_HAS_STATUS:
        return &req->status;
    case PROTO_HAS_AFTER:
        return req->after;
    case PROTO_HAS_LIMIT:
        return &req->limit;
    case PROTO_HAS_FROM:
        return &req->from;
    case PROTO_HAS_MAX:
        return &req->max;
    case PROTO_HAS_STORE_ID:
        return req->store_id;
    case PROTO_HAS_REQUEST_ID:
        return &req->request_id;
    case PROTO_HAS_RECEIPT:
        return req->receipt;
    default:
        return &req->seq;
    }
}

static proto_decode_t
s_read_field (const s_field_t *f, const msgpack_object *o, const proto_limits_t *limits,
              proto_request_t *req, proto_error_t *err)
{
    void *slot = s_slot (req, f->bit);
    uint64_t n;
    proto_decode_t rc;
    switch (f->kind) {
    case S_UUID:
        return wire_read_uuid (o, f->key, slot, err);
    case S_TEXT:
        return wire_read_text (o, f->key, s_text_max (limits, f->bit), slot, err);
    case S_REQUEST_ID:
        return wire_read_request_id (o, f->key, slot, err);
    case S_RECEIPT:
        return wire_read_receipt (o, f->key, slot, err);
    case S_U64:
        return wire_read_uint (o, f->key, slot, err);
    case S_COUNT:
        if ((rc = wire_read_uint (o, f->key, &n, err)) != PROTO_DECODE_OK) {
            if (rc == PROTO_DECODE_INVALID) /* negative */
                snprintf (err->message, sizeof err->message,
                          "Input should be greater than or equal to 1");
            return rc;
        }
        if (n < 1)
            return wire_fail (err, PROTO_DECODE_INVALID, f->key,
                              "Input should be greater than or equal to 1");
        if (n > f->count_max)
            return wire_fail (err, PROTO_DECODE_INVALID, f->key,
                              "Input should be less than or equal to %u", (unsigned)f->count_max);
        *(uint32_t *)slot = (uint32_t)n;
        return PROTO_DECODE_OK;
    }
    return PROTO_DECODE_MALFORMED;
}

/* Reads "rid" from a map that failed to decode, for the error reply: the
   rid whatever else is wrong, unless it repeats or is not a uint. */
static void
s_peek_rid (const msgpack_object *root, proto_error_t *err)
{
    const msgpack_object_map *m = &root->via.map;
    const msgpack_object *found = NULL;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 3
            && memcmp (k->via.str.ptr, "rid", 3) == 0) {
            if (found)
                return; /* duplicate: no trustworthy rid */
            found = &m->ptr[i].val;
        }
    }
    if (found && found->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        err->rid = found->via.u64;
        err->has_rid = true;
    }
}

/* Copies a client string into a message, printable ASCII only. */
static void
s_printable (const char *ptr, size_t len, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < size; i++)
        out[n++] = (ptr[i] >= 0x20 && ptr[i] < 0x7f) ? ptr[i] : '?';
    out[n] = '\0';
}

static proto_decode_t
s_decode_fields (const msgpack_object *root, const proto_limits_t *limits, proto_request_t *req,
                 proto_error_t *err)
{
    wire_map_t m;
    proto_decode_t rc = wire_map_index (root, "request", &m, err);
    if (rc != PROTO_DECODE_OK)
        return rc;

    if ((rc = wire_version (&m, err)) != PROTO_DECODE_OK)
        return rc;

    const msgpack_object *rid = wire_present (&m, PROTO_KEY_RID);
    if (!rid)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_RID, "field 'rid' is required");
    if (rid->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_RID,
                          "field 'rid': expected unsigned integer");
    req->rid = rid->via.u64;

    const msgpack_object *op = wire_present (&m, PROTO_KEY_OP);
    if (!op)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_OP, "field 'op' is required");
    proto_str_t name;
    if ((rc = wire_read_str (op, PROTO_KEY_OP, &name, err)) != PROTO_DECODE_OK)
        return rc;
    req->op = proto_op_lookup (name.ptr, name.len);
    if (req->op == PROTO_OP_NONE) {
        char shown[40];
        s_printable (name.ptr, name.len, shown, sizeof shown);
        return wire_fail (err, PROTO_DECODE_UNKNOWN_OP, PROTO_KEY_OP, "unknown op '%s'", shown);
    }

    unsigned takes = s_ops[req->op].takes;
    for (size_t i = 0; i < S_FIELD_COUNT; i++) {
        const s_field_t *f = &s_fields[i];
        if (!(takes & f->bit))
            continue;
        const msgpack_object *o = wire_present (&m, f->key);
        if (!o) {
            if (s_ops[req->op].requires & f->bit)
                return wire_fail (err, PROTO_DECODE_INVALID, f->key, "Field required");
            continue;
        }
        if ((rc = s_read_field (f, o, limits, req, err)) != PROTO_DECODE_OK)
            return rc;
        req->has |= f->bit;
    }
    if (req->op == PROTO_OP_UPDATE
        && !(req->has & (PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_STATUS)))
        return wire_fail (err, PROTO_DECODE_INVALID, PROTO_KEY_COUNT_,
                          "At least one of status, user_id, description is required");
    return PROTO_DECODE_OK;
}

/* The fields of the request map root; a failure also says the rid when it
   can be trusted (s_peek_rid), for the error reply. */
static proto_decode_t
s_decode_map (const msgpack_object *root, const proto_limits_t *limits, proto_request_t *req,
              proto_error_t *err)
{
    proto_decode_t rc = s_decode_fields (root, limits, req, err);
    if (rc != PROTO_DECODE_OK)
        s_peek_rid (root, err);
    return rc;
}

proto_decode_t
proto_request_decode (const void *buf, size_t len, const proto_limits_t *limits,
                      proto_request_t *req, proto_error_t *err)
{
    proto_error_t scratch;
    err = wire_error_begin (err, &scratch);
    memset (req, 0, sizeof *req);
    proto_limits_t defaults;
    if (!limits) {
        defaults = proto_limits_default ();
        limits = &defaults;
    }
    wire_pool_t pool;
    msgpack_unpacked unpacked;
    const msgpack_object *root;
    proto_decode_t rc =
        wire_unpack_any (buf, len, WIRE_DEPTH_REQUEST, &pool, &unpacked, &root, err);
    if (rc == PROTO_DECODE_OK)
        rc = s_decode_map (root, limits, req, err);
    msgpack_unpacked_destroy (&unpacked);
    if (rc != PROTO_DECODE_OK) {
        uint64_t rid = req->rid;
        memset (req, 0, sizeof *req);
        req->rid = rid;
    }
    return rc;
}

int
proto_request_encode (const proto_request_t *req, msgpack_sbuffer *out)
{
    if ((unsigned)req->op >= PROTO_OP_COUNT_ || req->op == PROTO_OP_NONE
        || req->op == PROTO_OP_BATCH) /* proto_batch_begin / _append */
        return -1;
    size_t start = out->size;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    uint32_t entries = 3;
    for (size_t i = 0; i < S_FIELD_COUNT; i++)
        if (req->has & s_fields[i].bit)
            entries++;
    int rc = wire_pack_head (&pk, entries, proto_op_name (req->op), req->rid, NULL);
    proto_request_t copy = *req; /* s_slot wants a mutable request */
    for (size_t i = 0; i < S_FIELD_COUNT; i++) {
        const s_field_t *f = &s_fields[i];
        if (!(req->has & f->bit))
            continue;
        void *slot = s_slot (&copy, f->bit);
        rc |= wire_pack_key (&pk, f->key);
        switch (f->kind) {
        case S_UUID:
            rc |= wire_pack_uuid (&pk, slot);
            break;
        case S_RECEIPT:
            rc |= wire_pack_receipt (&pk, slot);
            break;
        case S_TEXT:
        case S_REQUEST_ID:
            rc |= wire_pack_str (&pk, *(proto_str_t *)slot);
            break;
        case S_COUNT:
            rc |= msgpack_pack_uint32 (&pk, *(uint32_t *)slot);
            break;
        case S_U64:
            rc |= msgpack_pack_uint64 (&pk, *(uint64_t *)slot);
            break;
        }
    }
    if (rc != 0) {
        out->size = start;
        return -1;
    }
    return 0;
}

/* ---- The hints --------------------------------------------------------- */

/* Whether text is the n-byte name (n the literal's length). */
static bool
s_is (proto_str_t text, const char *name, size_t n)
{
    return text.ptr && text.len == n && memcmp (text.ptr, name, n) == 0;
}

#define S_IS(text, literal) s_is ((text), (literal), sizeof (literal) - 1)

/* The hints read in one walk of the top map of a request frame made of
   scalars, stopping at its end, at any container, at a key that is not a
   string or at bytes that are not MessagePack. Each hint is decided by the
   first entry of its key, unless an "op" entry before it named another op
   (an op named after it is not seen, as encoders write the op first). */
void
proto_request_peek (const void *buf, size_t len, proto_request_hints_t *hints)
{
    *hints = (proto_request_hints_t){ .user_id = PROTO_STR_NONE };
    const uint8_t *p = buf;
    size_t entries, at;
    if (!buf || len == 0)
        return;
    if ((p[0] & 0xf0) == 0x80) {
        entries = p[0] & 0x0f;
        at = 1;
    } else if (p[0] == 0xde && len >= 3) {
        entries = (size_t)p[1] << 8 | p[2];
        at = 3;
    } else
        return;
    /* Per hint: its key was met (decided), or an op not its own was. */
    bool id_done = false, user_done = false, receipt_done = false;
    proto_str_t id = PROTO_STR_NONE, receipt = PROTO_STR_NONE;
    for (size_t i = 0; i < entries && !(id_done && user_done && receipt_done); i++) {
        proto_str_t k, value;
        size_t n = wire_item (p + at, len - at, &k);
        if (n == 0 || !k.ptr)
            break;
        at += n;
        if ((n = wire_item (p + at, len - at, &value)) == 0)
            break;
        at += n;
        if (S_IS (k, "op")) {
            id_done |= !S_IS (value, "get") && !S_IS (value, "update");
            user_done |= !S_IS (value, "create");
            receipt_done |= !S_IS (value, "list") && !S_IS (value, "feed_read");
        } else if (!id_done && S_IS (k, "event_id")) {
            id = value;
            id_done = true;
        } else if (!user_done && S_IS (k, "user_id")) {
            hints->user_id = value;
            user_done = true;
        } else if (!receipt_done && S_IS (k, "receipt")) {
            receipt = value;
            receipt_done = true;
        }
    }
    hints->has_event_id = id.ptr && proto_uuid_parse (id.ptr, id.len, hints->event_id) == 0;
    hints->has_receipt =
        receipt.ptr && proto_receipt_parse (receipt.ptr, receipt.len, hints->receipt) == 0;
}

bool
proto_request_peek_event_id (const void *buf, size_t len, uint8_t id[16])
{
    proto_request_hints_t hints;
    proto_request_peek (buf, len, &hints);
    if (hints.has_event_id)
        memcpy (id, hints.event_id, 16);
    return hints.has_event_id;
}

bool
proto_request_peek_user_id (const void *buf, size_t len, proto_str_t *user_id)
{
    proto_request_hints_t hints;
    proto_request_peek (buf, len, &hints);
    if (hints.user_id.ptr)
        *user_id = hints.user_id;
    return hints.user_id.ptr != NULL;
}

bool
proto_request_peek_receipt (const void *buf, size_t len, uint8_t receipt[16])
{
    proto_request_hints_t hints;
    proto_request_peek (buf, len, &hints);
    if (hints.has_receipt)
        memcpy (receipt, hints.receipt, 16);
    return hints.has_receipt;
}
