/*
 * proto_fields — the field readers of proto_wire.h: the key names, a
 * decoded map indexed by its keys, each field read with its type and limits
 * checked, and the event map every message carries. The frames themselves (pre-scan,
 * msgpack-c, the small-frame reader) are proto_wire.c's.
 */
#include "proto_wire.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char *const s_key_names[PROTO_KEY_COUNT_] = {
#define S_KEY_NAME(id, text) [PROTO_KEY_##id] = text,
    PROTO_KEYS (S_KEY_NAME)
#undef S_KEY_NAME
};

/* Their lengths, known at compile time: every map key of every message
   is matched against the names and every key packed, so no strlen. */
static const uint8_t s_key_lens[PROTO_KEY_COUNT_] = {
#define S_KEY_LEN(id, text) [PROTO_KEY_##id] = sizeof (text) - 1,
    PROTO_KEYS (S_KEY_LEN)
#undef S_KEY_LEN
};

/* The keys hashed into a table of S_SLOTS (open addressing, linear
   probing): every key of every frame is matched against the names, so a
   key costs one hash and, for a protocol key, one compare. The hash takes
   the first, middle and last bytes and the length; today no two keys
   share a slot, and probing keeps a collision a new key brings correct.
   Filled once, from the two tables above. */
#define S_KEY_LEN_MAX 15
#define S_SLOTS 128
#define S_KEY_LEN_CHECK(id, text)                                                                  \
    _Static_assert(sizeof (text) - 1 <= S_KEY_LEN_MAX, "key '" text "' is too long");
PROTO_KEYS (S_KEY_LEN_CHECK)
#undef S_KEY_LEN_CHECK
_Static_assert(PROTO_KEY_COUNT_ < 255, "key indices + 1 are kept in uint8_t");
_Static_assert(PROTO_KEY_COUNT_ <= S_SLOTS / 2, "the key table is kept at most half full");
_Static_assert(PROTO_KEY_COUNT_ <= 64, "wire_map_t marks the keys present in a uint64_t");
static uint8_t s_slot[S_SLOTS]; /* 1 + the key in that slot, 0: empty */
static pthread_once_t s_slot_once = PTHREAD_ONCE_INIT;

static unsigned
s_hash (const char *name, uint32_t size)
{
    const uint8_t *p = (const uint8_t *)name;
    return (p[0] + 3u * p[size >> 1] + 16u * p[size - 1] + size) & (S_SLOTS - 1);
}

static void
s_slot_fill (void)
{
    for (int k = 0; k < PROTO_KEY_COUNT_; k++) {
        unsigned h = s_hash (s_key_names[k], s_key_lens[k]);
        while (s_slot[h])
            h = (h + 1) & (S_SLOTS - 1);
        s_slot[h] = (uint8_t)(k + 1);
    }
}

/* Whether the n bytes at a and b are the same, n 1..16: two loads of each
   that overlap (a key is a few bytes, compared inline, not through a
   memcmp call). */
