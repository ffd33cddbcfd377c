/*
 * proto_journal — see proto_journal.h. Built on proto_wire's checked
 * unpack and typed readers, like the request and reply codecs.
 */
#include "proto_journal.h"

#include "proto_wire.h"

#include <string.h>

#define S_DEPTH 2 /* record map → event map */

static const char *s_type_names[PROTO_JOURNAL_TYPE_COUNT_] = {
    [PROTO_JOURNAL_HEADER] = "header",   [PROTO_JOURNAL_CREATED] = "created",
    [PROTO_JOURNAL_UPDATED] = "updated", [PROTO_JOURNAL_ACK] = "ack",
    [PROTO_JOURNAL_EVENT] = "event",     [PROTO_JOURNAL_FEED] = "feed",
    [PROTO_JOURNAL_TAIL] = "tail",
};

const char *
proto_journal_type_name (proto_journal_type_t type)
{
    if (type <= 0 || type >= PROTO_JOURNAL_TYPE_COUNT_)
        return "?";
    return s_type_names[type];
}

static bool
s_has_event (proto_journal_type_t type)
{
    return type == PROTO_JOURNAL_CREATED || type == PROTO_JOURNAL_UPDATED
           || type == PROTO_JOURNAL_EVENT;
}

int
proto_journal_encode (const proto_journal_record_t *rec, msgpack_sbuffer *out)
{
    if (rec->type <= 0 || rec->type >= PROTO_JOURNAL_TYPE_COUNT_)
        return -1;
    if (rec->type == PROTO_JOURNAL_TAIL && rec->n_slots > PROTO_JOURNAL_TAIL_MAX)
        return -1;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    size_t entries = 2;
    switch (rec->type) {
    case PROTO_JOURNAL_HEADER:
    case PROTO_JOURNAL_FEED:
    case PROTO_JOURNAL_TAIL:
        entries += 2;
        break;
    case PROTO_JOURNAL_ACK:
        break;
    default:
        entries += 1; /* event */
    }
    int rc = msgpack_pack_map (&pk, entries);
    rc |= wire_pack_key (&pk, PROTO_KEY_V);
    rc |= msgpack_pack_uint8 (&pk, PROTO_VERSION);
    rc |= wire_pack_key (&pk, PROTO_KEY_TYPE);
    rc |= wire_pack_cstr (&pk, s_type_names[rec->type]);
    switch (rec->type) {
    case PROTO_JOURNAL_HEADER:
        rc |= wire_pack_key (&pk, PROTO_KEY_FORMAT);
        rc |= msgpack_pack_uint64 (&pk, rec->format);
        rc |= wire_pack_key (&pk, PROTO_KEY_STORE_ID);
        rc |= wire_pack_uuid (&pk, rec->store_id);
        break;
    case PROTO_JOURNAL_FEED:
        rc |= wire_pack_key (&pk, PROTO_KEY_ACKED);
        rc |= msgpack_pack_uint64 (&pk, rec->acked);
        rc |= wire_pack_key (&pk, PROTO_KEY_HEAD);
        rc |= msgpack_pack_uint64 (&pk, rec->head);
        break;
    case PROTO_JOURNAL_TAIL:
        rc |= wire_pack_key (&pk, PROTO_KEY_FROM);
        rc |= msgpack_pack_uint64 (&pk, rec->from);
        rc |= wire_pack_key (&pk, PROTO_KEY_SLOTS);
        rc |= msgpack_pack_bin_with_body (&pk, rec->slots, rec->n_slots * 4);
        break;
    case PROTO_JOURNAL_ACK:
        break;
    default:
        rc |= wire_pack_key (&pk, PROTO_KEY_EVENT);
        rc |= wire_pack_event (&pk, &rec->event);
    }
    return rc ? -1 : 0;
}

static proto_decode_t
s_uint (const wire_map_t *m, proto_key_t key, uint64_t *out, proto_error_t *err)
{
    const msgpack_object *o = wire_present (m, key);
    if (!o)
        return wire_fail (err, PROTO_DECODE_MALFORMED, key,
                          "journal record: field '%s' is required", wire_key_name (key));
    return wire_read_uint (o, key, out, err);
}

