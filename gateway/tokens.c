/*
 * tokens — see tokens.h. The parser walks the text line by line without
 * copying it; each error is reported with the first line that breaks a
 * rule, and nothing is kept from a file with an error.
 */
#include "tokens.h"

#include <errno.h>
#include <nettle/base16.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char name[TOKENS_NAME_MAX + 1];
    unsigned scopes;
    uint8_t hash[TOKENS_HASH_LEN];
} s_token_t;

struct _tokens_t {
    s_token_t *items;
    size_t size;
};

static const struct {
    const char *name;
    unsigned bit;
} s_scopes[] = {
    { "read", TOKENS_SCOPE_READ },
    { "write", TOKENS_SCOPE_WRITE },
    { "admin", TOKENS_SCOPE_ADMIN },
};

const char *
tokens_scope_name (unsigned scope)
{
    for (size_t i = 0; i < sizeof s_scopes / sizeof s_scopes[0]; i++)
        if (s_scopes[i].bit == scope)
            return s_scopes[i].name;
    return "";
}

int
tokens_scopes_parse (const char *text, size_t len, unsigned *scopes)
{
    unsigned mask = 0;
    size_t at = 0;
    do {
        const char *comma = memchr (text + at, ',', len - at);
        size_t end = comma ? (size_t)(comma - text) : len;
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof s_scopes / sizeof s_scopes[0]; i++)
            if (strlen (s_scopes[i].name) == end - at
                && memcmp (s_scopes[i].name, text + at, end - at) == 0)
                bit = s_scopes[i].bit;
        if (bit == 0 || (mask & bit))
            return -1;
        mask |= bit;
        at = end + 1;
    } while (at <= len);
    *scopes = mask;
    return 0;
}

static bool
s_name_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
           || c == '_' || c == '-';
}

/* True when the len bytes at name make a valid token name. */
static bool
s_name_valid (const char *name, size_t len)
{
    if (len == 0 || len > TOKENS_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!s_name_char (name[i]))
            return false;
    return true;
}

bool
tokens_name_valid (const char *name)
{
    return s_name_valid (name, strlen (name));
}

/* Decodes exactly TOKENS_HASH_HEX hex digits (either case) with nettle's
   base16 decoder, which skips white space: the decoded length catches a
   field that holds any. 0 or -1. */
static int
s_hash_decode (const char *hex, size_t len, uint8_t hash[TOKENS_HASH_LEN])
{
    if (len != TOKENS_HASH_HEX)
        return -1;
    struct base16_decode_ctx ctx;
    size_t out = TOKENS_HASH_LEN;
    base16_decode_init (&ctx);
    if (!base16_decode_update (&ctx, &out, hash, len, hex) || !base16_decode_final (&ctx))
        return -1;
    return out == TOKENS_HASH_LEN ? 0 : -1;
}

void
tokens_hash (const char *secret, size_t len, uint8_t hash[TOKENS_HASH_LEN])
{
    struct sha256_ctx ctx;
    sha256_init (&ctx);
    sha256_update (&ctx, len, (const uint8_t *)secret);
    sha256_digest (&ctx, TOKENS_HASH_LEN, hash);
}

void
tokens_hash_hex (const uint8_t hash[TOKENS_HASH_LEN], char hex[TOKENS_HASH_HEX + 1])
{
    base16_encode_update (hex, TOKENS_HASH_LEN, hash);
    hex[TOKENS_HASH_HEX] = '\0';
}

__attribute__ ((format (printf, 5, 6))) static void
s_error (char *err, size_t err_size, const char *origin, size_t line, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (why, sizeof why, fmt, ap);
    va_end (ap);
    if (line)
        snprintf (err, err_size, "%s:%zu: %s", origin, line, why);
    else
        snprintf (err, err_size, "%s: %s", origin, why);
}