static bool
s_same_short (const char *a, const char *b, uint32_t n)
{
    if (n >= 8) {
        uint64_t a0, b0, a1, b1;
        memcpy (&a0, a, 8), memcpy (&b0, b, 8);
        memcpy (&a1, a + n - 8, 8), memcpy (&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 4) {
        uint32_t a0, b0, a1, b1;
        memcpy (&a0, a, 4), memcpy (&b0, b, 4);
        memcpy (&a1, a + n - 4, 4), memcpy (&b1, b + n - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 2) {
        uint16_t a0, b0, a1, b1;
        memcpy (&a0, a, 2), memcpy (&b0, b, 2);
        memcpy (&a1, a + n - 2, 2), memcpy (&b1, b + n - 2, 2);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    return a[0] == b[0];
}

/* The key named (name, size), or -1 when it is none of the protocol's. */
static int
s_key_lookup (const char *name, uint32_t size)
{
    if (size == 0 || size > S_KEY_LEN_MAX)
        return -1;
    for (unsigned h = s_hash (name, size);; h = (h + 1) & (S_SLOTS - 1)) {
        int k = s_slot[h] - 1;
        if (k < 0)
            return -1;
        if (s_key_lens[k] == size && s_same_short (s_key_names[k], name, size))
            return k;
    }
}

const char *
wire_key_name (proto_key_t key)
{
    return (unsigned)key < PROTO_KEY_COUNT_ ? s_key_names[key] : "";
}

size_t
wire_key_len (proto_key_t key)
{
    return (unsigned)key < PROTO_KEY_COUNT_ ? s_key_lens[key] : 0;
}

/* ---- Maps and fields ----------------------------------------------------- */

proto_decode_t
wire_map_index (const msgpack_object *obj, const char *parent, wire_map_t *map, proto_error_t *err)
{
    map->has = 0;
    pthread_once (&s_slot_once, s_slot_fill);
    if (obj->type != MSGPACK_OBJECT_MAP)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_, "%s: expected map",
                          parent);
    const msgpack_object_map *m = &obj->via.map;
    if (m->size > WIRE_MAP_ENTRIES_MAX)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_, "%s: more than %d keys",
                          parent, WIRE_MAP_ENTRIES_MAX);
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *key = &m->ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                              "%s: map key is not a string", parent);
        const char *name = key->via.str.ptr;
        uint32_t size = key->via.str.size;
        int known = s_key_lookup (name, size);
        if (known >= 0) {
            if (map->has >> known & 1)
                return wire_fail (err, PROTO_DECODE_MALFORMED, (proto_key_t)known,
                                  "%s: duplicate key '%s'", parent, s_key_names[known]);
            map->has |= (uint64_t)1 << known;
            map->val[known] = &m->ptr[i].val;
            continue;
        }
        /* Unknown keys are ignored, but may not repeat either; at most
           WIRE_MAP_ENTRIES_MAX of them, so the quadratic check is cheap. */
        for (uint32_t j = 0; j < i; j++) {
            const msgpack_object *other = &m->ptr[j].key;
            /* msgpack-c gives an empty str a NULL pointer: no memcmp then */
            if (other->via.str.size == size
                && (size == 0 || memcmp (other->via.str.ptr, name, size) == 0))
                return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                                  "%s: duplicate key", parent);
        }
    }
    return PROTO_DECODE_OK;
}

const msgpack_object *
wire_present (const wire_map_t *map, proto_key_t key)
{
    if (!(map->has >> key & 1))
        return NULL;
    const msgpack_object *o = map->val[key];
    return o->type != MSGPACK_OBJECT_NIL ? o : NULL;
}

proto_decode_t
wire_version (const wire_map_t *map, proto_error_t *err)
{
    const msgpack_object *v = wire_present (map, PROTO_KEY_V);
    if (!v)
        return wire_fail (err, PROTO_DECODE_VERSION, PROTO_KEY_V,
                          "field 'v' (protocol version) is required");
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != PROTO_VERSION)
        return wire_fail (err, PROTO_DECODE_VERSION, PROTO_KEY_V,
                          "unsupported protocol version (expected %d)", PROTO_VERSION);
    return PROTO_DECODE_OK;
}

proto_decode_t
wire_read_uint (const msgpack_object *o, proto_key_t key, uint64_t *out, proto_error_t *err)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return wire_fail (err, PROTO_DECODE_INVALID, key,
                          "Input should be greater than or equal to 0");
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return wire_fail (err, PROTO_DECODE_MALFORMED, key, "field '%s': expected unsigned integer",
                          wire_key_name (key));
    *out = o->via.u64;
    return PROTO_DECODE_OK;
}

proto_decode_t
wire_read_int (const msgpack_object *o, proto_key_t key, int64_t *out, proto_error_t *err)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        *out = (int64_t)o->via.u64;
    else
        return wire_fail (err, PROTO_DECODE_MALFORMED, key,
                          "field '%s': expected 64-bit signed integer", wire_key_name (key));
    return PROTO_DECODE_OK;
}

proto_decode_t
wire_read_str (const msgpack_object *o, proto_key_t key, proto_str_t *out, proto_error_t *err)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return wire_fail (err, PROTO_DECODE_MALFORMED, key, "field '%s': expected string",
                          wire_key_name (key));
    *out = (proto_str_t){ o->via.str.ptr, o->via.str.size };
    return PROTO_DECODE_OK;
}

