/*
 * proto_wire — see proto_wire.h: reading frames (the field readers are
 * proto_fields.c).
 *
 * Why a pre-scan before msgpack-c: msgpack_unpack_next allocates the
 * storage of an array or map from its declared element count before it
 * reads a single element, so a 5-byte frame declaring 2^32-1 elements asks
 * the zone for ~100 GB. The scan below walks the raw bytes once with an
 * explicit stack (no recursion), refuses any container that declares more
 * elements than bytes remain (every element takes at least one byte), any
 * nesting deeper than the message family needs, any payload running past
 * the end and any byte after the top map. After it passes, msgpack-c
 * allocates at most one msgpack_object (24 bytes) per element, i.e. a
 * bounded multiple of the frame size, and the frame size is bounded by
 * PROTO_FRAME_MAX.
 *
 * msgpack_unpack_next (msgpack-c 4.0, src/unpack.c template_callback_str)
 * does not copy str or bin payloads: the object points into the caller's
 * data. That is what makes the decoded proto_str_t borrowed from the
 * caller's buffer, as proto.h promises; the zone holds only the object
 * arrays and is freed before a decoder returns.
 */
#include "proto_wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

proto_error_t *
wire_error_begin (proto_error_t *err, proto_error_t *scratch)
{
    if (!err)
        err = scratch;
    /* What a reader looks at; the rest of the buffers stays unwritten
       (clearing 200 bytes was a tenth of a small frame's decoding). */
    err->message[0] = '\0';
    err->field[0] = '\0';
    err->rid = 0;
    err->has_rid = false;
    return err;
}

proto_decode_t
wire_fail (proto_error_t *err, proto_decode_t code, proto_key_t key, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err->message, sizeof err->message, fmt, args);
    va_end (args);
    snprintf (err->field, sizeof err->field, "%s", wire_key_name (key));
    return code;
}

/* ---- Pre-scan ------------------------------------------------------------ */

static uint64_t
s_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Shape of the item starting with byte b: either a container with a count
   of children (count_bytes of big-endian count follow, or the count is in
   b), or a scalar with a payload (fixed size, or len_bytes of length, plus
   extra bytes such as an ext type). */
typedef struct {
    bool container;
    bool is_map;
    uint8_t count_bytes; /* container: bytes of count; scalar: bytes of length */
    uint8_t extra;       /* scalar: bytes after the length field, before the payload */
    uint64_t count;      /* inline count or fixed payload size */
} s_shape_t;

/* Every byte's shape, looked up rather than worked out: the scan and the
   small-frame reader ask for it once per object of every frame. A count
   of 0xff in a container or str entry means "the count is in the byte"
   (fixmap, fixarray: low 4 bits; fixstr: low 5 bits); 0xc1, never used
   by MessagePack, is refused. The GNU range designators are understood by
   gcc and clang alike. */
#define S_INLINE 0xff
static const s_shape_t s_shapes[256] = {
    [0x80 ... 0x8f] = { .container = true, .is_map = true, .count = S_INLINE },
    [0x90 ... 0x9f] = { .container = true, .count = S_INLINE },
    [0xa0 ... 0xbf] = { .count = S_INLINE },
    [0xc4] = { .count_bytes = 1 },             /* bin8 */
    [0xc5] = { .count_bytes = 2 },             /* bin16 */
    [0xc6] = { .count_bytes = 4 },             /* bin32 */
    [0xc7] = { .count_bytes = 1, .extra = 1 }, /* ext8: length, type */
    [0xc8] = { .count_bytes = 2, .extra = 1 }, /* ext16 */
    [0xc9] = { .count_bytes = 4, .extra = 1 }, /* ext32 */
    [0xca] = { .count = 4 },                   /* float32 */
    [0xcb] = { .count = 8 },                   /* float64 */
    [0xcc] = { .count = 1 },                   /* uint8 */
    [0xcd] = { .count = 2 },
    [0xce] = { .count = 4 },
    [0xcf] = { .count = 8 },
    [0xd0] = { .count = 1 }, /* int8 */
    [0xd1] = { .count = 2 },
    [0xd2] = { .count = 4 },
    [0xd3] = { .count = 8 },
    [0xd4] = { .count = 2 }, /* fixext 1: type + data */
    [0xd5] = { .count = 3 },
    [0xd6] = { .count = 5 },
    [0xd7] = { .count = 9 },
    [0xd8] = { .count = 17 },
    [0xd9] = { .count_bytes = 1 }, /* str8 */
    [0xda] = { .count_bytes = 2 }, /* str16 */
    [0xdb] = { .count_bytes = 4 }, /* str32 */
    [0xdc] = { .container = true, .count_bytes = 2 },
    [0xdd] = { .container = true, .count_bytes = 4 },
    [0xde] = { .container = true, .is_map = true, .count_bytes = 2 },
    [0xdf] = { .container = true, .is_map = true, .count_bytes = 4 },
    /* every other byte (fixint, nil, bool, negative fixint): no payload */
};

