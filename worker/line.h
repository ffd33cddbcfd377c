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
#include <stdio.h>

/* Worst-case growth of line_escape: one input byte becomes at most this
   many output bytes (\xHH). */
#define LINE_ESCAPE_GROWTH 4

/* Writes len bytes of text to out escaped as above, NUL-terminated; out
   holds at least LINE_ESCAPE_GROWTH * len + 1 bytes. Returns the length
   written (without the NUL). */
size_t line_escape (const char *text, size_t len, char *out);

/* Prints the line for one notification to out, without flushing it: the
   caller flushes the lines of a loop pass together, before any of their
   events is marked processed. Returns 0, or -1 when out of memory or the
   write failed. */
int line_print (FILE *out, const char *event_id, const char *user_id, size_t user_id_len,
                const char *description, size_t description_len);

#endif
