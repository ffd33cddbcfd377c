/*
 * store_proc — herald-store as the benchmarks run it, in one of the modes
 * they compare (docs/ARCHITECTURE.md §8, issue 12 section 4):
 *   off       no --data-dir: in memory, the baseline
 *   no        --fsync no: the journal is written, the kernel syncs it
 *   everysec  --fsync everysec: a background thread syncs once a second
 *   always    --fsync always: every group commit is synced before replies
 * on free loopback ports, with --feed-max at its limit (nothing drains the
 * change feed during a benchmark) and the caller's data dir and flags.
 */
#ifndef HERALD_BENCH_STORE_PROC_H
#define HERALD_BENCH_STORE_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef enum {
    STORE_MODE_OFF = 0,
    STORE_MODE_NO,
    STORE_MODE_EVERYSEC,
    STORE_MODE_ALWAYS,
    STORE_MODE_COUNT
} store_mode_t;

#define STORE_MODES_DEFAULT "off,no,everysec,always"
#define STORE_PROC_FEED_MAX "100000000" /* FEED_MAX_LIMIT */
#define STORE_PROC_MAX_EXTRA 16

/* "off", "no", "everysec", "always". */
const char *store_mode_name (store_mode_t mode);

/* Parses a comma-separated list of mode names into modes (at most max,
   each once, in the order given). Returns how many, or -1 (reported on
   stderr) for an unknown or repeated name or an empty list. */
int store_mode_parse_list (const char *text, store_mode_t *modes, int max);

typedef struct {
    store_mode_t mode;
    pid_t pid; /* -1 when not running */
    int port;
    char endpoint[64];   /* tcp://127.0.0.1:<port> */
    char data_dir[1024]; /* "" in mode off */
} store_proc_t;

/* Starts herald-store in mode: --data-dir data_dir (ignored, and may be
   NULL, in mode off) and --fsync per mode, --log-level log_level, then
   extra (NULL-terminated, at most STORE_PROC_MAX_EXTRA, may be NULL).
   Output goes to log_path (NULL: inherited). Does not wait for it to
   answer. Returns 0, or -1 when it could not be spawned. */
int store_proc_spawn (store_proc_t *self, store_mode_t mode, const char *data_dir,
                      const char *log_level, const char *const extra[], const char *log_path);

/* Waits until the store accepts connections, up to timeout_ms. Returns 0,
   or -1 when it exited or did not listen in time. */
int store_proc_wait (store_proc_t *self, int timeout_ms);

/* SIGTERM, then waits up to timeout_ms (SIGKILL after that). Returns 0
   when the store exited with status 0, else -1. No-op (0) when not
   running. */
int store_proc_stop (store_proc_t *self, int timeout_ms);

#endif
