/*
 * sample — one scrape of a Herald service's /metrics as herald-stat reads
 * it: the samples of the Prometheus text format (`name{labels} value`),
 * looked up by family and a label filter.
 *
 * Only what herald-stat needs from the format the services write
 * (common/prom.h): comment lines are skipped, a sample is the series up to
 * its last space and a number after it. A line that is not that is
 * skipped, not an error: a scrape is a view, and one odd line must not
 * blank the others.
 */
#ifndef HERALD_STAT_SAMPLE_H
#define HERALD_STAT_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *name;   /* the family's sample name, e.g. herald_worker_printed_total */
    char *labels; /* inside the braces, "" when none */
    double value;
} sample_t;

typedef struct {
    sample_t *samples;
    size_t n, cap;
} scrape_t;

/* Parses text (len bytes, not NUL-terminated) into self (cleared first).
   Returns 0, or -1 when out of memory. */
int scrape_parse (scrape_t *self, const char *text, size_t len);

/* The sum of the samples named name whose labels contain every
   comma-separated part of filter (NULL or "" = all). *found tells whether
   any matched (may be NULL). */
double scrape_sum (const scrape_t *self, const char *name, const char *filter, bool *found);

void scrape_clear (scrape_t *self);

#endif
