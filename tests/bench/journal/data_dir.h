/*
 * data_dir — the scratch data dirs a benchmark gives herald-store. Each run
 * of a journaled mode gets a fresh one, so no run replays or compacts what
 * an earlier one wrote, and each is removed when its store has stopped
 * (removing a file also drops its dirty pages, so a `--fsync no` run leaves
 * no writeback behind to slow the next run's fdatasync).
 *
 * They live on the disk being measured: by default the build directory
 * (docs/ARCHITECTURE.md §8 compares the fsync policies on this machine's
 * disk, and /tmp may be a tmpfs whose fdatasync costs nothing).
 */
#ifndef HERALD_BENCH_DATA_DIR_H
#define HERALD_BENCH_DATA_DIR_H

#include <stddef.h>

/* The default root: the parent of the directory holding this binary (the
   build tree, for build/bin/herald-bench-*). Returns 0 or -1. */
int data_dir_root_default (char *buf, size_t size);

/* A benchmark's --data-root: left as given, or, when buf is empty, the
   default root; when there is none it says so on stderr. Returns 0 or -1. */
int data_dir_root_option (char *buf, size_t size);

/* Creates a fresh, empty directory root/herald-bench-<tag>-XXXXXX and puts
   its path in out. Returns 0 or -1 (errno set). */
int data_dir_make (const char *root, const char *tag, char *out, size_t size);

/* Removes a directory data_dir_make created and every file in it. Refuses
   (returns -1) a path whose last component is not herald-bench-*, so a
   slip can never remove anything else. Returns 0 or -1. */
int data_dir_remove (const char *path);

#endif
