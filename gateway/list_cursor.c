/*
 * list_cursor — see list_cursor.h. base64url is nettle's; its decoder is
 * lenient (it skips whitespace and takes padding), so the text is checked
 * against the alphabet first and, once decoded, encoded again and compared:
 * one cursor has exactly one accepted text.
 */
#include "list_cursor.h"

#include <assert.h>
#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

struct _list_cursor_t {
    uint64_t epoch;
    size_t shards;
    bool *started;       /* shards of them */
    uint8_t (*last)[16]; /* shards of them */
};

list_cursor_t *
list_cursor_new (uint64_t epoch, size_t shards)
{
    if (shards < 2 || shards > SHARD_MAP_SHARDS_MAX)
        return NULL;
    list_cursor_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->epoch = epoch;
    self->shards = shards;
    self->started = calloc (shards, sizeof *self->started);
    self->last = calloc (shards, sizeof *self->last);
    if (!self->started || !self->last)
        list_cursor_destroy (&self);
    return self;
}

void
list_cursor_destroy (list_cursor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    list_cursor_t *self = *self_p;
    free (self->started);
    free (self->last);
    free (self);
    *self_p = NULL;
}

uint64_t
list_cursor_epoch (const list_cursor_t *self)
{
    assert (self);
    return self->epoch;
}

size_t
list_cursor_shards (const list_cursor_t *self)
{
    assert (self);
    return self->shards;
}

const uint8_t *
list_cursor_last (const list_cursor_t *self, size_t shard)
{
    assert (self && shard < self->shards);
    return self->started[shard] ? self->last[shard] : NULL;
}

void
list_cursor_set (list_cursor_t *self, size_t shard, const uint8_t id[16])
{
    assert (self && shard < self->shards);
    memcpy (self->last[shard], id, 16);
    self->started[shard] = true;
}

/* The binary form into buf (LIST_CURSOR_BYTES_MAX); returns its length,
   0 when no shard is started. */
static size_t
s_pack (const list_cursor_t *self, uint8_t *buf)
{
    size_t n = 0;
    buf[n++] = LIST_CURSOR_VERSION;
    for (int shift = 56; shift >= 0; shift -= 8)
        buf[n++] = (uint8_t)(self->epoch >> shift);
    buf[n++] = (uint8_t)(self->shards >> 8);
    buf[n++] = (uint8_t)self->shards;
    size_t started = 0;
    for (size_t i = 0; i < self->shards; i++) {
        if (!self->started[i])
            continue;
        buf[n++] = (uint8_t)(i >> 8);
        buf[n++] = (uint8_t)i;
        memcpy (buf + n, self->last[i], 16);
        n += 16;
        started++;
    }
    return started ? n : 0;
}

size_t
list_cursor_text (const uint8_t *bytes, size_t len, char *out)
{
    struct base64_encode_ctx ctx;
    base64url_encode_init (&ctx);
    size_t n = base64_encode_update (&ctx, out, len, bytes);
    n += base64_encode_final (&ctx, out + n);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    return n;
}

char *
list_cursor_encode (const list_cursor_t *self)
{
    assert (self);
    uint8_t *bytes = malloc (LIST_CURSOR_BYTES_MAX);
    char *text = malloc (BASE64_ENCODE_LENGTH (LIST_CURSOR_BYTES_MAX) + 4);
    size_t len = bytes && text ? s_pack (self, bytes) : 0;
    if (len == 0) {
        free (text);
        text = NULL;
    } else
        list_cursor_text (bytes, len, text);
    free (bytes);
    return text;
}

static bool
s_url_safe (const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
              || c == '_'))
            return false;
    }
    return true;
}

/* Reads the binary form (len bytes, checked) into a new cursor. */
static list_cursor_result_t
s_unpack (const uint8_t *buf, size_t len, list_cursor_t **out)
{
    if (len < LIST_CURSOR_HEAD + LIST_CURSOR_ENTRY || buf[0] != LIST_CURSOR_VERSION
        || (len - LIST_CURSOR_HEAD) % LIST_CURSOR_ENTRY != 0)
        return LIST_CURSOR_MALFORMED;
    uint64_t epoch = 0;
    for (size_t i = 1; i <= 8; i++)
        epoch = epoch << 8 | buf[i];
    size_t shards = (size_t)buf[9] << 8 | buf[10];
    size_t entries = (len - LIST_CURSOR_HEAD) / LIST_CURSOR_ENTRY;
    if (shards < 2 || shards > SHARD_MAP_SHARDS_MAX || entries > shards)
        return LIST_CURSOR_MALFORMED;
    list_cursor_t *self = list_cursor_new (epoch, shards);
    if (!self)
        return LIST_CURSOR_NOMEM;
    size_t previous = 0;
    for (size_t e = 0; e < entries; e++) {
        const uint8_t *entry = buf + LIST_CURSOR_HEAD + e * LIST_CURSOR_ENTRY;
        size_t shard = (size_t)entry[0] << 8 | entry[1];
        if (shard >= shards || (e > 0 && shard <= previous)) {
            list_cursor_destroy (&self);
            return LIST_CURSOR_MALFORMED;
        }
        list_cursor_set (self, shard, entry + 2);
        previous = shard;
    }
    *out = self;
    return LIST_CURSOR_OK;
}

list_cursor_result_t
list_cursor_decode (const char *text, size_t len, list_cursor_t **out)
{
    *out = NULL;
    if (!text || len == 0 || len > LIST_CURSOR_TEXT_MAX || !s_url_safe (text, len))
        return LIST_CURSOR_MALFORMED;
    uint8_t *bytes = malloc (BASE64_DECODE_LENGTH (LIST_CURSOR_TEXT_MAX));
    char *again = malloc (BASE64_ENCODE_LENGTH (LIST_CURSOR_BYTES_MAX) + 4);
    list_cursor_result_t rc = LIST_CURSOR_NOMEM;
    if (!bytes || !again)
        goto cleanup;
    struct base64_decode_ctx ctx;
    base64url_decode_init (&ctx);
    size_t n = 0;
    rc = LIST_CURSOR_MALFORMED;
    if (!base64_decode_update (&ctx, &n, bytes, len, text) || n > LIST_CURSOR_BYTES_MAX)
        goto cleanup;
    /* Canonical: the same text again (no stray trailing bits, no padding). */
    if (list_cursor_text (bytes, n, again) != len || memcmp (again, text, len) != 0)
        goto cleanup;
    rc = s_unpack (bytes, n, out);
cleanup:
    free (bytes);
    free (again);
    return rc;
}
