/*
 * redis_server — see redis_server.h. --daemonize no keeps redis-server our
 * child (peer_bin_start), so a stop by PID reaches it.
 */
#include "redis_server.h"

#include "harness.h"
#include "peer_bin.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define S_START_MS 10000
#define S_STOP_MS 10000

int
redis_server_start (redis_server_t *self, const char *server, const char *name)
{
    memset (self, 0, sizeof *self);
    self->port = harness_free_port ();
    char port[16], log[1024];
    snprintf (port, sizeof port, "%d", self->port);
    snprintf (log, sizeof log, "%s/%s.log", harness_tmpdir (), name);
    const char *argv[] = { server, "--port",       port, "--bind",      "127.0.0.1", "--save",
                           "",     "--appendonly", "no", "--daemonize", "no",        NULL };
    self->pid = peer_bin_start (argv, log, self->port, S_START_MS);
    if (self->pid == 0) {
        printf ("peer: redis-server did not start on port %d (log %s)\n", self->port, log);
        return -1;
    }
    return 0;
}

void
redis_server_stop (redis_server_t *self)
{
    if (self->pid > 0)
        harness_stop (self->pid, SIGTERM, S_STOP_MS);
    self->pid = 0;
}