static int
s_shape (uint8_t b, s_shape_t *sh)
{
    *sh = s_shapes[b];
    if (sh->count == S_INLINE)
        sh->count = b >= 0xa0 ? (uint64_t)(b & 0x1f) : (uint64_t)(b & 0x0f);
    return b == 0xc1 ? -1 : 0; /* never used by MessagePack */
}

size_t
wire_item (const uint8_t *p, size_t len, proto_str_t *text)
{
    s_shape_t sh;
    *text = PROTO_STR_NONE;
    if (len == 0 || s_shape (p[0], &sh) != 0 || sh.container
        || len - 1 < (size_t)sh.count_bytes + sh.extra)
        return 0;
    size_t head = 1 + (size_t)sh.count_bytes + sh.extra;
    uint64_t payload = sh.count_bytes ? s_be (p + 1, sh.count_bytes) : sh.count;
    if (payload > len - head)
        return 0;
    if ((p[0] >= 0xa0 && p[0] <= 0xbf) || (p[0] >= 0xd9 && p[0] <= 0xdb))
        *text = (proto_str_t){ (const char *)p + head, (size_t)payload };
    return head + (size_t)payload;
}

/* Walks the frame and checks it; the error names the first fault. */
static proto_decode_t
s_scan (const uint8_t *p, size_t len, int max_depth, proto_error_t *err)
{
    /* left[d]: items still expected in the container open at level d; level
       0 is a virtual container holding the one top-level item. */
    uint64_t left[WIRE_DEPTH_LIMIT + 1];
    int depth = 0;
    left[0] = 1;
    size_t pos = 0;
    for (;;) {
        while (depth >= 0 && left[depth] == 0)
            depth--;
        if (depth < 0)
            break;
        left[depth]--;
        if (pos >= len)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                              "truncated frame: %zu bytes", len);
        s_shape_t sh;
        if (s_shape (p[pos], &sh) != 0)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                              "invalid MessagePack byte 0x%02x at offset %zu", p[pos], pos);
        pos++;
        if (sh.count_bytes) {
            if (len - pos < sh.count_bytes)
                return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                                  "truncated frame: %zu bytes", len);
            sh.count = s_be (p + pos, sh.count_bytes);
            pos += sh.count_bytes;
        }
        if (!sh.container) {
            if (len - pos < sh.extra || len - pos - sh.extra < sh.count)
                return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                                  "truncated frame: %zu bytes", len);
            pos += sh.extra + (size_t)sh.count;
            continue;
        }
        uint64_t items = sh.is_map ? sh.count * 2 : sh.count;
        if (items > len - pos)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                              "%s at offset %zu declares %llu elements but %zu bytes follow",
                              sh.is_map ? "map" : "array", pos, (unsigned long long)sh.count,
                              len - pos);
        if (depth + 1 > max_depth)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                              "nesting deeper than %d levels", max_depth);
        left[++depth] = items;
    }
    if (pos != len)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                          "%zu trailing bytes after the map", len - pos);
    return PROTO_DECODE_OK;
}

/* The checks every frame passes before anything reads it: size, a map at
   the root, then the pre-scan. */
static proto_decode_t
s_check_frame (const void *buf, size_t len, int max_depth, proto_error_t *err)
{
    if (!buf || len == 0)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_, "empty frame");
    if (len > PROTO_FRAME_MAX)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                          "frame of %zu bytes exceeds %d", len, PROTO_FRAME_MAX);
    const uint8_t *p = buf;
    if (!((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf))
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                          "frame is not a MessagePack map");
    if (max_depth > WIRE_DEPTH_LIMIT)
        max_depth = WIRE_DEPTH_LIMIT;
    return s_scan (p, len, max_depth, err);
}

proto_decode_t
wire_unpack (const void *buf, size_t len, int max_depth, msgpack_unpacked *out, proto_error_t *err)
{
    msgpack_unpacked_init (out);
    proto_decode_t rc = s_check_frame (buf, len, max_depth, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next (out, buf, len, &off);
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_, "out of memory");
    if (ret != MSGPACK_UNPACK_SUCCESS || off != len || out->data.type != MSGPACK_OBJECT_MAP)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_COUNT_,
                          "frame is not one MessagePack map");
    return PROTO_DECODE_OK;
}

