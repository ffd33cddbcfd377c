/*
 * health — how `--check` of a long-running client service (notifier,
 * worker) learns whether the running process is doing its job. The process
 * touches a small file while it is healthy (connected to what it needs);
 * `--check` reads the file's age. A stuck, disconnected or dead process
 * stops touching it, so the check fails within max_age — unlike a check of
 * the configuration, which cannot fail once the service has started.
 *
 * A process that is up and connected but knows it is not doing its job
 * (the notifier with changes waiting and nothing confirmed) says so instead:
 * health_fail writes the reason into the file, and `--check` fails at once,
 * printing it, until the next health_touch empties the file again. An empty
 * file is the healthy state, so files written before reasons existed still
 * read as they did.
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

/* Marks the running process unhealthy for the reason why (one line; NULL
   or empty: "unhealthy"), replacing the file atomically; refreshed at most
   every HEALTH_TOUCH_MS while it lasts. The next health_touch, whatever its
   timing, makes the file healthy again. NULL path: nothing. */
void health_fail (const char *path, int64_t now_ms, const char *why);

/* Returns 0 when path exists, holds no reason (health_fail) and was
   touched within max_age_ms; -1 (after printing why to stderr) otherwise. */
int health_check (const char *path, int64_t max_age_ms);

#endif
