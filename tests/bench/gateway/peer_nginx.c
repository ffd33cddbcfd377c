/*
 * peer_nginx — see peer_nginx.h. The workers are found by scanning /proc for
 * processes whose parent is the master (/proc/PID/task/PID/children needs
 * a kernel option; the scan does not), polling with a deadline: the master
 * listens before it forks them, so accepting connections does not mean
 * they are up.
 */
#include "peer_nginx.h"

#include "harness.h"
#include "peer_bin.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_START_MS 10000
#define S_STOP_MS 10000
#define S_WORKER_CONNECTIONS 4096 /* clients and upstreams together, per worker */

/* The parent PID of pid and whether its command is nginx, from
   /proc/PID/stat. Returns the parent, or -1 when pid is gone. */
static pid_t
s_parent (pid_t pid, bool *nginx)
{
    char path[64], buf[512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    size_t n = fread (buf, 1, sizeof buf - 1, file);
    fclose (file);
    buf[n] = '\0';
    /* "PID (comm) state ppid ...": comm may hold spaces, so from the last ')' */
    const char *open = strchr (buf, '('), *close = strrchr (buf, ')');
    int ppid;
    if (!open || !close || sscanf (close + 1, " %*c %d", &ppid) != 1)
        return -1;
    *nginx = strncmp (open + 1, "nginx)", 6) == 0;
    return (pid_t)ppid;
}

/* The master's children into self->workers. Returns how many. */
static int
s_find_workers (peer_nginx_t *self)
{
    DIR *proc = opendir ("/proc");
    if (!proc)
        return 0;
    self->nworkers = 0;
    struct dirent *entry;
    while ((entry = readdir (proc)) && self->nworkers < PEER_NGINX_MAX_WORKERS) {
        if (!isdigit ((unsigned char)entry->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi (entry->d_name);
        bool nginx = false;
        if (s_parent (pid, &nginx) == self->master && nginx)
            self->workers[self->nworkers++] = pid;
    }
    closedir (proc);
    return self->nworkers;
}

/* nginx's config, into path; every file it writes goes under dir. */
static int
s_write_config (const peer_nginx_t *self, const char *path, const char *dir, int workers,
                int upstream_port, int keepalive)
{
    FILE *file = fopen (path, "w");
    if (!file)
        return -1;
    fprintf (file,
             "# herald-bench-gateway's nginx peer (peer_nginx.h): a proxy to the floor.\n"
             "worker_processes %d;\n"
             "pid %s/nginx.pid;\n"
             "error_log %s/nginx-error.log warn;\n"
             "events { worker_connections %d; }\n"
             "http {\n"
             "    access_log off;\n"
             "    keepalive_requests 1000000000;\n"
             "    client_body_temp_path %s/client_body;\n"
             "    proxy_temp_path %s/proxy;\n"
             "    fastcgi_temp_path %s/fastcgi;\n"
             "    uwsgi_temp_path %s/uwsgi;\n"
             "    scgi_temp_path %s/scgi;\n"
             "    upstream floor {\n"
             "        server 127.0.0.1:%d;\n"
             "        keepalive %d;\n"
             "        keepalive_requests 1000000000;\n"
             "    }\n"
             "    server {\n"
             "        listen 127.0.0.1:%d;\n"
             "        location / {\n"
             "            proxy_pass http://floor;\n"
             "            proxy_http_version 1.1;\n"
             "            proxy_set_header Connection \"\";\n"
             "        }\n"
             "    }\n"
             "}\n",
             workers, dir, dir, S_WORKER_CONNECTIONS, dir, dir, dir, dir, dir, upstream_port,
             keepalive, self->port);
    return fclose (file) == 0 ? 0 : -1;
}

/* Records and prints why the peer is skipped, and stops what runs. */
static int
s_skip (peer_nginx_t *self, const char *why)
{
    peer_nginx_stop (self);
    peer_bin_skip (self->skip, sizeof self->skip, "nginx", why);
    return -1;
}

int
peer_nginx_start (peer_nginx_t *self, int workers, int upstream_port, int keepalive)
{
    memset (self, 0, sizeof *self);
    char nginx[256], dir[1024], config[1100], error_log[1100], out[1100];
    char why[sizeof self->skip - 16];
    if (peer_bin_find ("nginx", nginx, sizeof nginx) != 0)
        return s_skip (self, "not installed (apt-get install nginx-light)");
    if (workers < 1 || workers > PEER_NGINX_MAX_WORKERS) {
        snprintf (why, sizeof why, "%d workers asked, 1..%d run", workers, PEER_NGINX_MAX_WORKERS);
        return s_skip (self, why);
    }
    snprintf (dir, sizeof dir, "%s/nginx", harness_tmpdir ());
    snprintf (config, sizeof config, "%s/nginx.conf", dir);
    snprintf (error_log, sizeof error_log, "%s/nginx-error.log", dir);
    snprintf (out, sizeof out, "%s/nginx.out", dir);
    self->port = harness_free_port ();
    if ((mkdir (dir, 0755) != 0 && errno != EEXIST)
        || s_write_config (self, config, dir, workers, upstream_port, keepalive) != 0)
        return s_skip (self, "cannot write its config in the scratch directory");
    /* -e: the error log before the config is read (the default is under
       /var/log); -p: the prefix relative paths resolve against. */
    const char *argv[] = { nginx, "-e",   error_log, "-p",          dir,
                           "-c",  config, "-g",      "daemon off;", NULL };
    self->master = peer_bin_start (argv, out, self->port, S_START_MS);
    int64_t deadline = clock_mono_ms () + S_START_MS;
    while (self->master > 0 && s_find_workers (self) < workers && clock_mono_ms () < deadline)
        harness_nap_ms (20);
    if (self->master == 0 || self->nworkers < workers) {
        snprintf (why, sizeof why, "did not start on port %d with %d workers (see %s)", self->port,
                  workers, error_log);
        return s_skip (self, why);
    }
    return 0;
}

int
peer_nginx_pids (const peer_nginx_t *self, pid_t *pids, int max)
{
    int n = 0;
    if (self->master > 0 && n < max)
        pids[n++] = self->master;
    for (int i = 0; i < self->nworkers && n < max; i++)
        pids[n++] = self->workers[i];
    return n;
}

void
peer_nginx_stop (peer_nginx_t *self)
{
    if (self->master > 0)
        harness_stop (self->master, SIGTERM, S_STOP_MS);
    /* The master waits for its workers before it exits; one still there
       now (the master was SIGKILLed) has been re-parented. It is still
       nginx's worker if its command is nginx, checked just before. */
    for (int i = 0; i < self->nworkers; i++) {
        bool nginx = false;
        if (s_parent (self->workers[i], &nginx) >= 0 && nginx)
            kill (self->workers[i], SIGKILL);
    }
    self->master = 0;
    self->nworkers = 0;
}
