/*
 * store_proc — see store_proc.h. The child is spawned through the test
 * harness, so it gets its own process group and dies with the benchmark.
 */
#include "store_proc.h"

#include "harness.h"

#include <assert.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static const char *s_names[STORE_MODE_COUNT] = { "off", "no", "everysec", "always" };

const char *
store_mode_name (store_mode_t mode)
{
    return mode < STORE_MODE_COUNT ? s_names[mode] : "?";
}

int
store_mode_parse_list (const char *text, store_mode_t *modes, int max)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn (p, ",");
        int found = -1;
        for (int m = 0; m < STORE_MODE_COUNT; m++)
            if (strlen (s_names[m]) == len && strncmp (p, s_names[m], len) == 0)
                found = m;
        for (int i = 0; i < n && found >= 0; i++)
            if (modes[i] == (store_mode_t)found)
                found = -2;
        if (found < 0 || n >= max) {
            fprintf (stderr, "bench: fsync modes: '%.*s' is %s (use %s)\n", (int)len, p,
                     found == -2 ? "repeated" : "not a mode", STORE_MODES_DEFAULT);
            return -1;
        }
        modes[n++] = (store_mode_t)found;
        p += len;
        if (*p == ',')
            p++;
    }
    if (n == 0)
        fprintf (stderr, "bench: fsync modes: empty list (use %s)\n", STORE_MODES_DEFAULT);
    return n > 0 ? n : -1;
}

int
store_proc_spawn (store_proc_t *self, store_mode_t mode, const char *data_dir,
                  const char *log_level, const char *const extra[], const char *log_path)
{
    assert (self);
    memset (self, 0, sizeof *self);
    self->mode = mode;
    self->pid = -1;
    self->port = harness_free_port ();
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", self->port);
    char pub[64];
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", harness_free_port ());
    const char *argv[16 + STORE_PROC_MAX_EXTRA] = { harness_bin ("herald-store"),
                                                    "--bind",
                                                    self->endpoint,
                                                    "--pub-bind",
                                                    pub,
                                                    "--feed-max",
                                                    STORE_PROC_FEED_MAX,
                                                    "--log-level",
                                                    log_level };
    int argc = 9;
    if (mode != STORE_MODE_OFF) {
        assert (data_dir);
        snprintf (self->data_dir, sizeof self->data_dir, "%s", data_dir);
        argv[argc++] = "--data-dir";
        argv[argc++] = self->data_dir;
        argv[argc++] = "--fsync";
        argv[argc++] = s_names[mode];
    }
    for (int i = 0; extra && extra[i]; i++) {
        assert (i < STORE_PROC_MAX_EXTRA);
        argv[argc++] = extra[i];
    }
    argv[argc] = NULL;
    self->pid = harness_spawn (argv, NULL, log_path, log_path);
    return self->pid > 0 ? 0 : -1;
}

int
store_proc_wait (store_proc_t *self, int timeout_ms)
{
    assert (self);
    bool listening = harness_wait_tcp (self->port, timeout_ms) == 0;
    if (!harness_alive (self->pid))
        self->pid = -1; /* reaped: its PID is never signalled again */
    if (!listening || self->pid < 0) {
        fprintf (stderr, "bench: herald-store (%s) did not start on port %d\n",
                 store_mode_name (self->mode), self->port);
        return -1;
    }
    return 0;
}

int
store_proc_stop (store_proc_t *self, int timeout_ms)
{
    assert (self);
    if (self->pid <= 0)
        return 0;
    int status = harness_stop (self->pid, SIGTERM, timeout_ms);
    self->pid = -1;
    return status >= 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
}
