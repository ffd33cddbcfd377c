/*
 * proto — the parts of the wire model that are not codecs: validation
 * limits, op and status names, string checks, UUID and time text forms.
 *
 * The string check is the one place that decides what a valid user_id,
 * description or status is, so the gateway (validating JSON), the store
 * (validating MessagePack) and the worker (validating a notification) can
 * never disagree. UTF-8 is checked strictly per RFC 3629: no overlong
 * forms, no UTF-16 surrogates, nothing above U+10FFFF. NUL is valid UTF-8
 * but refused, because C consumers and log lines would truncate at it.
 *
 * The codecs live in proto_request.c, proto_reply.c and proto_wire.c.
 */
#include "proto.h"

#include "config.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Limits -------------------------------------------------------------- */

proto_limits_t
proto_limits_default (void)
{
    return (proto_limits_t){
        .user_id_max = PROTO_USER_ID_MAX_DEFAULT,
        .description_max = PROTO_DESCRIPTION_MAX_DEFAULT,
        .status_max = PROTO_STATUS_MAX_DEFAULT,
    };
}

/* Reads one limit variable; leaves *value alone when it is unset. */
static int
s_limit_from_env (const char *name, size_t *value)
{
    const char *text = getenv (name);
    if (!text)
        return 0;
    int64_t n;
    if (config_parse_int (text, 1, PROTO_LIMIT_CAP, &n) != 0) {
        fprintf (stderr, "%s=\"%s\": expected an integer in [1, %d]\n", name, text,
                 PROTO_LIMIT_CAP);
        return -1;
    }
    *value = (size_t)n;
    return 0;
}

int
proto_limits_from_env (proto_limits_t *limits)
{
    proto_limits_t result = proto_limits_default ();
    int rc = 0;
    rc |= s_limit_from_env ("HERALD_USER_ID_MAX", &result.user_id_max);
    rc |= s_limit_from_env ("HERALD_DESCRIPTION_MAX", &result.description_max);
    rc |= s_limit_from_env ("HERALD_STATUS_MAX", &result.status_max);
    if (rc != 0)
        return -1;
    *limits = result;
    return 0;
}

/* ---- Names --------------------------------------------------------------- */

static const char *const s_op_names[PROTO_OP_COUNT_] = {
    [PROTO_OP_NONE] = "?",
    [PROTO_OP_PING] = "ping",
    [PROTO_OP_CREATE] = "create",
    [PROTO_OP_GET] = "get",
    [PROTO_OP_UPDATE] = "update",
    [PROTO_OP_LIST] = "list",
    [PROTO_OP_FEED_READ] = "feed_read",
    [PROTO_OP_FEED_ACK] = "feed_ack",
    [PROTO_OP_STATS] = "stats",
    [PROTO_OP_BATCH] = "batch",
};

const char *
proto_op_name (proto_op_t op)
{
    if ((unsigned)op >= PROTO_OP_COUNT_)
        return "?";
    return s_op_names[op];
}

proto_op_t
proto_op_lookup (const char *name, size_t len)
{
    for (int op = PROTO_OP_NONE + 1; op < PROTO_OP_COUNT_; op++)
        if (strlen (s_op_names[op]) == len && memcmp (s_op_names[op], name, len) == 0)
            return (proto_op_t)op;
    return PROTO_OP_NONE;
}

static const char *const s_status_names[PROTO_E_COUNT_] = {
    [PROTO_OK] = "ok",
    [PROTO_E_MALFORMED] = "malformed",
    [PROTO_E_VERSION] = "version",
    [PROTO_E_UNKNOWN_OP] = "unknown_op",
    [PROTO_E_INVALID] = "invalid",
    [PROTO_E_NOT_FOUND] = "not_found",
    [PROTO_E_FEED_FULL] = "feed_full",
    [PROTO_E_STORE_FULL] = "store_full",
    [PROTO_E_INTERNAL] = "internal",
    [PROTO_E_MOVED] = "moved",
};

const char *
proto_status_name (proto_status_t status)
{
    if ((unsigned)status >= PROTO_E_COUNT_)
        return "?";
    return s_status_names[status];
}

int
proto_status_lookup (const char *name, size_t len, proto_status_t *status)
{
    for (int s = 0; s < PROTO_E_COUNT_; s++)
        if (strlen (s_status_names[s]) == len && memcmp (s_status_names[s], name, len) == 0) {
            *status = (proto_status_t)s;
            return 0;
        }
    return -1;
}