/* ---- Small frames without msgpack-c ---------------------------------------

   Most frames are small: a request, a reply or a notification carrying one
   event, a journal record. Such a frame is read in one pass straight into
   msgpack_object values held by a pool on the caller's stack, as msgpack-c
   would make them, with no zone and no allocation; the pass checks every
   length, byte and depth as it goes. What msgpack-c does that the decoders
   can see is copied: a signed encoding of a non-negative integer is
   POSITIVE_INTEGER, and an empty str has a NULL pointer.

   The pass only says yes or no. On no (a frame with more children than
   the pool holds: a list page, a feed_read reply, a stats map; or any
   frame the pre-scan would refuse) the frame goes to the pre-scan, which
   names the error precisely, and then, if the pre-scan passes it, to
   msgpack-c. So an error reads the same whether or not the pass saw the
   frame first, and the fuzz targets hold the pass to msgpack-c's reading
   (wire_set_generic_only). */

static bool s_generic_only; /* wire_set_generic_only */

void
wire_set_generic_only (bool on)
{
    s_generic_only = on;
}

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    int max_depth;
    wire_pool_t *pool;
} s_reader_t;

/* The object at r->pos, at nesting level depth (the top map is at 1, so
   its caller passes 0), into *o; children from r->pool. False when the
   bytes run out, a byte is not MessagePack, a container nests deeper than
   r->max_depth or the pool is full: *o and the pool are then garbage.
   r->max_depth must be at most WIRE_DEPTH_LIMIT (the caller caps it): it
   bounds the recursion. */
static bool s_read (s_reader_t *r, msgpack_object *o, int depth);

/* The objects nearly every frame is made of, a fixstr (every key) or a
   positive fixint, read inline by the containers' loops; anything else
   (and a truncated frame) goes to s_read, which reads every kind. The recursion's call per object
   was a quarter of the reading. */
static inline bool
s_read_item (s_reader_t *r, msgpack_object *o, int depth)
{
    if (r->pos < r->len) {
        uint8_t b = r->p[r->pos];
        if (b <= 0x7f) {
            *o = (msgpack_object){ .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = b };
            r->pos++;
            return true;
        }
        uint32_t n = b & 0x1f;
        if (b >= 0xa0 && b <= 0xbf && n < r->len - r->pos) {
            *o = (msgpack_object){ .type = MSGPACK_OBJECT_STR,
                                   .via.str = { n, n ? (const char *)r->p + r->pos + 1 : NULL } };
            r->pos += 1 + n;
            return true;
        }
    }
    return s_read (r, o, depth);
}

