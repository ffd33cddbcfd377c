/*
 * log — see log.h. A single formatted buffer per line, written with one
 * write(2) call; no locks, no allocation.
 */
#include "log.h"

#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *s_service = "herald";
static volatile log_level_t s_level = LOG_LEVEL_INFO;

void
log_init (const char *service, log_level_t level)
{
    s_service = service;
    s_level = level;
}

int
log_level_parse (const char *text, log_level_t *level)
{
    static const struct {
        const char *name;
        log_level_t level;
    } names[] = {
        { "debug", LOG_LEVEL_DEBUG },  { "info", LOG_LEVEL_INFO },   { "warn", LOG_LEVEL_WARN },
        { "warning", LOG_LEVEL_WARN }, { "error", LOG_LEVEL_ERROR },
    };
    if (!text)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp (text, names[i].name) == 0) {
            *level = names[i].level;
            return 0;
        }
    return -1;
}

log_level_t
log_get_level (void)
{
    return s_level;
}

void
log_write (log_level_t level, const char *fmt, ...)
{
    static const char *labels[] = { "DEBUG", "INFO", "WARN", "ERROR" };
    if (level < s_level)
        return;
    char line[2048];
    char now[CLOCK_UTC_LEN + 1];
    clock_format_utc (clock_wall_ms (), now);
    int n = snprintf (line, sizeof line, "%s %s %s: ", now, labels[level], s_service);
    if (n < 0)
        return;
    va_list ap;
    va_start (ap, fmt);
    int m = vsnprintf (line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end (ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t rc = write (STDERR_FILENO, line, len);
    (void)rc;
}

void
log_library (log_level_t level, const char *source, const char *fmt, va_list ap)
{
    if (level < s_level)
        return;
    char text[512];
    vsnprintf (text, sizeof text, fmt, ap);
    size_t len = strlen (text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    log_write (level, "%s: %s", source, text);
}
