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
static bool s_json;
static _Thread_local const char *s_event_id, *s_request_id;

void
log_set_json (bool json)
{
    s_json = json;
}

int
log_format_parse (const char *text, bool *json)
{
    if (text && strcmp (text, "text") == 0)
        *json = false;
    else if (text && strcmp (text, "json") == 0)
        *json = true;
    else
        return -1;
    return 0;
}

void
log_context_set (const char *event_id, const char *request_id)
{
    s_event_id = event_id;
    s_request_id = request_id;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t
s_utf8_len (const unsigned char *p, size_t n)
{
    size_t len = p[0] < 0x80             ? 1
                 : (p[0] & 0xe0) == 0xc0 ? 2
                 : (p[0] & 0xf0) == 0xe0 ? 3
                 : (p[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    if (len == 0 || len > n || (len == 2 && p[0] < 0xc2) || (len == 4 && p[0] > 0xf4))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((len == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (len == 3 && p[0] == 0xed && p[1] >= 0xa0)
        || (len == 4 && p[0] == 0xf0 && p[1] < 0x90) || (len == 4 && p[0] == 0xf4 && p[1] >= 0x90))
        return 0; /* overlong, surrogate, past U+10FFFF */
    return len;
}

/* Appends text as the inside of a JSON string to out (at *at, room up to
   size - 8 so the closing bytes always fit); stops when full. */
static void
s_json_text (char *out, size_t size, size_t *at, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)text;
    size_t n = strlen (text);
    while (n > 0 && *at + 12 < size) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            out[(*at)++] = '\\';
            out[(*at)++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy (out + *at, "\\u00", 4);
            out[*at + 4] = hex[c >> 4];
            out[*at + 5] = hex[c & 15];
            *at += 6;
        } else if (c >= 0x80) {
            size_t len = s_utf8_len (p, n);
            if (len == 0) {
                memcpy (out + *at, "\\ufffd", 6);
                *at += 6;
                len = 1;
            } else {
                memcpy (out + *at, p, len);
                *at += len;
            }
            p += len;
            n -= len;
            continue;
        } else
            out[(*at)++] = (char)c;
        p++;
        n--;
    }
}

/* Appends ,"name":"value" to out. */
static void
s_json_field (char *out, size_t size, size_t *at, const char *name, const char *value)
{
    int k = snprintf (out + *at, size - *at, ",\"%s\":\"", name);
    if (k < 0 || (size_t)k >= size - *at)
        return;
    *at += (size_t)k;
    s_json_text (out, size, at, value);
    if (*at + 1 < size)
        out[(*at)++] = '"';
}

/* One JSON line for message at level. */
static void
s_write_json (log_level_t level, const char *now, const char *message)
{
    static const char *levels[] = { "debug", "info", "warn", "error" };
    char line[4096];
    size_t at = 0;
    int k = snprintf (line, sizeof line, "{\"time\":\"%s\",\"level\":\"%s\"", now, levels[level]);
    if (k < 0)
        return;
    at = (size_t)k;
    s_json_field (line, sizeof line, &at, "service", s_service);
    s_json_field (line, sizeof line, &at, "message", message);
    if (s_event_id)
        s_json_field (line, sizeof line, &at, "event_id", s_event_id);
    if (s_request_id)
        s_json_field (line, sizeof line, &at, "request_id", s_request_id);
    line[at++] = '}';
    line[at++] = '\n';
    ssize_t rc = write (STDERR_FILENO, line, at);
    (void)rc;
}

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
    va_list ap;
    if (s_json) {
        va_start (ap, fmt);
        vsnprintf (line, sizeof line, fmt, ap);
        va_end (ap);
        s_write_json (level, now, line);
        return;
    }
    int n = snprintf (line, sizeof line, "%s %s %s: ", now, labels[level], s_service);
    if (n < 0)
        return;
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