static bool
s_read (s_reader_t *r, msgpack_object *o, int depth)
{
    if (r->pos >= r->len)
        return false;
    uint8_t b = r->p[r->pos++];
    size_t left = r->len - r->pos;
    s_shape_t sh;
    if (s_shape (b, &sh) != 0)
        return false;
    if (sh.count_bytes) {
        if (left < sh.count_bytes)
            return false;
        sh.count = s_be (r->p + r->pos, sh.count_bytes);
        r->pos += sh.count_bytes;
        left -= sh.count_bytes;
    }
    if (sh.container) {
        if (depth + 1 > r->max_depth)
            return false;
        wire_pool_t *pool = r->pool;
        if (sh.is_map) {
            if (sh.count > WIRE_POOL_KV - pool->kv_used)
                return false;
            msgpack_object_kv *kv = &pool->kv[pool->kv_used];
            pool->kv_used += (size_t)sh.count;
            *o = (msgpack_object){ .type = MSGPACK_OBJECT_MAP,
                                   .via.map = { (uint32_t)sh.count, kv } };
            for (uint64_t i = 0; i < sh.count; i++)
                if (!s_read_item (r, &kv[i].key, depth + 1)
                    || !s_read_item (r, &kv[i].val, depth + 1))
                    return false;
            return true;
        }
        if (sh.count > WIRE_POOL_OBJECTS - pool->objects_used)
            return false;
        msgpack_object *items = &pool->objects[pool->objects_used];
        pool->objects_used += (size_t)sh.count;
        *o = (msgpack_object){ .type = MSGPACK_OBJECT_ARRAY,
                               .via.array = { (uint32_t)sh.count, items } };
        for (uint64_t i = 0; i < sh.count; i++)
            if (!s_read_item (r, &items[i], depth + 1))
                return false;
        return true;
    }
    if (left < sh.extra || left - sh.extra < sh.count)
        return false;
    const uint8_t *payload = r->p + r->pos + sh.extra;
    r->pos += sh.extra + (size_t)sh.count;
    if (b <= 0x7f || b == 0xcc || b == 0xcd || b == 0xce || b == 0xcf) {
        *o = (msgpack_object){ .type = MSGPACK_OBJECT_POSITIVE_INTEGER,
                               .via.u64 = b <= 0x7f ? b : s_be (payload, (size_t)sh.count) };
        return true;
    }
    if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3)) {
        int64_t value;
        if (b >= 0xe0)
            value = (int8_t)b;
        else {
            uint64_t raw = s_be (payload, (size_t)sh.count);
            int bits = (int)sh.count * 8;
            /* Sign-extend the big-endian two's complement value. */
            value = bits == 64 ? (int64_t)raw
                               : (int64_t)(raw ^ (1ull << (bits - 1))) - (1ll << (bits - 1));
        }
        *o = (msgpack_object){ .type = value >= 0 ? MSGPACK_OBJECT_POSITIVE_INTEGER
                                                  : MSGPACK_OBJECT_NEGATIVE_INTEGER,
                               .via.i64 = value };
        return true;
    }
    if (b == 0xc0) {
        *o = (msgpack_object){ .type = MSGPACK_OBJECT_NIL };
        return true;
    }
    if (b == 0xc2 || b == 0xc3) {
        *o = (msgpack_object){ .type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = b == 0xc3 };
        return true;
    }
    if (b == 0xca) {
        uint32_t raw = (uint32_t)s_be (payload, 4);
        float f;
        memcpy (&f, &raw, sizeof f);
        *o = (msgpack_object){ .type = MSGPACK_OBJECT_FLOAT32, .via.f64 = f };
        return true;
    }
    if (b == 0xcb) {
        uint64_t raw = s_be (payload, 8);
        *o = (msgpack_object){ .type = MSGPACK_OBJECT_FLOAT64 };
        memcpy (&o->via.f64, &raw, sizeof raw);
        return true;
    }
    if ((b >= 0xa0 && b <= 0xbf) || b == 0xd9 || b == 0xda || b == 0xdb) {
        *o = (msgpack_object){ .type = MSGPACK_OBJECT_STR,
                               .via.str = { (uint32_t)sh.count,
                                            sh.count ? (const char *)payload : NULL } };
        return true;
    }
    if (b == 0xc4 || b == 0xc5 || b == 0xc6) {
        *o = (msgpack_object){ .type = MSGPACK_OBJECT_BIN,
                               .via.bin = { (uint32_t)sh.count, (const char *)payload } };
        return true;
    }
    /* ext (length, type, data) and fixext (type, data). */
    bool fixed = b >= 0xd4 && b <= 0xd8;
    *o = (msgpack_object){ .type = MSGPACK_OBJECT_EXT,
                           .via.ext = { (int8_t)(fixed ? payload[0] : payload[-1]),
                                        (uint32_t)sh.count - (fixed ? 1 : 0),
                                        (const char *)(fixed ? payload + 1 : payload) } };
    return true;
}

proto_decode_t
wire_unpack_small (const void *buf, size_t len, int max_depth, wire_pool_t *pool,
                   msgpack_object *root, proto_error_t *err)
{
    const uint8_t *p = buf;
    if (!s_generic_only && p && len > 0 && len <= PROTO_FRAME_MAX
        && ((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf)) {
        s_reader_t r = { .p = p,
                         .len = len,
                         .max_depth = max_depth > WIRE_DEPTH_LIMIT ? WIRE_DEPTH_LIMIT : max_depth,
                         .pool = pool };
        pool->kv_used = pool->objects_used = 0;
        if (s_read (&r, root, 0) && r.pos == len)
            return PROTO_DECODE_OK;
    }
    memset (root, 0, sizeof *root);
    /* Refused by the pass: the pre-scan says why, or passes a frame too
       big for the pool (root NIL: msgpack-c reads it). */
    return s_check_frame (buf, len, max_depth, err);
}

proto_decode_t
wire_unpack_any (const void *buf, size_t len, int max_depth, wire_pool_t *pool,
                 msgpack_unpacked *unpacked, const msgpack_object **root, proto_error_t *err)
{
    msgpack_unpacked_init (unpacked);
    proto_decode_t rc = wire_unpack_small (buf, len, max_depth, pool, &pool->root, err);
    *root = &pool->root;
    if (rc != PROTO_DECODE_OK || pool->root.type != MSGPACK_OBJECT_NIL)
        return rc;
    /* Checked again by wire_unpack: a big frame pays the pass (up to the
       pool's end) and the scan twice, which is small beside msgpack-c's
       unpacking of it. */
    rc = wire_unpack (buf, len, max_depth, unpacked, err);
    *root = &unpacked->data;
    return rc;
}
