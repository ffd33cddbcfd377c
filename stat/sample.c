/*
 * sample — see sample.h.
 */
#include "sample.h"

#include <stdlib.h>
#include <string.h>

static int
s_add (scrape_t *self, const char *name, size_t name_len, const char *labels, size_t labels_len,
       double value)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        sample_t *samples = realloc (self->samples, cap * sizeof *samples);
        if (!samples)
            return -1;
        self->samples = samples;
        self->cap = cap;
    }
    sample_t *s = &self->samples[self->n];
    s->name = strndup (name, name_len);
    s->labels = strndup (labels, labels_len);
    if (!s->name || !s->labels) {
        free (s->name);
        free (s->labels);
        return -1;
    }
    s->value = value;
    self->n++;
    return 0;
}

/* One line; skipped (0) when it is no sample. */
static int
s_line (scrape_t *self, const char *line, size_t len)
{
    if (len == 0 || line[0] == '#')
        return 0;
    const char *space = NULL;
    for (size_t i = len; i > 0; i--)
        if (line[i - 1] == ' ') {
            space = line + i - 1;
            break;
        }
    if (!space || space == line)
        return 0;
    char number[64];
    size_t nlen = (size_t)(line + len - space - 1);
    if (nlen == 0 || nlen >= sizeof number)
        return 0;
    memcpy (number, space + 1, nlen);
    number[nlen] = '\0';
    char *end = NULL;
    double value = strtod (number, &end);
    if (end == number || *end != '\0')
        return 0;
    size_t series_len = (size_t)(space - line);
    const char *brace = memchr (line, '{', series_len);
    if (!brace)
        return s_add (self, line, series_len, "", 0, value);
    const char *close = line + series_len - 1;
    if (*close != '}')
        return 0;
    return s_add (self, line, (size_t)(brace - line), brace + 1, (size_t)(close - brace - 1),
                  value);
}

int
scrape_parse (scrape_t *self, const char *text, size_t len)
{
    scrape_clear (self);
    size_t at = 0;
    while (at < len) {
        const char *nl = memchr (text + at, '\n', len - at);
        size_t line_len = nl ? (size_t)(nl - (text + at)) : len - at;
        if (s_line (self, text + at, line_len) != 0)
            return -1;
        at += line_len + 1;
    }
    return 0;
}

/* Whether labels holds every comma-separated part of filter. */
static bool
s_matches (const char *labels, const char *filter)
{
    if (!filter || !*filter)
        return true;
    char part[128];
    while (*filter) {
        const char *comma = strchr (filter, ',');
        size_t plen = comma ? (size_t)(comma - filter) : strlen (filter);
        if (plen >= sizeof part)
            return false;
        memcpy (part, filter, plen);
        part[plen] = '\0';
        if (!strstr (labels, part))
            return false;
        filter += plen + (comma ? 1 : 0);
    }
    return true;
}

double
scrape_sum (const scrape_t *self, const char *name, const char *filter, bool *found)
{
    double sum = 0;
    bool any = false;
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->samples[i].name, name) == 0
            && s_matches (self->samples[i].labels, filter)) {
            sum += self->samples[i].value;
            any = true;
        }
    if (found)
        *found = any;
    return sum;
}

void
scrape_clear (scrape_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        free (self->samples[i].name);
        free (self->samples[i].labels);
    }
    free (self->samples);
    memset (self, 0, sizeof *self);
}
