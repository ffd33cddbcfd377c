/*
 * secret — see secret.h. The buffer the file is read into is wiped before
 * it is freed; what the caller keeps is the caller's to wipe.
 */
#include "secret.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool
s_blank (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
secret_file_read (const char *path, char *out, size_t size, bool *world_readable, char *err,
                  size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    if (world_readable)
        *world_readable = fstat (fileno (file), &st) == 0 && (st.st_mode & S_IROTH);
    char text[4096];
    size_t len = fread (text, 1, sizeof text, file);
    bool failed = ferror (file);
    int saved = errno;
    fclose (file);
    int rc = -1;
    size_t start = 0, end = len;
    while (start < end && s_blank (text[start]))
        start++;
    while (end > start && s_blank (text[end - 1]))
        end--;
    if (failed)
        snprintf (err, err_size, "%s: %s", path, strerror (saved));
    else if (len == sizeof text || end - start >= size)
        snprintf (err, err_size, "%s: secret longer than %zu bytes", path, size - 1);
    else if (start == end)
        snprintf (err, err_size, "%s: empty, expected the secret on its first line", path);
    else {
        rc = 0;
        for (size_t i = start; i < end; i++)
            if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
                rc = -1;
        if (rc == 0) {
            memcpy (out, text + start, end - start);
            out[end - start] = '\0';
        } else
            snprintf (err, err_size, "%s: a line break or control byte inside the secret", path);
    }
    memset (text, 0, sizeof text);
    return rc;
}
