/*
 * config — small helpers for the "flag, else HERALD_* environment variable,
 * else default" rule every service follows (docs/ARCHITECTURE.md §1). Parsing
 * is strict: a value that does not parse entirely is an error the caller
 * reports and exits on, never silently replaced by the default.
 */
#ifndef HERALD_CONFIG_H
#define HERALD_CONFIG_H

#include <stdint.h>

/* Returns flag if set, else getenv(env) if set and non-empty, else def.
   Borrowed pointers. */
const char *config_str (const char *flag, const char *env, const char *def);

/* Parses a whole decimal integer in [min, max]. Returns 0 or -1. */
int config_parse_int (const char *text, int64_t min, int64_t max, int64_t *out);

#endif
