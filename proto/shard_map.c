/*
 * shard_map — see shard_map.h.
 *
 * The map keeps two views of the same assignment: an owner per slot (a
 * 32 KiB table, so routing an id is one load) and each shard's ranges in
 * increasing order (so minting picks the n-th slot of a shard by walking a
 * handful of ranges, not 16384 entries). The parser builds both while it
 * reads, which is how it names the line of the shard that already owns a
 * slot when ranges overlap.
 */
#include "shard_map.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_UNOWNED UINT16_MAX

typedef struct {
    uint16_t first, last;
} s_range_t;

typedef struct {
    char *endpoint;
    size_t first_range, n_ranges; /* into ranges[], increasing */
    uint32_t n_slots;
    unsigned line; /* of its shard line; 0 for shard_map_new_single */
} s_shard_t;

struct _shard_map_t {
    uint64_t epoch;
    s_shard_t *shards;
    size_t n_shards;
    s_range_t *ranges;
    size_t n_ranges, ranges_room;
    uint16_t owner[SHARD_MAP_SLOTS];
};

uint16_t
shard_map_slot_of (const uint8_t id[16])
{
    return (uint16_t)(((id[0] & 0x3f) << 8) | id[1]);
}

/* A decimal number of at most max; no sign, no spaces, no empty text. */
static int
s_decimal (const char *text, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0)
        return -1;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        unsigned digit = (unsigned)(text[i] - '0');
        if (value > (max - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    *out = value;
    return 0;
}

bool
shard_map_endpoint_valid (const char *text, size_t len)
{
    if (!text || len > SHARD_MAP_ENDPOINT_MAX || len < 7)
        return false;
    for (size_t i = 0; i < len; i++)
        if (text[i] < 0x21 || text[i] > 0x7e || text[i] == '*')
            return false;
    if (memcmp (text, "ipc://", 6) == 0)
        return true; /* len >= 7: a path of at least one byte */
    if (memcmp (text, "tcp://", 6) != 0)
        return false;
    const char *colon = NULL;
    for (size_t i = 6; i < len; i++)
        if (text[i] == ':')
            colon = text + i;
    uint64_t port;
    return colon && colon > text + 6
           && s_decimal (colon + 1, (size_t)(text + len - colon - 1), 65535, &port) == 0
           && port > 0;
}

static shard_map_t *
s_new (void)
{
    shard_map_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->shards = calloc (SHARD_MAP_SHARDS_MAX, sizeof *self->shards);
    if (!self->shards) {
        free (self);
        return NULL;
    }
    memset (self->owner, 0xff, sizeof self->owner);
    return self;
}

void
shard_map_destroy (shard_map_t **self_p)
{
    assert (self_p);
    shard_map_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_shards; i++)
        free (self->shards[i].endpoint);
    free (self->shards);
    free (self->ranges);
    free (self);
    *self_p = NULL;
}

static int
s_add_range (shard_map_t *self, uint16_t first, uint16_t last)
{
    if (self->n_ranges == self->ranges_room) {
        size_t room = self->ranges_room ? self->ranges_room * 2 : 16;
        s_range_t *ranges = realloc (self->ranges, room * sizeof *ranges);
        if (!ranges)
            return -1;
        self->ranges = ranges;
        self->ranges_room = room;
    }
    self->ranges[self->n_ranges++] = (s_range_t){ first, last };
    return 0;
}

shard_map_t *
shard_map_new_single (const char *endpoint)
{
    if (!endpoint || !shard_map_endpoint_valid (endpoint, strlen (endpoint)))
        return NULL;
    shard_map_t *self = s_new ();
    if (!self)
        return NULL;
    self->n_shards = 1;
    self->shards[0] = (s_shard_t){ strdup (endpoint), 0, 1, SHARD_MAP_SLOTS, 0 };
    if (!self->shards[0].endpoint || s_add_range (self, 0, SHARD_MAP_SLOTS - 1) != 0) {
        shard_map_destroy (&self);
        return NULL;
    }
    memset (self->owner, 0, sizeof self->owner);
    return self;
}

/* ---- Parsing ------------------------------------------------------------- */

typedef struct {
    const char *ptr;
    size_t len;
} s_token_t;

/* The parse in progress: the map, the line being read, the error. */
typedef struct {
    shard_map_t *map;
    unsigned line;
    unsigned epoch_line; /* 0: no epoch yet */
    char *err;
    size_t size;
} s_parser_t;

static int s_fail (s_parser_t *p, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_fail (s_parser_t *p, const char *fmt, ...)
{
    int n = p->line ? snprintf (p->err, p->size, "line %u: ", p->line) : 0;
    if (n < 0 || (size_t)n >= p->size)
        return -1;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (p->err + n, p->size - (size_t)n, fmt, ap);
    va_end (ap);
    return -1;
}

/* Splits text at spaces and tabs into at most max tokens; returns how many
   there were (possibly more than max). */
static size_t
s_tokens (const char *text, size_t len, s_token_t *tokens, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len) {
        while (i < len && (text[i] == ' ' || text[i] == '\t'))
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && text[i] != ' ' && text[i] != '\t')
            i++;
        if (n < max)
            tokens[n] = (s_token_t){ text + start, i - start };
        n++;
    }
    return n;
}

