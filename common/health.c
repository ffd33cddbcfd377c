/* health — see health.h. */
#include "health.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEALTH_REASON_MAX 512 /* bytes of a reason written or shown */

/* One health file per process: when it was last written, and whether it
   holds a reason (the next touch must empty it at once). */
static int64_t s_last_ms = INT64_MIN / 2;
static bool s_failed = false;
static bool s_warned = false;

static void
s_warn_once (const char *path)
{
    if (!s_warned)
        log_warn ("cannot write health file %s: %s (--check will fail)", path, strerror (errno));
    s_warned = true;
}

void
health_touch (const char *path, int64_t now_ms)
{
    if (!path || (!s_failed && now_ms - s_last_ms < HEALTH_TOUCH_MS))
        return;
    s_last_ms = now_ms;
    /* Emptied on the way back from health_fail: an empty file is healthy. */
    int fd =
        open (path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (s_failed ? O_TRUNC : 0), 0644);
    if (fd < 0 || futimens (fd, NULL) != 0)
        s_warn_once (path);
    else
        s_failed = false;
    if (fd >= 0)
        close (fd);
}

void
health_fail (const char *path, int64_t now_ms, const char *why)
{
    if (!path || (s_failed && now_ms - s_last_ms < HEALTH_TOUCH_MS))
        return;
    s_last_ms = now_ms;
    /* Written aside and renamed over, so --check reads the old state or the
       new one, never a half-written file (which it would take as healthy). */
    char tmp[4096];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return;
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    char text[HEALTH_REASON_MAX];
    int len = snprintf (text, sizeof text, "%s\n", why && *why ? why : "unhealthy");
    if (len < 0 || len >= (int)sizeof text)
        len = (int)sizeof text - 1;
    bool ok = fd >= 0 && write (fd, text, (size_t)len) == len;
    if (fd >= 0)
        close (fd);
    if (ok && rename (tmp, path) == 0)
        s_failed = true;
    else {
        s_warn_once (path);
        unlink (tmp);
    }
}

int
health_check (const char *path, int64_t max_age_ms)
{
    struct stat st;
    if (stat (path, &st) != 0) {
        fprintf (stderr, "unhealthy: no health file %s (%s): not running, or never connected\n",
                 path, strerror (errno));
        return -1;
    }
    if (st.st_size > 0) {
        char why[HEALTH_REASON_MAX] = "";
        FILE *file = fopen (path, "r");
        if (file) {
            if (!fgets (why, sizeof why, file))
                why[0] = '\0';
            fclose (file);
        }
        why[strcspn (why, "\n")] = '\0';
        fprintf (stderr, "unhealthy: %s\n", why[0] ? why : "(reason unreadable)");
        return -1;
    }
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    int64_t age_ms = ((int64_t)now.tv_sec - st.st_mtim.tv_sec) * 1000
                     + ((int64_t)now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
    if (age_ms > max_age_ms) {
        fprintf (stderr,
                 "unhealthy: %s last touched %lld ms ago (limit %lld): stuck or disconnected\n",
                 path, (long long)age_ms, (long long)max_age_ms);
        return -1;
    }
    return 0;
}
