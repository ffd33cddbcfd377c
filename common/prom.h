/*
 * prom — writing Prometheus' text exposition format (version 0.0.4), and
 * the latency histogram every Herald service keeps.
 *
 * Each service renders its own /metrics with these (the gateway on its API
 * port, the others through metrics_http.h), so names, HELP and TYPE lines,
 * label quoting and histogram layout are written in one place. Durations
 * are recorded in microseconds and exposed in seconds (Prometheus' base
 * unit); every latency histogram has the same buckets, 10 us to 2.5 s, so
 * dashboards can put any two side by side.
 *
 * A histogram's counts are relaxed atomics: the gateway's loop threads
 * share one, and a single-threaded service pays a few nanoseconds for it.
 * Each observation lands in exactly one bucket; the cumulative form is
 * summed when written.
 */
#ifndef HERALD_PROM_H
#define HERALD_PROM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROM_BUCKETS 19 /* 18 upper bounds (prom.c) and +Inf */

typedef struct {
    atomic_uint_fast64_t buckets[PROM_BUCKETS];
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_us;
} prom_histogram_t;

/* Records one duration (negative counts as 0). A zeroed histogram (static
   or calloc'd) is an empty one. */
void prom_observe_us (prom_histogram_t *h, int64_t us);

/* Observations so far. */
uint64_t prom_histogram_count (prom_histogram_t *h);

/* Writes the exposition into a heap string: calls write (out, arg) on a
   memory stream and returns the text (caller frees) with its length in
   *len, or NULL when out of memory. */
typedef void (prom_write_fn) (FILE *out, void *arg);
char *prom_text (prom_write_fn *write, void *arg, size_t *len);

/* Writes the "# HELP" and "# TYPE" lines of a metric family; type is
   "counter", "gauge" or "histogram". help must not hold a newline. */
void prom_family (FILE *out, const char *name, const char *type, const char *help);

/* Writes one sample; labels is NULL or "" for none, else the inside of the
   braces (`op="get",result="ok"`). */
void prom_sample (FILE *out, const char *name, const char *labels, uint64_t value);

/* The same for a value in seconds or another fraction. */
void prom_sample_double (FILE *out, const char *name, const char *labels, double value);

/* A family of one sample: its HELP and TYPE lines and the value. */
void prom_counter (FILE *out, const char *name, const char *help, uint64_t value);
void prom_gauge (FILE *out, const char *name, const char *help, uint64_t value);

/* This process's resident memory in bytes (/proc/self/statm); 0 when
   /proc does not say. */
uint64_t prom_resident_bytes (void);

/* The process families every Prometheus client exposes, from /proc:
   process_start_time_seconds (a restart shows as a new value),
   process_cpu_seconds_total and process_resident_memory_bytes. A value
   /proc does not give is left out. */
void prom_process (FILE *out);

/* Writes a histogram's _bucket, _sum and _count samples (not its family
   lines); labels as for prom_sample. */
void prom_histogram_write (FILE *out, const char *name, const char *labels, prom_histogram_t *h);

#endif
