/*
 * proto_pack — the packing half of proto_wire.h: keys, strings, UUIDs,
 * the event map and the head every request and reply starts with.
 *
 * The event and the head are packed by hand into a stack buffer and handed
 * to the packer in one write, in exactly the encoding msgpack-c produces
 * (test_proto_pack checks them byte for byte against msgpack-c's own
 * packing): they are on every message of every service, and through
 * msgpack_packer they cost a callback and a small memcpy per header and
 * per body.
 */
#include "proto_wire.h"

#include <assert.h>
#include <string.h>

/* ---- Packing ------------------------------------------------------------- */

int
wire_pack_key (msgpack_packer *pk, proto_key_t key)
{
    assert ((unsigned)key < PROTO_KEY_COUNT_);
    return msgpack_pack_str_with_body (pk, wire_key_name (key), wire_key_len (key));
}

int
wire_pack_cstr (msgpack_packer *pk, const char *text)
{
    return msgpack_pack_str_with_body (pk, text, strlen (text));
}

int
wire_pack_str (msgpack_packer *pk, proto_str_t s)
{
    if (!s.ptr)
        return msgpack_pack_nil (pk);
    return msgpack_pack_str_with_body (pk, s.ptr, s.len);
}

int
wire_pack_uuid (msgpack_packer *pk, const uint8_t id[16])
{
    char text[PROTO_UUID_LEN + 1];
    proto_uuid_format (id, text);
    return msgpack_pack_str_with_body (pk, text, PROTO_UUID_LEN);
}

int
wire_pack_receipt (msgpack_packer *pk, const uint8_t receipt[16])
{
    char text[PROTO_RECEIPT_LEN + 1];
    proto_receipt_format (receipt, text);
    return msgpack_pack_str_with_body (pk, text, PROTO_RECEIPT_LEN);
}

int
wire_pack_event_generic (msgpack_packer *pk, const proto_event_t *ev)
{
    bool has_request_id = ev->request_id.ptr && ev->request_id.len > 0;
    bool has_us = ev->created_us != 0;
    if (ev->created_us > PROTO_CREATED_US_MAX)
        return -1; /* the decoder would refuse it */
    int rc = msgpack_pack_map (pk, 7 + (has_us ? 1 : 0) + (has_request_id ? 1 : 0));
    rc |= wire_pack_key (pk, PROTO_KEY_EVENT_ID);
    rc |= wire_pack_uuid (pk, ev->id);
    rc |= wire_pack_key (pk, PROTO_KEY_USER_ID);
    rc |= wire_pack_str (pk, ev->user_id);
    rc |= wire_pack_key (pk, PROTO_KEY_DESCRIPTION);
    rc |= wire_pack_str (pk, ev->description);
    rc |= wire_pack_key (pk, PROTO_KEY_STATUS);
    rc |= wire_pack_str (pk, ev->status);
    rc |= wire_pack_key (pk, PROTO_KEY_CREATED_AT);
    rc |= msgpack_pack_int64 (pk, ev->created_at);
    if (has_us) {
        rc |= wire_pack_key (pk, PROTO_KEY_CREATED_US);
        rc |= msgpack_pack_uint16 (pk, ev->created_us);
    }
    rc |= wire_pack_key (pk, PROTO_KEY_UPDATED_AT);
    rc |= msgpack_pack_int64 (pk, ev->updated_at);
    rc |= wire_pack_key (pk, PROTO_KEY_SEQ);
    rc |= msgpack_pack_uint64 (pk, ev->seq);
    if (has_request_id) {
        rc |= wire_pack_key (pk, PROTO_KEY_REQUEST_ID);
        rc |= wire_pack_str (pk, ev->request_id);
    }
    return rc ? -1 : 0;
}

/* ---- The event, packed by hand --------------------------------------------

   Every reply, notification and journal record carries events, and packing
   one through msgpack_packer costs a callback and a small memcpy per
   header and per body (30-odd of them). An event of ordinary size is
   written here byte by byte into a stack buffer and handed to the packer
   in one write, in exactly the encoding msgpack-c would produce (the
   smallest form of each integer, str8 from 32 bytes: test_proto checks
   them byte for byte against wire_pack_event_generic). Bigger events go
   the generic way. */

#define S_EVENT_BUF 1024

static uint8_t *
s_put_str (uint8_t *p, const char *s, size_t len)
{
    if (len < 32)
        *p++ = (uint8_t)(0xa0 | len);
    else if (len < 256) {
        *p++ = 0xd9;
        *p++ = (uint8_t)len;
    } else if (len < 65536) {
        *p++ = 0xda;
        *p++ = (uint8_t)(len >> 8);
        *p++ = (uint8_t)len;
    } else {
        *p++ = 0xdb;
        for (int shift = 24; shift >= 0; shift -= 8)
            *p++ = (uint8_t)(len >> shift);
    }
    if (len)
        memcpy (p, s, len);
    return p + len;
}

static uint8_t *
s_put_text (uint8_t *p, proto_str_t s)
{
    if (!s.ptr) {
        *p++ = 0xc0; /* nil */
        return p;
    }
    return s_put_str (p, s.ptr, s.len);
}

/* Every key of proto_keys.h as its fixstr byte's length and its name,
   padded to S_KEY_PAD bytes: a key is written with one fixed-size copy (no
   call per key), so a buffer it is written to keeps S_KEY_PAD bytes past
   the last thing written. */
#define S_KEY_PAD 16
typedef struct {
    uint8_t len;
    char name[S_KEY_PAD];
} s_key_t;
static const s_key_t s_keys[PROTO_KEY_COUNT_] = {
#define S_KEY(id, text) [PROTO_KEY_##id] = { sizeof (text) - 1, text },
    PROTO_KEYS (S_KEY)
#undef S_KEY
};

