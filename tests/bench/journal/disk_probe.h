/*
 * disk_probe — this disk's own fdatasync latency, the price `--fsync
 * always` pays per group commit, measured in the same run as the stores so
 * the two can be read side by side (docs/ARCHITECTURE.md §8). One sample is
 * what a journal commit does: append 4 KiB to a file and fdatasync it (an
 * append also makes the sync write the file's new size, as the journal's
 * does). The file is a temporary one in the directory given (the data dirs'
 * root), removed after each batch of samples.
 *
 * Samples accumulate over several calls, so a benchmark can take a few
 * between its runs, round after round, and report one distribution.
 */
#ifndef HERALD_BENCH_DISK_PROBE_H
#define HERALD_BENCH_DISK_PROBE_H

#include <stddef.h>
#include <stdint.h>

#define DISK_PROBE_BLOCK 4096
#define DISK_PROBE_MAX_MS 10000 /* one batch stops after this long */

typedef struct _disk_probe_t disk_probe_t;

typedef struct {
    size_t samples;
    double median_us, p99_us, mean_us, max_us;
} disk_probe_summary_t;

/* Returns NULL when out of memory. */
disk_probe_t *disk_probe_new (void);
void disk_probe_destroy (disk_probe_t **self_p);

/* Takes up to count samples (write 4 KiB at the end of a temporary file in
   dir, then fdatasync it), stopping early after DISK_PROBE_MAX_MS. Blocks
   on the disk. Returns 0, or -1 when the file cannot be created, written
   or synced (reported on stderr; samples taken so far are kept). */
int disk_probe_run (disk_probe_t *self, const char *dir, size_t count);

/* The distribution of every sample taken so far (zeros when none). */
void disk_probe_summary (disk_probe_t *self, disk_probe_summary_t *out);

/* Prints that distribution on one line naming dir (nothing when no sample
   was taken). */
void disk_probe_print (disk_probe_t *self, const char *dir);

#endif
