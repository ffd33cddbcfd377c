/*
 * scrape — a service's /metrics as the tests see it: fetched and parsed by
 * tests/promparse.py (prometheus_client's own text parser, strict about
 * HELP and TYPE), then looked up series by series.
 */
#ifndef HERALD_TEST_SCRAPE_H
#define HERALD_TEST_SCRAPE_H

#include <stddef.h>

typedef struct {
    size_t n;
    char **series; /* `name{k="v",...}`, labels sorted by name */
    double *values;
} scrape_t;

/* Scrapes http://127.0.0.1:port/metrics into out (cleared first). Returns
   0, or -1 when the fetch or the strict parse failed (the parser's reason
   on stderr). */
int scrape_metrics (int port, scrape_t *out);

/* The value of one series exactly as promparse prints it, e.g.
   `herald_store_operations_total{op="create",result="ok"}`; NAN when the
   scrape has no such series. */
double scrape_value (const scrape_t *self, const char *series);

void scrape_clear (scrape_t *self);

#endif