proto_decode_t
wire_read_text (const msgpack_object *o, proto_key_t key, size_t max, proto_str_t *out,
                proto_error_t *err)
{
    proto_decode_t rc = wire_read_str (o, key, out, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    proto_str_check_t check = proto_check_string (out->ptr, out->len, max);
    if (check != PROTO_STR_OK) {
        proto_check_message (check, max, err->message, sizeof err->message);
        snprintf (err->field, sizeof err->field, "%s", wire_key_name (key));
        /* An empty string still has a non-NULL pointer into the buffer. */
        return PROTO_DECODE_INVALID;
    }
    return PROTO_DECODE_OK;
}

proto_decode_t
wire_read_request_id (const msgpack_object *o, proto_key_t key, proto_str_t *out,
                      proto_error_t *err)
{
    proto_decode_t rc = wire_read_str (o, key, out, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    if (!proto_request_id_valid (out->ptr, out->len))
        return wire_fail (err, PROTO_DECODE_INVALID, key,
                          "a request id is 1 to %d printable ASCII characters without spaces",
                          PROTO_REQUEST_ID_MAX);
    return PROTO_DECODE_OK;
}

proto_decode_t
wire_read_uuid (const msgpack_object *o, proto_key_t key, uint8_t out[16], proto_error_t *err)
{
    proto_str_t text = PROTO_STR_NONE;
    proto_decode_t rc = wire_read_str (o, key, &text, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    if (proto_uuid_parse (text.ptr, text.len, out) != 0)
        return wire_fail (err, PROTO_DECODE_INVALID, key,
                          "Input should be a valid UUID (8-4-4-4-12 hexadecimal digits)");
    return PROTO_DECODE_OK;
}

proto_decode_t
wire_read_receipt (const msgpack_object *o, proto_key_t key, uint8_t out[16], proto_error_t *err)
{
    proto_str_t text = PROTO_STR_NONE;
    proto_decode_t rc = wire_read_str (o, key, &text, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    if (proto_receipt_parse (text.ptr, text.len, out) != 0)
        return wire_fail (err, PROTO_DECODE_INVALID, key,
                          "Input should be a receipt (%d hexadecimal digits)", PROTO_RECEIPT_LEN);
    return PROTO_DECODE_OK;
}

/* ---- The event map ------------------------------------------------------- */

proto_decode_t
wire_event_decode (const msgpack_object *o, const proto_limits_t *limits, proto_event_t *ev,
                   proto_error_t *err)
{
    wire_map_t m;
    proto_decode_t rc = wire_map_index (o, "event", &m, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    static const proto_key_t required[] = {
        PROTO_KEY_EVENT_ID,   PROTO_KEY_USER_ID,    PROTO_KEY_DESCRIPTION, PROTO_KEY_STATUS,
        PROTO_KEY_CREATED_AT, PROTO_KEY_UPDATED_AT, PROTO_KEY_SEQ,
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!wire_present (&m, required[i]))
            return wire_fail (err, PROTO_DECODE_MALFORMED, required[i],
                              "event: field '%s' is required", wire_key_name (required[i]));
    memset (ev, 0, sizeof *ev);
    if ((rc = wire_read_uuid (wire_present (&m, PROTO_KEY_EVENT_ID), PROTO_KEY_EVENT_ID, ev->id,
                              err))
        || (rc = wire_read_text (wire_present (&m, PROTO_KEY_USER_ID), PROTO_KEY_USER_ID,
                                 limits->user_id_max, &ev->user_id, err))
        || (rc = wire_read_text (wire_present (&m, PROTO_KEY_DESCRIPTION), PROTO_KEY_DESCRIPTION,
                                 limits->description_max, &ev->description, err))
        || (rc = wire_read_text (wire_present (&m, PROTO_KEY_STATUS), PROTO_KEY_STATUS,
                                 limits->status_max, &ev->status, err))
        || (rc = wire_read_int (wire_present (&m, PROTO_KEY_CREATED_AT), PROTO_KEY_CREATED_AT,
                                &ev->created_at, err))
        || (rc = wire_read_int (wire_present (&m, PROTO_KEY_UPDATED_AT), PROTO_KEY_UPDATED_AT,
                                &ev->updated_at, err))
        || (rc = wire_read_uint (wire_present (&m, PROTO_KEY_SEQ), PROTO_KEY_SEQ, &ev->seq, err)))
        return rc;
    /* Optional: events recorded before microsecond creation times (absent
       = 0), or made on the millisecond. */
    const msgpack_object *us = wire_present (&m, PROTO_KEY_CREATED_US);
    if (us) {
        uint64_t value = 0;
        if ((rc = wire_read_uint (us, PROTO_KEY_CREATED_US, &value, err)))
            return rc;
        if (value > PROTO_CREATED_US_MAX)
            return wire_fail (err, PROTO_DECODE_INVALID, PROTO_KEY_CREATED_US,
                              "Input should be less than or equal to %d", PROTO_CREATED_US_MAX);
        ev->created_us = (uint16_t)value;
    }
    /* Optional: events recorded before request ids, or without one. */
    const msgpack_object *request_id = wire_present (&m, PROTO_KEY_REQUEST_ID);
    if (request_id
        && (rc = wire_read_request_id (request_id, PROTO_KEY_REQUEST_ID, &ev->request_id, err)))
        return rc;
    return PROTO_DECODE_OK;
}