static uint8_t *
s_put_key (uint8_t *p, proto_key_t key)
{
    const s_key_t *k = &s_keys[key];
    *p = (uint8_t)(0xa0 | k->len);
    memcpy (p + 1, k->name, S_KEY_PAD);
    return p + 1 + k->len;
}

/* A marker byte and the low `bytes` bytes of v, big-endian. */
static uint8_t *
s_put_be (uint8_t *p, uint8_t marker, uint64_t v, int bytes)
{
    *p++ = marker;
    for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8)
        *p++ = (uint8_t)(v >> shift);
    return p;
}

static uint8_t *
s_put_uint (uint8_t *p, uint64_t v)
{
    if (v < 128) {
        *p++ = (uint8_t)v;
        return p;
    }
    return v < 256            ? s_put_be (p, 0xcc, v, 1)
           : v < 65536        ? s_put_be (p, 0xcd, v, 2)
           : v < (1ull << 32) ? s_put_be (p, 0xce, v, 4)
                              : s_put_be (p, 0xcf, v, 8);
}

static uint8_t *
s_put_int (uint8_t *p, int64_t v)
{
    if (v >= 0)
        return s_put_uint (p, (uint64_t)v);
    if (v >= -32) {
        *p++ = (uint8_t)(int8_t)v; /* negative fixint */
        return p;
    }
    uint64_t bits = (uint64_t)v;
    return v >= -128            ? s_put_be (p, 0xd0, bits, 1)
           : v >= -32768        ? s_put_be (p, 0xd1, bits, 2)
           : v >= -2147483648ll ? s_put_be (p, 0xd2, bits, 4)
                                : s_put_be (p, 0xd3, bits, 8);
}

int
wire_pack_event (msgpack_packer *pk, const proto_event_t *ev)
{
    bool has_request_id = ev->request_id.ptr && ev->request_id.len > 0;
    bool has_us = ev->created_us != 0;
    /* Keys, headers and integers take at most 200 bytes (about 165). */
    if (ev->created_us > PROTO_CREATED_US_MAX)
        return -1; /* the decoder would refuse it */
    size_t strings = ev->user_id.len + ev->description.len + ev->status.len
                     + (has_request_id ? ev->request_id.len : 0);
    if (strings > S_EVENT_BUF - 200)
        return wire_pack_event_generic (pk, ev);
    uint8_t buf[S_EVENT_BUF + S_KEY_PAD], *p = buf;
    *p++ = (uint8_t)(0x80 | (7 + (has_us ? 1 : 0) + (has_request_id ? 1 : 0))); /* fixmap */
    p = s_put_key (p, PROTO_KEY_EVENT_ID);
    *p++ = 0xd9; /* str8: the UUID's 36 characters, written in place (and a NUL after) */
    *p++ = PROTO_UUID_LEN;
    proto_uuid_format (ev->id, (char *)p);
    p += PROTO_UUID_LEN;
    p = s_put_key (p, PROTO_KEY_USER_ID);
    p = s_put_text (p, ev->user_id);
    p = s_put_key (p, PROTO_KEY_DESCRIPTION);
    p = s_put_text (p, ev->description);
    p = s_put_key (p, PROTO_KEY_STATUS);
    p = s_put_text (p, ev->status);
    p = s_put_key (p, PROTO_KEY_CREATED_AT);
    p = s_put_int (p, ev->created_at);
    if (has_us) {
        p = s_put_key (p, PROTO_KEY_CREATED_US);
        p = s_put_uint (p, ev->created_us);
    }
    p = s_put_key (p, PROTO_KEY_UPDATED_AT);
    p = s_put_int (p, ev->updated_at);
    p = s_put_key (p, PROTO_KEY_SEQ);
    p = s_put_uint (p, ev->seq);
    if (has_request_id) {
        p = s_put_key (p, PROTO_KEY_REQUEST_ID);
        p = s_put_text (p, ev->request_id);
    }
    assert ((size_t)(p - buf) <= S_EVENT_BUF);
    return pk->callback (pk->data, (const char *)buf, (size_t)(p - buf)) == 0 ? 0 : -1;
}

/* ---- The common head of requests and replies ---------------------------- */

int
wire_pack_head (msgpack_packer *pk, uint32_t entries, const char *op, uint64_t rid,
                const char *status)
{
    /* map32 + "v" 1 + "op" nil/str + "rid" uint64 + "status" str: the
       names are the protocol's own, all under 32 bytes. */
    uint8_t buf[128 + S_KEY_PAD], *p = buf;
    if (entries < 16)
        *p++ = (uint8_t)(0x80 | entries);
    else if (entries < 65536)
        p = s_put_be (p, 0xde, entries, 2);
    else
        p = s_put_be (p, 0xdf, entries, 4);
    p = s_put_key (p, PROTO_KEY_V);
    p = s_put_uint (p, PROTO_VERSION);
    p = s_put_key (p, PROTO_KEY_OP);
    p = s_put_text (p, op ? (proto_str_t){ op, strlen (op) } : PROTO_STR_NONE);
    p = s_put_key (p, PROTO_KEY_RID);
    p = s_put_uint (p, rid);
    if (status) {
        p = s_put_key (p, PROTO_KEY_STATUS);
        p = s_put_text (p, (proto_str_t){ status, strlen (status) });
    }
    assert ((size_t)(p - buf) <= 128);
    return pk->callback (pk->data, (const char *)buf, (size_t)(p - buf)) == 0 ? 0 : -1;
}