static bool
s_blank (char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Splits a line into at most 4 blank-separated fields (a 4th means too
   many). Returns how many were found. */
static int
s_fields (const char *line, size_t len, const char *start[4], size_t flen[4])
{
    int n = 0;
    size_t i = 0;
    while (n < 4) {
        while (i < len && s_blank (line[i]))
            i++;
        if (i == len)
            break;
        start[n] = line + i;
        while (i < len && !s_blank (line[i]))
            i++;
        flen[n] = (size_t)(line + i - start[n]);
        n++;
    }
    return n;
}

/* Parses one non-comment line into token. 0, or -1 with err set. */
static int
s_parse_line (const char *line, size_t len, s_token_t *token, const char *origin, size_t lineno,
              char *err, size_t err_size)
{
    const char *field[4];
    size_t flen[4];
    int n = s_fields (line, len, field, flen);
    if (n != 3) {
        s_error (err, err_size, origin, lineno,
                 "%s fields, expected 3: NAME SCOPES SHA256HEX (a '#' comment takes a whole line)",
                 n < 3 ? "too few" : "too many");
        return -1;
    }
    if (!s_name_valid (field[0], flen[0])) {
        s_error (err, err_size, origin, lineno, "bad token name (1..%d of A-Z a-z 0-9 . _ -)",
                 TOKENS_NAME_MAX);
        return -1;
    }
    memcpy (token->name, field[0], flen[0]);
    token->name[flen[0]] = '\0';
    if (tokens_scopes_parse (field[1], flen[1], &token->scopes) != 0) {
        s_error (err, err_size, origin, lineno,
                 "bad scopes '%.*s' (a comma-separated subset of read,write,admin)",
                 (int)(flen[1] > 40 ? 40 : flen[1]), field[1]);
        return -1;
    }
    if (s_hash_decode (field[2], flen[2], token->hash) != 0) {
        s_error (err, err_size, origin, lineno,
                 "bad hash: expected the secret's SHA-256 as %d hex digits (herald-token makes "
                 "it)",
                 TOKENS_HASH_HEX);
        return -1;
    }
    return 0;
}

/* -1 with err set when token repeats an earlier name or hash. */
static int
s_check_unique (const tokens_t *self, const s_token_t *token, const char *origin, size_t lineno,
                char *err, size_t err_size)
{
    for (size_t i = 0; i < self->size; i++) {
        if (strcmp (self->items[i].name, token->name) == 0) {
            s_error (err, err_size, origin, lineno, "token name '%s' given twice", token->name);
            return -1;
        }
        if (memcmp (self->items[i].hash, token->hash, TOKENS_HASH_LEN) == 0) {
            s_error (err, err_size, origin, lineno, "same hash as token '%s'", self->items[i].name);
            return -1;
        }
    }
    return 0;
}

tokens_t *
tokens_parse (const char *text, size_t len, const char *origin, char *err, size_t err_size)
{
    if (len > TOKENS_FILE_MAX) {
        s_error (err, err_size, origin, 0, "file over %d bytes", TOKENS_FILE_MAX);
        return NULL;
    }
    tokens_t *self = calloc (1, sizeof *self);
    if (!self) {
        s_error (err, err_size, origin, 0, "out of memory");
        return NULL;
    }
    size_t at = 0, lineno = 0, cap = 0;
    while (at < len) {
        lineno++;
        const char *nl = memchr (text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *line = text + at;
        size_t line_len = end - at;
        at = end + 1;
        if (line_len > TOKENS_LINE_MAX) {
            s_error (err, err_size, origin, lineno, "line over %d bytes", TOKENS_LINE_MAX);
            goto fail;
        }
        if (memchr (line, '\0', line_len)) {
            s_error (err, err_size, origin, lineno, "NUL byte in the line");
            goto fail;
        }
        size_t first = 0;
        while (first < line_len && s_blank (line[first]))
            first++;
        if (first == line_len || line[first] == '#')
            continue;
        if (self->size == TOKENS_MAX) {
            s_error (err, err_size, origin, lineno, "more than %d tokens", TOKENS_MAX);
            goto fail;
        }
        if (self->size == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            s_token_t *items = realloc (self->items, ncap * sizeof *items);
            if (!items) {
                s_error (err, err_size, origin, 0, "out of memory");
                goto fail;
            }
            self->items = items;
            cap = ncap;
        }
        s_token_t *token = &self->items[self->size];
        if (s_parse_line (line, line_len, token, origin, lineno, err, err_size) != 0
            || s_check_unique (self, token, origin, lineno, err, err_size) != 0)
            goto fail;
        self->size++;
    }
    return self;
fail:
    tokens_destroy (&self);
    return NULL;
}

tokens_t *
tokens_load (const char *path, bool *world_readable, char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    struct stat st;
    if (world_readable)
        *world_readable = fstat (fileno (file), &st) == 0 && (st.st_mode & S_IROTH);
    /* One byte over the limit is enough to tell the file is too large. */
    char *text = malloc (TOKENS_FILE_MAX + 1);
    size_t len = text ? fread (text, 1, TOKENS_FILE_MAX + 1, file) : 0;
    bool failed = !text || ferror (file);
    int saved = errno;
    fclose (file);
    tokens_t *self = NULL;
    if (failed)
        snprintf (err, err_size, "%s: %s", path, text ? strerror (saved) : "out of memory");
    else
        self = tokens_parse (text, len, path, err, err_size);
    free (text);
    return self;
}

void
tokens_destroy (tokens_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->items);
    free (*self_p);
    *self_p = NULL;
}

size_t
tokens_size (const tokens_t *self)
{
    return self ? self->size : 0;
}

unsigned
tokens_lookup (const tokens_t *self, const char *secret, size_t len, const char **name)
{
    if (name)
        *name = NULL;
    if (!self || len == 0 || len > TOKENS_SECRET_MAX)
        return 0;
    uint8_t hash[TOKENS_HASH_LEN];
    tokens_hash (secret, len, hash);
    unsigned scopes = 0;
    for (size_t i = 0; i < self->size; i++)
        /* No early exit: every entry costs the same whether it matches or
           not (hashes are unique, so at most one does). */
        if (memeql_sec (self->items[i].hash, hash, TOKENS_HASH_LEN)) {
            scopes = self->items[i].scopes;
            if (name)
                *name = self->items[i].name;
        }
    return scopes;
}
