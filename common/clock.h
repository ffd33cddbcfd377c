/*
 * clock — time sources. Monotonic milliseconds for deadlines and timeouts
 * (never jumps), wall-clock milliseconds for the timestamps events carry.
 */
#ifndef HERALD_CLOCK_H
#define HERALD_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms (void);
int64_t clock_mono_us (void);
int64_t clock_wall_ms (void);

#endif
