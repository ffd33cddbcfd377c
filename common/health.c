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

void
health_touch (const char *path, int64_t now_ms)
{
    static int64_t last_ms = INT64_MIN / 2;
    static bool warned = false;
    if (!path || now_ms - last_ms < HEALTH_TOUCH_MS)
        return;
    last_ms = now_ms;
    int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || futimens (fd, NULL) != 0) {
        if (!warned)
            log_warn ("cannot touch health file %s: %s (--check will fail)", path,
                      strerror (errno));
        warned = true;
    }
    if (fd >= 0)
        close (fd);
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
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    int64_t age_ms = ((int64_t)now.tv_sec - st.st_mtim.tv_sec) * 1000
                     + ((int64_t)now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
    if (age_ms > max_age_ms) {
        fprintf (stderr, "unhealthy: %s last touched %lld ms ago (limit %lld): stuck or disconnected\n",
                 path, (long long)age_ms, (long long)max_age_ms);
        return -1;
    }
    return 0;
}
