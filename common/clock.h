/*
 * clock — time sources. Monotonic milliseconds for deadlines and timeouts
 * (never jumps), wall-clock milliseconds (and microseconds) for the
 * timestamps events carry, and the one text form of a wall-clock time that
 * Herald writes: in the API's JSON and at the start of every log line.
 */
#ifndef HERALD_CLOCK_H
#define HERALD_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms (void);
int64_t clock_mono_us (void);
int64_t clock_wall_ms (void);
/* Wall-clock microseconds: an event's creation time (its created_at and
   created_us, proto.h), finer than milliseconds so that events made by
   different stores within one millisecond still compare. */
int64_t clock_wall_us (void);

#define CLOCK_UTC_LEN 24 /* "2026-11-24T10:00:00.123Z" */

/* Formats Unix milliseconds as RFC 3339 UTC with milliseconds
   ("2026-11-24T10:00:00.123Z"); out gets CLOCK_UTC_LEN chars + NUL. Times
   outside years 0000..9999 are clamped to the nearest end. */
void clock_format_utc (int64_t unix_ms, char out[CLOCK_UTC_LEN + 1]);

#endif
