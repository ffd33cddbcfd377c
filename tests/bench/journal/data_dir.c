/*
 * data_dir — see data_dir.h. Removal walks the tree depth-first without
 * following symlinks (nftw FTW_PHYS), so a link inside a data dir is
 * removed, never what it points to.
 */
#define _GNU_SOURCE
#include "data_dir.h"

#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA_DIR_PREFIX "herald-bench-"
#define DATA_DIR_FDS 16 /* nftw's open directory budget: data dirs are flat */

int
data_dir_root_default (char *buf, size_t size)
{
    char exe[1024];
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    /* dirname works in place: exe becomes .../bin, then its parent. */
    char *bin = dirname (exe);
    char *root = dirname (bin);
    if (snprintf (buf, size, "%s", root) >= (int)size)
        return -1;
    return 0;
}

int
data_dir_root_option (char *buf, size_t size)
{
    if (buf[0] || data_dir_root_default (buf, size) == 0)
        return 0;
    fprintf (stderr, "bench: cannot find the build directory; pass --data-root\n");
    return -1;
}

int
data_dir_make (const char *root, const char *tag, char *out, size_t size)
{
    if (snprintf (out, size, "%s/" DATA_DIR_PREFIX "%s-XXXXXX", root, tag) >= (int)size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp (out) ? 0 : -1;
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove (path);
}

int
data_dir_remove (const char *path)
{
    const char *slash = strrchr (path, '/');
    const char *last = slash ? slash + 1 : path;
    if (strncmp (last, DATA_DIR_PREFIX, sizeof DATA_DIR_PREFIX - 1) != 0) {
        fprintf (stderr, "bench: refusing to remove %s (not a benchmark data dir)\n", path);
        return -1;
    }
    if (nftw (path, s_remove_entry, DATA_DIR_FDS, FTW_DEPTH | FTW_PHYS) != 0) {
        fprintf (stderr, "bench: cannot remove %s: %s\n", path, strerror (errno));
        return -1;
    }
    return 0;
}
