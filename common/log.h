/*
 * log — the one logging helper every Herald service uses.
 *
 * Lines go to stderr as "<ISO time> <level> <service>: <message>", one
 * write(2) per line so lines from several threads never interleave. stdout is
 * left alone: the worker's stdout carries only notification lines.
 * The level comes from --log-level / HERALD_LOG_LEVEL (debug, info, warn,
 * error); messages below it cost one integer compare.
 *
 * With --log-format json (HERALD_LOG_FORMAT) each line is one JSON object
 * instead: {"time","level","service","message"}, plus "event_id" and
 * "request_id" while the calling thread has set them (log_context_set), so
 * a machine can select one event's lines without parsing messages. The
 * message is escaped (quotes, backslashes, control characters; invalid
 * UTF-8 becomes U+FFFD), so every line parses whatever was logged.
 */
#ifndef HERALD_LOG_H
#define HERALD_LOG_H

#include <stdarg.h>
#include <stdbool.h>

typedef enum {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO = 1,
    LOG_LEVEL_WARN = 2,
    LOG_LEVEL_ERROR = 3,
} log_level_t;

/* Sets the service name printed on each line (borrowed: pass a literal). */
void log_init (const char *service, log_level_t level);

/* Text lines (the default) or one JSON object per line. */
void log_set_json (bool json);

/* Parses "text" / "json" into *json. 0, or -1 for anything else. */
int log_format_parse (const char *text, bool *json);

/* The event and request the calling thread is working on, added to its
   JSON lines until changed; NULL for none. Borrowed: they must stay valid
   until the next call (clear with NULLs before they go). */
void log_context_set (const char *event_id, const char *request_id);

/* Parses "debug", "info", "warn"/"warning", "error". Returns 0, or -1 for
   anything else (level untouched). */
int log_level_parse (const char *text, log_level_t *level);

log_level_t log_get_level (void);

void log_write (log_level_t level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Writes a library's own message (libmicrohttpd's logger callback) as
   "source: message", its trailing line breaks dropped, if level passes. */
void log_library (log_level_t level, const char *source, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));

#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_get_level () <= LOG_LEVEL_DEBUG)                                                   \
            log_write (LOG_LEVEL_DEBUG, __VA_ARGS__);                                              \
    } while (0)
#define log_info(...)                                                                              \
    do {                                                                                           \
        if (log_get_level () <= LOG_LEVEL_INFO)                                                    \
            log_write (LOG_LEVEL_INFO, __VA_ARGS__);                                               \
    } while (0)
#define log_warn(...)                                                                              \
    do {                                                                                           \
        if (log_get_level () <= LOG_LEVEL_WARN)                                                    \
            log_write (LOG_LEVEL_WARN, __VA_ARGS__);                                               \
    } while (0)
#define log_error(...) log_write (LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
