/*
 * prom — see prom.h.
 */
#include "prom.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const int64_t s_bounds_us[PROM_BUCKETS - 1] = { 10,      25,      50,     100,    250,
                                                       500,     1000,    2500,   5000,   10000,
                                                       25000,   50000,   100000, 250000, 500000,
                                                       1000000, 2500000, 5000000 };

void
prom_observe_us (prom_histogram_t *h, int64_t us)
{
    assert (h);
    if (us < 0)
        us = 0;
    size_t i = 0;
    while (i < PROM_BUCKETS - 1 && us > s_bounds_us[i])
        i++;
    atomic_fetch_add_explicit (&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&h->sum_us, (uint64_t)us, memory_order_relaxed);
}

uint64_t
prom_histogram_count (prom_histogram_t *h)
{
    assert (h);
    return atomic_load_explicit (&h->count, memory_order_relaxed);
}

void
prom_family (FILE *out, const char *name, const char *type, const char *help)
{
    fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
prom_sample (FILE *out, const char *name, const char *labels, uint64_t value)
{
    if (labels && labels[0])
        fprintf (out, "%s{%s} %llu\n", name, labels, (unsigned long long)value);
    else
        fprintf (out, "%s %llu\n", name, (unsigned long long)value);
}

void
prom_sample_double (FILE *out, const char *name, const char *labels, double value)
{
    if (labels && labels[0])
        fprintf (out, "%s{%s} %.6f\n", name, labels, value);
    else
        fprintf (out, "%s %.6f\n", name, value);
}

void
prom_histogram_write (FILE *out, const char *name, const char *labels, prom_histogram_t *h)
{
    assert (h);
    const char *sep = labels && labels[0] ? "," : "";
    if (!labels)
        labels = "";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < PROM_BUCKETS; i++) {
        cumulative += atomic_load_explicit (&h->buckets[i], memory_order_relaxed);
        if (i < PROM_BUCKETS - 1)
            fprintf (out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                     (double)s_bounds_us[i] / 1e6, (unsigned long long)cumulative);
        else
            fprintf (out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                     (unsigned long long)cumulative);
    }
    char sample[160];
    snprintf (sample, sizeof sample, "%s_sum", name);
    prom_sample_double (out, sample, labels,
                        (double)atomic_load_explicit (&h->sum_us, memory_order_relaxed) / 1e6);
    snprintf (sample, sizeof sample, "%s_count", name);
    /* _count is the +Inf bucket as read, so a scrape racing an observation
       still shows the two equal. */
    prom_sample (out, sample, labels, cumulative);
}

void
prom_counter (FILE *out, const char *name, const char *help, uint64_t value)
{
    prom_family (out, name, "counter", help);
    prom_sample (out, name, NULL, value);
}

void
prom_gauge (FILE *out, const char *name, const char *help, uint64_t value)
{
    prom_family (out, name, "gauge", help);
    prom_sample (out, name, NULL, value);
}

char *
prom_text (prom_write_fn *write, void *arg, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream (&text, len);
    if (!out)
        return NULL;
    write (out, arg);
    if (fclose (out) != 0) {
        free (text);
        return NULL;
    }
    return text;
}

uint64_t
prom_resident_bytes (void)
{
    FILE *f = fopen ("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, resident = 0;
    int got = fscanf (f, "%llu %llu", &size, &resident);
    fclose (f);
    long page = sysconf (_SC_PAGESIZE);
    return got == 2 && page > 0 ? resident * (uint64_t)page : 0;
}

void
prom_process (FILE *out)
{
    long ticks = sysconf (_SC_CLK_TCK);
    char stat[1024] = "";
    FILE *f = fopen ("/proc/self/stat", "r");
    size_t n = f ? fread (stat, 1, sizeof stat - 1, f) : 0;
    if (f)
        fclose (f);
    stat[n] = '\0';
    /* After the command's closing parenthesis: state is field 3, utime 14,
       stime 15, starttime 22. */
    const char *p = strrchr (stat, ')');
    unsigned long long utime = 0, stime = 0, start = 0, btime = 0;
    bool have_stat = p && ticks > 0
                     && sscanf (p + 2,
                                "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
                                "%*d %*d %*d %*d %llu",
                                &utime, &stime, &start)
                            == 3;
    f = fopen ("/proc/stat", "r");
    char line[256];
    while (f && fgets (line, sizeof line, f))
        if (sscanf (line, "btime %llu", &btime) == 1)
            break;
    if (f)
        fclose (f);
    if (have_stat && btime) {
        prom_family (out, "process_start_time_seconds", "gauge",
                     "Start time of the process since the Unix epoch in seconds.");
        prom_sample_double (out, "process_start_time_seconds", NULL,
                            (double)btime + (double)start / (double)ticks);
    }
    if (have_stat) {
        prom_family (out, "process_cpu_seconds_total", "counter",
                     "Total user and system CPU time spent in seconds.");
        prom_sample_double (out, "process_cpu_seconds_total", NULL,
                            (double)(utime + stime) / (double)ticks);
    }
    uint64_t resident = prom_resident_bytes ();
    if (resident) {
        prom_family (out, "process_resident_memory_bytes", "gauge",
                     "Resident memory size in bytes.");
        prom_sample (out, "process_resident_memory_bytes", NULL, resident);
    }
}
