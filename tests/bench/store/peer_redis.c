/*
 * peer_redis — see peer_redis.h.
 */
#include "peer_redis.h"

#include "harness.h"
#include "peer_bin.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_RUN_TIMEOUT_S 600

int
peer_redis_start (peer_redis_t *self)
{
    memset (self, 0, sizeof *self);
    char server[256];
    if (peer_bin_find ("redis-server", server, sizeof server) != 0
        || peer_bin_find ("redis-benchmark", self->benchmark, sizeof self->benchmark) != 0
        || peer_bin_find ("redis-cli", self->cli, sizeof self->cli) != 0) {
        printf ("peer: redis-server, redis-benchmark or redis-cli not installed: the Redis column "
                "is skipped "
                "(apt-get install redis-server redis-tools)\n");
        return -1;
    }
    if (redis_server_start (&self->server, server, "redis-server") != 0) {
        printf ("peer: the Redis column is skipped\n");
        return -1;
    }
    return 0;
}

/* The requests per second redis-benchmark -q printed for kind ("SET"). */
static double
s_rps (const char *path, const char *kind)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line[512], prefix[16];
    snprintf (prefix, sizeof prefix, "%s: ", kind);
    double rps = -1;
    while (fgets (line, sizeof line, file)) {
        /* -q prints progress lines ending in \r, then "SET: 123.45
           requests per second, p50=..." */
        char *at = strstr (line, prefix);
        while (at) {
            char *next = strstr (at + 1, prefix);
            double v;
            if (sscanf (at + strlen (prefix), "%lf requests per second", &v) == 1
                && strstr (at, "requests per second"))
                rps = v;
            at = next;
        }
    }
    fclose (file);
    return rps;
}

/* Waits for the child pid, at most S_RUN_TIMEOUT_S (then it is killed): 0
   when it exited with status 0, else -1. */
static int
s_wait (pid_t pid)
{
    if (pid <= 0)
        return -1;
    int status = 0;
    int64_t deadline = clock_mono_ms () + S_RUN_TIMEOUT_S * 1000LL;
    pid_t got;
    while ((got = waitpid (pid, &status, WNOHANG)) == 0 && clock_mono_ms () < deadline)
        harness_nap_ms (10);
    if (got == 0) {
        fprintf (stderr, "bench: redis peer (pid %d) still running after %d s: killed\n", (int)pid,
                 S_RUN_TIMEOUT_S);
        harness_stop (pid, SIGKILL, 5000);
        return -1;
    }
    return got == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
}

/* redis-benchmark for one kind ("set", "get"), its rate read from its
   output as kind_upper ("SET") and the CPU both sides took meanwhile. */
static int
s_run_kind (peer_redis_t *self, const char *const *args, const char *kind, const char *kind_upper,
            size_t ops, const char *out, peer_redis_figures_t *fig)
{
    const char *argv[24];
    int argc = 0;
    argv[argc++] = self->benchmark;
    for (int i = 0; args[i]; i++)
        argv[argc++] = args[i];
    argv[argc++] = "-t";
    argv[argc++] = kind;
    argv[argc++] = "-q";
    argv[argc] = NULL;
    long long server0 = harness_cpu_ticks (self->server.pid),
              client0 = harness_rusage_us (RUSAGE_CHILDREN);
    if (s_wait (harness_spawn (argv, NULL, out, out)) != 0) {
        printf ("peer: redis-benchmark failed (output %s)\n", out);
        return -1;
    }
    long long server1 = harness_cpu_ticks (self->server.pid),
              client1 = harness_rusage_us (RUSAGE_CHILDREN);
    fig->rps = s_rps (out, kind_upper);
    fig->server_cpu_us = harness_cpu_us_per_op (server0, server1, sysconf (_SC_CLK_TCK), ops);
    fig->client_cpu_us = harness_cpu_us_per_op (client0, client1, 1000000, ops);
    if (fig->rps <= 0) {
        printf ("peer: no %s figure in %s\n", kind_upper, out);
        return -1;
    }
    return 0;
}

int
peer_redis_run (peer_redis_t *self, size_t ops, size_t value_len, size_t keyspace,
                peer_redis_figures_t *set, peer_redis_figures_t *get)
{
    if (self->server.pid <= 0)
        return -1;
    static int s_runs;
    char port[16], n[32], d[32], r[32], out[600];
    snprintf (port, sizeof port, "%d", self->server.port);
    snprintf (n, sizeof n, "%zu", ops);
    snprintf (d, sizeof d, "%zu", value_len);
    snprintf (r, sizeof r, "%zu", keyspace);
    snprintf (out, sizeof out, "%s/redis-benchmark-%d.out", harness_tmpdir (), ++s_runs);
    /* Each herald run starts on a fresh store: so does Redis's. */
    const char *flush[] = { self->cli, "-h", "127.0.0.1", "-p", port, "FLUSHALL", NULL };
    if (s_wait (harness_spawn (flush, NULL, out, out)) != 0) {
        printf ("peer: redis-cli FLUSHALL failed (output %s)\n", out);
        return -1;
    }
    const char *args[] = { "-h", "127.0.0.1", "-p", port, "-c", "1", "-P", "1000",
                           "-n", n,           "-d", d,    "-r", r,   NULL };
    char out_get[620];
    snprintf (out_get, sizeof out_get, "%.600s.get", out);
    if (s_run_kind (self, args, "set", "SET", ops, out, set) != 0
        || s_run_kind (self, args, "get", "GET", ops, out_get, get) != 0)
        return -1;
    return 0;
}

void
peer_redis_stop (peer_redis_t *self)
{
    redis_server_stop (&self->server);
}
