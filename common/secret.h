/*
 * secret — reading a secret (a token, a password) from a file, the way
 * docs/ARCHITECTURE.md §8 wants secrets passed: never in argv (visible in
 * ps), never in a log. The file holds the secret on its first line; a final
 * line break (and blanks around it) is not part of it, so `echo secret >
 * file` works. A file others may read is reported, for the caller to warn.
 */
#ifndef HERALD_SECRET_H
#define HERALD_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Reads the secret at path into out (size bytes, NUL-terminated). Returns
   0, or -1 with err holding "path: why" (unreadable, empty, longer than
   size - 1 bytes, more than one line, a NUL or another control byte). The
   message never quotes the file's content. *world_readable (may be NULL)
   tells whether others may read it. */
int secret_file_read (const char *path, char *out, size_t size, bool *world_readable, char *err,
                      size_t err_size);

#endif
