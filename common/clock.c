/* clock — see clock.h. */
#include "clock.h"

#include <time.h>

int64_t
clock_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
   civil_from_days); exact over the whole clamped range. */
static void
s_civil_from_days (int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

void
clock_format_utc (int64_t unix_ms, char out[CLOCK_UTC_LEN + 1])
{
    /* Four-digit years only: clamp to 0000-01-01 .. 9999-12-31T23:59:59.999. */
    const int64_t min_ms = -62167219200000LL, max_ms = 253402300799999LL;
    if (unix_ms < min_ms)
        unix_ms = min_ms;
    if (unix_ms > max_ms)
        unix_ms = max_ms;
    int64_t days = unix_ms >= 0 ? unix_ms / 86400000 : -((-unix_ms + 86399999) / 86400000);
    int64_t ms_of_day = unix_ms - days * 86400000;
    int64_t year;
    unsigned month, day;
    s_civil_from_days (days, &year, &month, &day);
    unsigned secs = (unsigned)(ms_of_day / 1000);
    unsigned fields[] = { (unsigned)year,
                          month,
                          day,
                          secs / 3600,
                          secs / 60 % 60,
                          secs % 60,
                          (unsigned)(ms_of_day % 1000) };
    /* Fixed layout: digits of each field and the separator after it. */
    static const struct {
        unsigned digits;
        char sep;
    } layout[] = { { 4, '-' }, { 2, '-' }, { 2, 'T' }, { 2, ':' },
                   { 2, ':' }, { 2, '.' }, { 3, 'Z' } };
    size_t pos = 0;
    for (size_t i = 0; i < sizeof layout / sizeof layout[0]; i++) {
        unsigned value = fields[i];
        for (unsigned d = layout[i].digits; d > 0; d--) {
            out[pos + d - 1] = (char)('0' + value % 10);
            value /= 10;
        }
        pos += layout[i].digits;
        out[pos++] = layout[i].sep;
    }
    out[pos] = '\0';
}