const char *
proto_change_routing_key (proto_change_kind_t kind)
{
    return kind == PROTO_CHANGE_UPDATED ? "event.updated" : "event.created";
}

const char *
proto_change_kind_name (proto_change_kind_t kind)
{
    return kind == PROTO_CHANGE_UPDATED ? "updated" : "created";
}

/* ---- Strings ------------------------------------------------------------- */

/* Follows the table of RFC 3629 section 4 (Unicode 15, table 3-7). */
size_t
proto_utf8_len (const char *ptr, size_t n)
{
    const unsigned char *s = (const unsigned char *)ptr;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else
        return 0; /* continuation byte, C0/C1 overlong lead, F5..FF */
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

proto_str_check_t
proto_check_string (const char *ptr, size_t len, size_t max)
{
    if (len == 0 || !ptr)
        return PROTO_STR_EMPTY;
    if (len > max)
        return PROTO_STR_TOO_LONG;
    const unsigned char *s = (const unsigned char *)ptr;
    bool has_nul = false;
    for (size_t i = 0; i < len;) {
        /* Eight bytes at a time while they are ASCII without NUL: no high
           bit set, and no zero byte. (w - 0x01..) & ~w & 0x80.. is non-zero
           exactly when some byte of w is zero (the classic test; which
           byte it flags may be off, which does not matter here). */
        if (len - i >= 8) {
            uint64_t w;
            memcpy (&w, s + i, sizeof w);
            const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
            if ((w & highs) == 0 && ((w - ones) & ~w & highs) == 0) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) { /* ASCII, nearly every byte: no call (it is not inlined) */
            has_nul |= s[i] == 0;
            i++;
            continue;
        }
        size_t step = proto_utf8_len (ptr + i, len - i);
        if (step == 0)
            return PROTO_STR_BAD_UTF8;
        i += step;
    }
    return has_nul ? PROTO_STR_HAS_NUL : PROTO_STR_OK;
}

void
proto_check_message (proto_str_check_t check, size_t max, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    switch (check) {
    case PROTO_STR_OK:
        snprintf (buf, size, "OK");
        break;
    case PROTO_STR_EMPTY:
        snprintf (buf, size, "String should have at least 1 character");
        break;
    case PROTO_STR_TOO_LONG:
        snprintf (buf, size, "String should have at most %zu bytes", max);
        break;
    case PROTO_STR_BAD_UTF8:
        snprintf (buf, size, "Invalid UTF-8");
        break;
    case PROTO_STR_HAS_NUL:
        snprintf (buf, size, "String must not contain NUL characters");
        break;
    default:
        snprintf (buf, size, "Invalid string");
        break;
    }
}

/* ---- UUIDs --------------------------------------------------------------- */

/* Each hex digit's value + 1; 0 for every other byte. */
static const uint8_t s_hex_plus_one[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int
proto_hex_value (char c)
{
    return (int)s_hex_plus_one[(uint8_t)c] - 1;
}

/* Every event id crosses the UUID text on every message, both ways, and a
   receipt on every page: the digits are read and written eight at a time
   in a 64-bit word (a byte per lane, first digit in the low byte whatever
   the host's byte order). A digit at a time, a UUID took 31 ns to read and
   26 ns to write; this way 27 and 16.5 (2026-12-06, this machine). */
#define S_LANES(b) (0x0101010101010101ull * (uint8_t)(b))

static uint64_t
s_load8 (const char *p)
{
    uint64_t v;
    memcpy (&v, p, 8);
    return le64toh (v);
}

/* 0x80 in each lane of x (every lane < 0x80) whose byte is in [lo, hi]:
   adding 0x80 - lo sets a lane's top bit when its byte is >= lo, adding
   0x7f - hi when it is > hi, and no lane carries into the next. */
static uint64_t
s_in_range (uint64_t x, uint8_t lo, uint8_t hi)
{
    uint64_t at_least = x + S_LANES (0x80 - lo), above = x + S_LANES (0x7f - hi);
    return at_least & ~above & S_LANES (0x80);
}

/* Two runs of 4 digits, at p and at q, as one word of 8. */
static uint64_t
s_load4x2 (const char *p, const char *q)
{
    uint32_t a, b;
    memcpy (&a, p, 4);
    memcpy (&b, q, 4);
    return (uint64_t)le32toh (a) | (uint64_t)le32toh (b) << 32;
}

/* The 8 hex digits in the lanes of x into out[0..3]. Returns 0, or -1
   (out untouched) when any of them is not a hex digit. */
static int
s_hex8_parse (uint64_t x, uint8_t out[4])
{
    if (x & S_LANES (0x80))
        return -1;
    uint64_t letter = s_in_range (x, 'a', 'f') | s_in_range (x, 'A', 'F');
    if ((s_in_range (x, '0', '9') | letter) != S_LANES (0x80))
        return -1;
    /* Each lane's value: its low nibble, + 9 for a letter. */
    uint64_t v = (x & S_LANES (0x0f)) + (letter >> 7) * 9;
    /* Pairs of lanes into bytes (first digit high), then the bytes packed. */
    v = (v & 0x00ff00ff00ff00ffull) << 4 | (v >> 8 & 0x00ff00ff00ff00ffull);
    v = (v | v >> 8) & 0x0000ffff0000ffffull;
    v = (v | v >> 16) & 0xffffffffull;
    uint32_t bytes = htole32 ((uint32_t)v);
    memcpy (out, &bytes, 4);
    return 0;
}

/* in[0..3] as 8 lowercase hex digits, in the lanes of the word returned. */
static uint64_t
s_hex8_format (const uint8_t in[4])
{
    uint32_t word;
    memcpy (&word, in, 4);
    uint64_t w = le32toh (word);
    /* Byte i into the low byte of 16-bit lane i. */
    w = (w | w << 16) & 0x0000ffff0000ffffull;
    uint64_t v = (w | w << 8) & 0x00ff00ff00ff00ffull;
    /* Each byte's high nibble into the even lane, its low one the odd. */
    uint64_t n = (v >> 4 & 0x000f000f000f000full) | (v & 0x000f000f000f000full) << 8;
    /* '0' + n, and 'a' - '0' - 10 more where n >= 10 (n + 6 carries into bit 4). */
    uint64_t ten_up = (n + S_LANES (6)) >> 4 & S_LANES (1);
    return n + S_LANES ('0') + ten_up * ('a' - '0' - 10);
}

static void
s_store8 (char *p, uint64_t digits)
{
    digits = htole64 (digits);
    memcpy (p, &digits, 8);
}

static void
s_store4x2 (char *p, char *q, uint64_t digits)
{
    uint32_t a = htole32 ((uint32_t)digits), b = htole32 ((uint32_t)(digits >> 32));
    memcpy (p, &a, 4);
    memcpy (q, &b, 4);
}

/* 16 bytes from the four words of 8 digits; 0, or -1 (out untouched). */
static int
s_hex16_parse (const uint64_t words[4], uint8_t out[16])
{
    uint8_t bytes[16];
    for (int i = 0; i < 4; i++)
        if (s_hex8_parse (words[i], bytes + 4 * i) != 0)
            return -1;
    memcpy (out, bytes, 16);
    return 0;
}

int
proto_uuid_parse (const char *text, size_t len, uint8_t out[16])
{
    if (!text || len != PROTO_UUID_LEN)
        return -1;
    if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
        return -1;
    /* The digits 8-4-4-4-12, as words of 8: no copy in between. */
    const uint64_t words[4] = { s_load8 (text), s_load4x2 (text + 9, text + 14),
                                s_load4x2 (text + 19, text + 24), s_load8 (text + 28) };
    return s_hex16_parse (words, out);
}

void
proto_uuid_format (const uint8_t id[16], char out[PROTO_UUID_LEN + 1])
{
    s_store8 (out, s_hex8_format (id));
    s_store4x2 (out + 9, out + 14, s_hex8_format (id + 4));
    s_store4x2 (out + 19, out + 24, s_hex8_format (id + 8));
    s_store8 (out + 28, s_hex8_format (id + 12));
    out[8] = out[13] = out[18] = out[23] = '-';
    out[PROTO_UUID_LEN] = '\0';
}

int
proto_receipt_parse (const char *text, size_t len, uint8_t out[16])
{
    if (!text || len != PROTO_RECEIPT_LEN)
        return -1;
    const uint64_t words[4] = { s_load8 (text), s_load8 (text + 8), s_load8 (text + 16),
                                s_load8 (text + 24) };
    return s_hex16_parse (words, out);
}

void
proto_receipt_format (const uint8_t receipt[16], char out[PROTO_RECEIPT_LEN + 1])
{
    for (int i = 0; i < 4; i++)
        s_store8 (out + 8 * i, s_hex8_format (receipt + 4 * i));
    out[PROTO_RECEIPT_LEN] = '\0';
}

bool
proto_request_id_valid (const char *text, size_t len)
{
    if (!text || len == 0 || len > PROTO_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (text[i] < 0x21 || text[i] > 0x7e)
            return false;
    return true;
}
