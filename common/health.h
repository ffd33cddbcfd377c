/*
 * health — how `--check` of a long-running client service (notifier,
 * worker) learns whether the running process is doing its job. The process
 * touches a small file while it is healthy (connected to what it needs);
 * `--check` reads the file's age. A stuck, disconnected or dead process
 * stops touching it, so the check fails within max_age — unlike a check of
 * the configuration, which cannot fail once the service has started.
 */
#ifndef HERALD_HEALTH_H
#define HERALD_HEALTH_H

#include <stdint.h>

#define HEALTH_TOUCH_MS 1000    /* how often a healthy process refreshes the file */
#define HEALTH_MAX_AGE_MS 10000 /* older than this, --check fails */

/* Refreshes path's mtime (creating it) at most every HEALTH_TOUCH_MS;
   now_ms is the caller's monotonic clock. Never blocks for long; a
   failure is logged once. NULL path: nothing. */
void health_touch (const char *path, int64_t now_ms);

/* Returns 0 when path exists and was touched within max_age_ms, -1 (after
   printing why to stderr) otherwise. */
int health_check (const char *path, int64_t max_age_ms);

#endif