static int
s_epoch (s_parser_t *p, const s_token_t *tokens, size_t n)
{
    if (p->epoch_line)
        return s_fail (p, "epoch given again (first on line %u)", p->epoch_line);
    if (n != 2)
        return s_fail (p, "expected 'epoch N'");
    uint64_t epoch;
    if (s_decimal (tokens[1].ptr, tokens[1].len, UINT64_MAX, &epoch) != 0 || epoch == 0)
        return s_fail (p, "epoch '%.*s' is not a number in [1, %llu]", (int)tokens[1].len,
                       tokens[1].ptr, (unsigned long long)UINT64_MAX);
    p->map->epoch = epoch;
    p->epoch_line = p->line;
    return 0;
}

static int
s_range_cmp (const void *a, const void *b)
{
    const s_range_t *x = a, *y = b;
    return (int)x->first - (int)y->first;
}

/* One range of a shard line, "A" or "A-B": claims its slots for shard. */
static int
s_range (s_parser_t *p, size_t shard, const char *text, size_t len)
{
    const char *dash = memchr (text, '-', len);
    size_t first_len = dash ? (size_t)(dash - text) : len;
    uint64_t first, last;
    if (s_decimal (text, first_len, SHARD_MAP_SLOTS - 1, &first) != 0
        || (dash && s_decimal (dash + 1, len - first_len - 1, SHARD_MAP_SLOTS - 1, &last) != 0))
        return s_fail (p, "slot range '%.*s' is not N or N-M with slots in [0, %d]", (int)len, text,
                       SHARD_MAP_SLOTS - 1);
    if (!dash)
        last = first;
    if (first > last)
        return s_fail (p, "slot range '%.*s' ends before it starts", (int)len, text);
    shard_map_t *map = p->map;
    for (uint64_t slot = first; slot <= last; slot++)
        if (map->owner[slot] != S_UNOWNED) {
            const s_shard_t *other = &map->shards[map->owner[slot]];
            return s_fail (p, "slot %llu is already owned by shard %u (line %u)",
                           (unsigned long long)slot, (unsigned)map->owner[slot], other->line);
        }
    for (uint64_t slot = first; slot <= last; slot++)
        map->owner[slot] = (uint16_t)shard;
    if (s_add_range (map, (uint16_t)first, (uint16_t)last) != 0)
        return s_fail (p, "out of memory");
    map->shards[shard].n_ranges++;
    map->shards[shard].n_slots += (uint32_t)(last - first + 1);
    return 0;
}

static int
s_shard (s_parser_t *p, const s_token_t *tokens, size_t n)
{
    shard_map_t *map = p->map;
    if (n < 3)
        return s_fail (p, "expected 'shard ENDPOINT RANGES' (RANGES: N or N-M, comma-separated)");
    if (n > 3)
        return s_fail (p, "unexpected '%.*s' after the slot ranges (no spaces inside RANGES)",
                       (int)tokens[3].len, tokens[3].ptr);
    const s_token_t *ep = &tokens[1];
    if (!shard_map_endpoint_valid (ep->ptr, ep->len))
        return s_fail (p,
                       "endpoint '%.*s' is not tcp://HOST:PORT (PORT 1-65535) or ipc://PATH, "
                       "at most %d bytes",
                       (int)(ep->len > 300 ? 300 : ep->len), ep->ptr, SHARD_MAP_ENDPOINT_MAX);
    for (size_t i = 0; i < map->n_shards; i++)
        if (strlen (map->shards[i].endpoint) == ep->len
            && memcmp (map->shards[i].endpoint, ep->ptr, ep->len) == 0)
            return s_fail (p, "endpoint %.*s is already shard %zu (line %u)", (int)ep->len, ep->ptr,
                           i, map->shards[i].line);
    if (map->n_shards == SHARD_MAP_SHARDS_MAX)
        return s_fail (p, "more than %d shards", SHARD_MAP_SHARDS_MAX);
    size_t shard = map->n_shards++;
    s_shard_t *s = &map->shards[shard];
    *s = (s_shard_t){ strndup (ep->ptr, ep->len), map->n_ranges, 0, 0, p->line };
    if (!s->endpoint)
        return s_fail (p, "out of memory");
    const char *text = tokens[2].ptr, *end = text + tokens[2].len;
    while (text <= end) {
        const char *comma = memchr (text, ',', (size_t)(end - text));
        const char *stop = comma ? comma : end;
        if (s_range (p, shard, text, (size_t)(stop - text)) != 0)
            return -1;
        text = stop + 1;
    }
    qsort (map->ranges + s->first_range, s->n_ranges, sizeof *map->ranges, s_range_cmp);
    return 0;
}

