/*
 * disk_probe — see disk_probe.h. Each sample times the write and the sync
 * together, as journal_commit's pwrite + fdatasync are; the write only
 * copies 4 KiB into the page cache, so the sync is nearly all of it.
 */
#include "disk_probe.h"

#include "clock.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct _disk_probe_t {
    int64_t *us;
    size_t n, cap;
};

disk_probe_t *
disk_probe_new (void)
{
    return calloc (1, sizeof (disk_probe_t));
}

void
disk_probe_destroy (disk_probe_t **self_p)
{
    assert (self_p);
    disk_probe_t *self = *self_p;
    if (!self)
        return;
    free (self->us);
    free (self);
    *self_p = NULL;
}

static int
s_reserve (disk_probe_t *self, size_t more)
{
    if (self->n + more <= self->cap)
        return 0;
    size_t cap = self->n + more;
    int64_t *us = realloc (self->us, cap * sizeof *us);
    if (!us)
        return -1;
    self->us = us;
    self->cap = cap;
    return 0;
}

int
disk_probe_run (disk_probe_t *self, const char *dir, size_t count)
{
    assert (self);
    if (s_reserve (self, count) != 0)
        return -1;
    char path[1024];
    snprintf (path, sizeof path, "%s/herald-bench-fdatasync-XXXXXX", dir);
    int fd = mkstemp (path);
    if (fd < 0) {
        fprintf (stderr, "bench: cannot create %s: %s\n", path, strerror (errno));
        return -1;
    }
    /* Not all zeros, in case a filesystem ever treats those specially. */
    char block[DISK_PROBE_BLOCK];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (char)('a' + i % 26);
    int rc = 0;
    int64_t deadline = clock_mono_ms () + DISK_PROBE_MAX_MS;
    for (size_t i = 0; i < count && clock_mono_ms () < deadline; i++) {
        int64_t t0 = clock_mono_us ();
        if (pwrite (fd, block, sizeof block, (off_t)(i * sizeof block)) != (ssize_t)sizeof block
            || fdatasync (fd) != 0) {
            fprintf (stderr, "bench: write + fdatasync of %s: %s\n", path, strerror (errno));
            rc = -1;
            break;
        }
        self->us[self->n++] = clock_mono_us () - t0;
    }
    close (fd);
    unlink (path);
    return rc;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void
disk_probe_summary (disk_probe_t *self, disk_probe_summary_t *out)
{
    assert (self);
    memset (out, 0, sizeof *out);
    if (self->n == 0)
        return;
    qsort (self->us, self->n, sizeof *self->us, s_cmp);
    double total = 0;
    for (size_t i = 0; i < self->n; i++)
        total += (double)self->us[i];
    out->samples = self->n;
    out->median_us = (double)self->us[self->n / 2];
    out->p99_us = (double)self->us[self->n * 99 / 100];
    out->mean_us = total / (double)self->n;
    out->max_us = (double)self->us[self->n - 1];
}

void
disk_probe_print (disk_probe_t *self, const char *dir)
{
    assert (self);
    disk_probe_summary_t disk;
    disk_probe_summary (self, &disk);
    if (disk.samples)
        printf ("this disk (%s): write 4 KiB + fdatasync, %zu samples taken between the runs: "
                "median %.3f ms, p99 %.3f ms, mean %.3f ms, max %.3f ms\n",
                dir, disk.samples, disk.median_us / 1e3, disk.p99_us / 1e3, disk.mean_us / 1e3,
                disk.max_us / 1e3);
}
