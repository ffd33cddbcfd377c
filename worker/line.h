/*
 * line — the notification line the worker prints, one per notification:
 *
 *   Event {event_id} has been sent to {user_id}: {description}
 *
 * The user id and the description are whatever a client sent, so they are
 * printed escaped: a newline could otherwise forge a second notification
 * line on stdout (which carries nothing else), and an escape sequence would
 * reach the operator's terminal raw. Control characters (C0, DEL, C1), the
 * Unicode line and paragraph separators (U+2028, U+2029: a line break to
 * many log viewers), bytes that are not UTF-8 and the backslash itself are
 * written as C-style escapes (\n, \r, \t, \\, \x1b, \u0085, \u2028);
 * every other character, non-ASCII text included, is printed as it is.
 * Text without any of them prints exactly as before.
 */
#ifndef HERALD_WORKER_LINE_H
#define HERALD_WORKER_LINE_H

#include <stddef.h>

/* Worst-case growth of line_escape: one input byte becomes at most this
   many output bytes (\xHH). */
#define LINE_ESCAPE_GROWTH 4

/* Writes len bytes of text to out escaped as above, NUL-terminated; out
   holds at least LINE_ESCAPE_GROWTH * len + 1 bytes. Returns the length
   written (without the NUL). */
size_t line_escape (const char *text, size_t len, char *out);

/* The lines of one loop pass, whole, until they are written. */
typedef struct {
    char *data;
    size_t len, cap;
} line_buf_t;

/* Appends the line for one notification (newline included) to buf. Returns
   0, or -1 when out of memory, with buf unchanged. */
int line_append (line_buf_t *buf, const char *event_id, const char *user_id, size_t user_id_len,
                 const char *description, size_t description_len);

/* Writes every line in buf to fd with write(2), whole lines only (what else
   the process writes, its logs included, never lands inside one), and
   empties buf. Returns 0, or -1 with errno set when a write failed: what
   was not written is dropped with buf emptied (the caller's to redo). */
int line_write (line_buf_t *buf, int fd);

/* Frees what buf holds. */
void line_buf_free (line_buf_t *buf);

#endif