static int
s_line (s_parser_t *p, const char *text, size_t len)
{
    const char *hash = memchr (text, '#', len);
    if (hash)
        len = (size_t)(hash - text);
    if (len && text[len - 1] == '\r')
        len--;
    s_token_t tokens[4];
    size_t n = s_tokens (text, len, tokens, 4);
    if (n == 0)
        return 0;
    if (tokens[0].len == 5 && memcmp (tokens[0].ptr, "epoch", 5) == 0)
        return s_epoch (p, tokens, n);
    if (tokens[0].len == 5 && memcmp (tokens[0].ptr, "shard", 5) == 0)
        return s_shard (p, tokens, n < 4 ? n : 4);
    return s_fail (p, "unknown directive '%.*s' (expected 'epoch' or 'shard')",
                   (int)(tokens[0].len > 64 ? 64 : tokens[0].len), tokens[0].ptr);
}

/* After the last line: the whole map's rules. */
static int
s_complete (s_parser_t *p)
{
    p->line = 0;
    if (!p->epoch_line)
        return s_fail (p, "no 'epoch N' line");
    if (p->map->n_shards == 0)
        return s_fail (p, "no 'shard ENDPOINT RANGES' line");
    for (uint32_t slot = 0; slot < SHARD_MAP_SLOTS; slot++) {
        if (p->map->owner[slot] != S_UNOWNED)
            continue;
        uint32_t last = slot;
        while (last + 1 < SHARD_MAP_SLOTS && p->map->owner[last + 1] == S_UNOWNED)
            last++;
        return s_fail (p, "slots %u-%u are owned by no shard (every slot 0-%d needs one)", slot,
                       last, SHARD_MAP_SLOTS - 1);
    }
    return 0;
}

shard_map_t *
shard_map_parse (const char *text, size_t len, char *err, size_t size)
{
    assert (text || len == 0);
    s_parser_t p = { .err = err, .size = size };
    if (size)
        err[0] = '\0';
    if (len > SHARD_MAP_FILE_MAX) {
        s_fail (&p, "more than %d bytes", SHARD_MAP_FILE_MAX);
        return NULL;
    }
    if (len && memchr (text, '\0', len)) {
        s_fail (&p, "holds a NUL byte: not a text file");
        return NULL;
    }
    p.map = s_new ();
    if (!p.map) {
        s_fail (&p, "out of memory");
        return NULL;
    }
    const char *end = text + len;
    int rc = 0;
    while (rc == 0 && text < end) {
        const char *nl = memchr (text, '\n', (size_t)(end - text));
        const char *stop = nl ? nl : end;
        p.line++;
        rc = s_line (&p, text, (size_t)(stop - text));
        text = stop + 1;
    }
    if (rc == 0)
        rc = s_complete (&p);
    if (rc != 0)
        shard_map_destroy (&p.map);
    return p.map;
}

shard_map_t *
shard_map_load (const char *path, char *err, size_t size)
{
    assert (path && err && size);
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    /* One byte over the limit tells an over-long file from a full one. */
    char *text = malloc (SHARD_MAP_FILE_MAX + 1);
    if (!text) {
        fclose (file);
        snprintf (err, size, "%s: out of memory", path);
        return NULL;
    }
    size_t len = fread (text, 1, SHARD_MAP_FILE_MAX + 1, file);
    bool failed = ferror (file) != 0;
    fclose (file);
    shard_map_t *map = NULL;
    char why[256];
    if (failed)
        snprintf (why, sizeof why, "read failed");
    else
        map = shard_map_parse (text, len, why, sizeof why);
    free (text);
    if (!map)
        snprintf (err, size, "%s: %s", path, why);
    return map;
}

/* ---- Lookups ------------------------------------------------------------- */

uint64_t
shard_map_epoch (const shard_map_t *self)
{
    assert (self);
    return self->epoch;
}

size_t
shard_map_shards (const shard_map_t *self)
{
    assert (self);
    return self->n_shards;
}

const char *
shard_map_endpoint (const shard_map_t *self, size_t shard)
{
    assert (self && shard < self->n_shards);
    return self->shards[shard].endpoint;
}

size_t
shard_map_owner (const shard_map_t *self, uint16_t slot)
{
    assert (self && slot < SHARD_MAP_SLOTS);
    return self->owner[slot];
}

size_t
shard_map_owner_of (const shard_map_t *self, const uint8_t id[16])
{
    return shard_map_owner (self, shard_map_slot_of (id));
}

uint32_t
shard_map_slot_count (const shard_map_t *self, size_t shard)
{
    assert (self && shard < self->n_shards);
    return self->shards[shard].n_slots;
}

void
shard_map_mint (const shard_map_t *self, size_t shard, uint32_t random, uint8_t id[16])
{
    assert (self && shard < self->n_shards && id);
    const s_shard_t *s = &self->shards[shard];
    uint32_t n = random % s->n_slots;
    const s_range_t *range = self->ranges + s->first_range;
    while (n > (uint32_t)(range->last - range->first)) {
        n -= (uint32_t)(range->last - range->first) + 1;
        range++;
    }
    uint32_t slot = range->first + n;
    assert (self->owner[slot] == shard);
    id[0] = (uint8_t)((id[0] & 0xc0) | (slot >> 8));
    id[1] = (uint8_t)(slot & 0xff);
}