/* Decodes the members of rec->type from the indexed map m. */
static proto_decode_t
s_members (const wire_map_t *m, proto_journal_record_t *rec, proto_error_t *err)
{
    static const proto_limits_t cap = { PROTO_LIMIT_CAP, PROTO_LIMIT_CAP, PROTO_LIMIT_CAP };
    proto_decode_t rc;
    const msgpack_object *o;
    if (s_has_event (rec->type)) {
        if (!(o = wire_present (m, PROTO_KEY_EVENT)))
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_EVENT,
                              "journal record: field 'event' is required");
        return wire_event_decode (o, &cap, &rec->event, err);
    }
    switch (rec->type) {
    case PROTO_JOURNAL_HEADER:
        if ((rc = s_uint (m, PROTO_KEY_FORMAT, &rec->format, err)))
            return rc;
        if (rec->format < 1 || rec->format > PROTO_JOURNAL_FORMAT)
            return wire_fail (err, PROTO_DECODE_VERSION, PROTO_KEY_FORMAT,
                              "journal format %llu, this store reads formats 1 to %d",
                              (unsigned long long)rec->format, PROTO_JOURNAL_FORMAT);
        if (!(o = wire_present (m, PROTO_KEY_STORE_ID)))
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STORE_ID,
                              "journal record: field 'store_id' is required");
        return wire_read_uuid (o, PROTO_KEY_STORE_ID, rec->store_id, err);
    case PROTO_JOURNAL_FEED:
        if ((rc = s_uint (m, PROTO_KEY_ACKED, &rec->acked, err))
            || (rc = s_uint (m, PROTO_KEY_HEAD, &rec->head, err)))
            return rc;
        if (rec->acked > rec->head)
            return wire_fail (err, PROTO_DECODE_INVALID, PROTO_KEY_ACKED,
                              "feed cursor %llu is beyond its head %llu",
                              (unsigned long long)rec->acked, (unsigned long long)rec->head);
        return PROTO_DECODE_OK;
    case PROTO_JOURNAL_TAIL:
        if ((rc = s_uint (m, PROTO_KEY_FROM, &rec->from, err)))
            return rc;
        if (rec->from == 0)
            return wire_fail (err, PROTO_DECODE_INVALID, PROTO_KEY_FROM, "tail starts at seq 0");
        if (!(o = wire_present (m, PROTO_KEY_SLOTS)) || o->type != MSGPACK_OBJECT_BIN)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_SLOTS,
                              "journal record: field 'slots' must be bin");
        if (o->via.bin.size % 4 != 0 || o->via.bin.size / 4 > PROTO_JOURNAL_TAIL_MAX
            || o->via.bin.size == 0)
            return wire_fail (err, PROTO_DECODE_INVALID, PROTO_KEY_SLOTS,
                              "tail of %u bytes is not 1..%d slots of 4 bytes", o->via.bin.size,
                              PROTO_JOURNAL_TAIL_MAX);
        rec->slots = (const uint8_t *)o->via.bin.ptr;
        rec->n_slots = o->via.bin.size / 4;
        return PROTO_DECODE_OK;
    default: /* ack: the seq is the frame's */
        return PROTO_DECODE_OK;
    }
}

proto_decode_t
proto_journal_decode (const void *buf, size_t len, proto_journal_record_t *rec, proto_error_t *err)
{
    proto_error_t scratch;
    err = wire_error_begin (err, &scratch);
    memset (rec, 0, sizeof *rec);
    wire_pool_t pool;
    msgpack_unpacked unpacked;
    const msgpack_object *root;
    wire_map_t m;
    proto_str_t type;
    proto_decode_t rc = wire_unpack_any (buf, len, S_DEPTH, &pool, &unpacked, &root, err);
    if (rc || (rc = wire_map_index (root, "journal record", &m, err))
        || (rc = wire_version (&m, err)))
        goto done;
    const msgpack_object *o = wire_present (&m, PROTO_KEY_TYPE);
    if (!o) {
        rc = wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_TYPE,
                        "journal record: field 'type' is required");
        goto done;
    }
    if ((rc = wire_read_str (o, PROTO_KEY_TYPE, &type, err)))
        goto done;
    for (int t = 1; t < PROTO_JOURNAL_TYPE_COUNT_; t++)
        if (type.len == strlen (s_type_names[t])
            && memcmp (type.ptr, s_type_names[t], type.len) == 0)
            rec->type = (proto_journal_type_t)t;
    if (rec->type == 0) {
        rc = wire_fail (err, PROTO_DECODE_UNKNOWN_OP, PROTO_KEY_TYPE,
                        "journal record: unknown type '%.*s'", (int)type.len, type.ptr);
        goto done;
    }
    rc = s_members (&m, rec, err);
done:
    msgpack_unpacked_destroy (&unpacked);
    if (rc != PROTO_DECODE_OK)
        memset (rec, 0, sizeof *rec);
    return rc;
}
