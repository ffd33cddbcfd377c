/*
 * peer_bin — see peer_bin.h. A plain walk over the directories with
 * access (X_OK): the benchmarks exec the path found, so what counts is
 * that this process may run it.
 */
#include "peer_bin.h"

#include "harness.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_DIRS_MAX 4096

int
peer_bin_find (const char *name, char *out, size_t size)
{
    if (strchr (name, '/'))
        return access (name, X_OK) == 0 && (size_t)snprintf (out, size, "%s", name) < size ? 0 : -1;
    const char *path = getenv ("PATH");
    char dirs[S_DIRS_MAX];
    snprintf (dirs, sizeof dirs, "%s:/usr/bin:/usr/sbin", path ? path : "");
    char *save = NULL;
    for (char *dir = strtok_r (dirs, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
        if ((size_t)snprintf (out, size, "%s/%s", dir, name) < size && access (out, X_OK) == 0)
            return 0;
    return -1;
}

pid_t
peer_bin_start (const char *const argv[], const char *out_path, int port, int timeout_ms)
{
    pid_t pid = harness_spawn (argv, NULL, out_path, out_path);
    bool up = pid > 0 && harness_wait_tcp (port, timeout_ms) == 0;
    /* harness_alive reaps a child that exited: its PID is no longer ours
       to signal. */
    if (!harness_alive (pid))
        return 0;
    if (!up) {
        harness_stop (pid, SIGTERM, timeout_ms);
        return 0;
    }
    return pid;
}

void
peer_bin_skip (char *skip, size_t size, const char *peer, const char *why)
{
    snprintf (skip, size, "skipped: %s", why);
    printf ("peer: %s %s\n", peer, skip);
    fflush (stdout);
}
