/*
 * harness — see harness.h. POSIX process control for tests; every wait has
 * a deadline and polls in short steps.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef HERALD_BUILD_DIR
#define HERALD_BUILD_DIR "."
#endif
#ifndef HERALD_SOURCE_DIR
#define HERALD_SOURCE_DIR "."
#endif

extern char **environ;

void
harness_nap_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double
harness_median (double *values, int n)
{
    if (n <= 0)
        return -1;
    qsort (values, (size_t)n, sizeof *values, s_cmp_double);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* The low end of the kernel's ephemeral port range (where connect() takes
   its source ports), 32768 when it cannot be read; read once. */
static int
s_ephemeral_low (void)
{
    static int low;
    if (low)
        return low;
    int high = 0;
    FILE *file = fopen ("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (!file || fscanf (file, "%d %d", &low, &high) != 2 || low <= 0)
        low = 32768;
    if (file)
        fclose (file);
    return low;
}

/* Ports come from the 12,000 below the ephemeral range, picked at random:
   a port bind(0) hands out is itself ephemeral, and any process's next
   outgoing connection (a client, a service's connect to the broker) may
   take it as its source port before the service meant to listen there
   binds it, which then fails (a test waits its full deadline for nothing).
   Below the range only an explicit bind takes a port; bind probes that no
   one holds it now, and the last 256 handed out are not handed out again,
   so one test's ports are distinct. Random, so test programs run side by
   side do not walk the same sequence. */
int
harness_free_port (void)
{
    static uint64_t seed;
    static int recent[256];
    static size_t n_recent;
    if (!seed) {
        struct timespec now;
        clock_gettime (CLOCK_MONOTONIC, &now);
        seed = ((uint64_t)getpid () << 32) ^ (uint64_t)now.tv_nsec ^ (uint64_t)now.tv_sec
               ^ 0x9e3779b97f4a7c15ULL;
    }
    int high = s_ephemeral_low () - 1;
    int low = high - 12000 < 1024 ? 1024 : high - 12000;
    if (high <= low)
        return -1;
    for (int attempt = 0; attempt < 1000; attempt++) {
        seed ^= seed << 13; /* xorshift64 */
        seed ^= seed >> 7;
        seed ^= seed << 17;
        int port = low + (int)(seed % (uint64_t)(high - low + 1));
        bool seen = false;
        size_t held = n_recent < 256 ? n_recent : 256;
        for (size_t i = 0; i < held && !seen; i++)
            seen = recent[i] == port;
        if (seen)
            continue;
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        int rc = bind (fd, (struct sockaddr *)&addr, sizeof addr);
        close (fd);
        if (rc == 0) {
            recent[n_recent++ % 256] = port;
            return port;
        }
    }
    return -1;
}

const char *
harness_bin (const char *name)
{
    static char path[8][1024];
    static int next = 0;
    char *out = path[next++ % 8];
    const char *dir = getenv ("HERALD_BIN_DIR");
    if (dir && *dir)
        snprintf (out, 1024, "%s/%s", dir, name);
    else
        snprintf (out, 1024, "%s/bin/%s", HERALD_BUILD_DIR, name);
    return out;
}

static char s_tmpdir[512];
static pid_t s_tmpdir_owner;

/* nftw's callback for s_tmpdir_cleanup: removes one entry (children come
   first, FTW_DEPTH; links are removed, not followed, FTW_PHYS). Never
   stops the walk. */
static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove (path); /* best effort: what cannot go stays */
    return 0;
}

/* At exit (on_exit: glibc passes the exit status): a test program that
   passed leaves nothing behind in /tmp. A full run of the suite made ~200
   MB of scratch directories (journals, RabbitMQ nodes, logs) and kept
   them all. Only the process that made the directory removes it: a
   forked child that exits must not. */
static void
s_tmpdir_cleanup (int status, void *arg)
{
    (void)arg;
    const char *keep = getenv ("HERALD_KEEP_TEST_DIRS");
    if (status != 0 || getpid () != s_tmpdir_owner || (keep && *keep && strcmp (keep, "0") != 0))
        return;
    nftw (s_tmpdir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
harness_tmpdir (void)
{
    char *dir = s_tmpdir;
    if (!dir[0]) {
        const char *base = getenv ("TMPDIR");
        /* Unique, not only named by PID: a failed test and a benchmark
           keep theirs for their logs, and PIDs wrap (pid_max is 32768
           here), so a later run of the same program could otherwise get
           an earlier run's directory and find its journals and RabbitMQ
           data in it. */
        snprintf (dir, sizeof s_tmpdir, "%s/herald-test-%s-%d-XXXXXX",
                  base && *base ? base : "/tmp", program_invocation_short_name, (int)getpid ());
        if (!mkdtemp (dir)) {
            fprintf (stderr, "harness: cannot make a directory %s: %s\n", dir, strerror (errno));
            abort ();
        }
        /* Writable by the users our services and RabbitMQ may run as;
           sticky, so none of them can swap another's entry (say, for a
           symlink) under the removal at exit. */
        chmod (dir, 01777);
        s_tmpdir_owner = getpid ();
        if (strncmp (program_invocation_short_name, "test_", 5) == 0
            || strcmp (program_invocation_short_name, "herald-soak") == 0)
            on_exit (s_tmpdir_cleanup, NULL);
    }
    return dir;
}

pid_t
harness_spawn (const char *const argv[], const char *const env[], const char *stdout_path,
               const char *stderr_path)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid > 0)
        return pid;
    setpgid (0, 0);
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (127);
    for (size_t i = 0; env && env[i]; i++)
        putenv ((char *)env[i]);
    if (stdout_path) {
        int fd = open (stdout_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            close (fd);
        }
    }
    if (stderr_path) {
        int fd = open (stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, STDERR_FILENO);
            close (fd);
        }
    }
    execv (argv[0], (char *const *)argv);
    fprintf (stderr, "harness: exec %s: %s\n", argv[0], strerror (errno));
    _exit (127);
}

int
harness_stop (pid_t pid, int sig, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    int status = 0;
    kill (pid, sig);
    long long deadline = clock_mono_ms () + timeout_ms;
    while (clock_mono_ms () < deadline) {
        pid_t r = waitpid (pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        harness_nap_ms (10);
    }
    fprintf (stderr, "harness: pid %d ignored signal %d for %d ms, killing\n", (int)pid, sig,
             timeout_ms);
    kill (pid, SIGKILL);
    if (waitpid (pid, &status, 0) == pid)
        return status;
    return -1;
}

bool
harness_alive (pid_t pid)
{
    int status;
    return pid > 0 && waitpid (pid, &status, WNOHANG) == 0;
}

int
harness_wait_tcp (int port, int timeout_ms)
{
    long long deadline = clock_mono_ms () + timeout_ms;
    do {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        int rc = connect (fd, (struct sockaddr *)&addr, sizeof addr);
        close (fd);
        if (rc == 0)
            return 0;
        harness_nap_ms (20);
    } while (clock_mono_ms () < deadline);
    return -1;
}

void
harness_print_tail (const char *path, int lines)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "  (no %s: %s)\n", path, strerror (errno));
        return;
    }
    /* Offsets of the last lines+1 line starts, in a ring. */
    long starts[64] = { 0 };
    int keep = lines < 1 ? 1 : lines > 63 ? 63 : lines;
    long n = 0, offset = 0;
    int c, prev = '\n';
    while ((c = fgetc (file)) != EOF) {
        if (prev == '\n')
            starts[n++ % (keep + 1)] = offset;
        prev = c;
        offset++;
    }
    long first = n > keep ? starts[(n - keep) % (keep + 1)] : 0;
    fprintf (stderr, "  last %d lines of %s:\n", n < keep ? (int)n : keep, path);
    if (fseek (file, first, SEEK_SET) == 0)
        while ((c = fgetc (file)) != EOF)
            fputc (c, stderr);
    if (prev != '\n')
        fputc ('\n', stderr);
    fclose (file);
}

bool
harness_find_line (const char *path, bool (*match) (const char *line, void *arg), void *arg)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    bool found = false;
    char *line = NULL;
    size_t cap = 0;
    while (!found && getline (&line, &cap, file) > 0)
        found = match (line, arg);
    free (line);
    fclose (file);
    return found;
}

typedef struct {
    const char *needle;
    int count;
} s_counter_t;

static bool
s_count_line (const char *line, void *arg)
{
    s_counter_t *counter = arg;
    if (strstr (line, counter->needle))
        counter->count++;
    return false; /* every line */
}

int
harness_count_lines (const char *path, const char *needle)
{
    s_counter_t counter = { needle, 0 };
    harness_find_line (path, s_count_line, &counter);
    return counter.count;
}

int
harness_write_file (const char *path, const char *text)
{
    char tmp[4096];
    if (snprintf (tmp, sizeof tmp, "%s.new", path) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen (tmp, "w");
    if (!f)
        return -1;
    bool ok = fputs (text, f) >= 0;
    ok = fclose (f) == 0 && ok;
    return ok && rename (tmp, path) == 0 ? 0 : -1;
}

int
harness_wait_lines (const char *path, const char *needle, int count, int timeout_ms)
{
    long long deadline = clock_mono_ms () + timeout_ms;
    int found = 0;
    for (;;) {
        found = harness_count_lines (path, needle);
        if (found >= count || clock_mono_ms () >= deadline)
            return found;
        harness_nap_ms (50);
    }
}

/* Reads /proc/<pid>/<name> into buf (NUL-terminated, truncated to fit).
   Returns 0 or -1. */
static int
s_proc_read (pid_t pid, const char *name, char *buf, size_t size)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, name);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    size_t len = fread (buf, 1, size - 1, file);
    fclose (file);
    buf[len] = '\0';
    return 0;
}

long
harness_rss_kib (pid_t pid)
{
    char buf[4096];
    long kib;
    if (s_proc_read (pid, "status", buf, sizeof buf) != 0)
        return -1;
    const char *line = strstr (buf, "\nVmRSS:");
    return line && sscanf (line + 1, "VmRSS: %ld kB", &kib) == 1 ? kib : -1;
}

int
harness_thread_policy (pid_t pid, const char *comm)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *dir = opendir (path);
    if (!dir)
        return -1;
    int policy = -1;
    struct dirent *entry;
    while (policy < 0 && (entry = readdir (dir))) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        char name[300], buf[64];
        snprintf (name, sizeof name, "task/%s/comm", entry->d_name);
        if (s_proc_read (pid, name, buf, sizeof buf) != 0)
            continue;
        buf[strcspn (buf, "\n")] = '\0';
        if (strcmp (buf, comm) == 0)
            policy = sched_getscheduler ((pid_t)atoi (entry->d_name));
    }
    closedir (dir);
    return policy;
}

long long
harness_rusage_us (int who)
{
    struct rusage usage;
    if (getrusage (who, &usage) != 0)
        return -1;
    return (long long)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000
           + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

double
harness_cpu_us_per_op (long long before, long long after, long per_second, size_t ops)
{
    if (before < 0 || after < before || per_second <= 0 || ops == 0)
        return -1;
    return (double)(after - before) * 1e6 / (double)per_second / (double)ops;
}

long long
harness_cpu_ticks (pid_t pid)
{
    char buf[1024];
    if (s_proc_read (pid, "stat", buf, sizeof buf) != 0)
        return -1;
    /* The command name may hold spaces; fields resume after its ')'. */
    const char *p = strrchr (buf, ')');
    unsigned long long utime, stime;
    if (!p
        || sscanf (p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
               != 2)
        return -1;
    return (long long)(utime + stime);
}

size_t
harness_body_append (char *data, size_t size, size_t nmemb, void *body)
{
    harness_body_t *self = body;
    size_t n = size * nmemb;
    if (self->len + n > self->cap)
        return 0;
    memcpy (self->data + self->len, data, n);
    self->len += n;
    self->data[self->len] = '\0';
    return n;
}

static int
s_rabbit_script (harness_rabbit_t *self, const char *verb)
{
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "%s/tests/rabbitmq-node.sh %s '%s' %d >>'%s/harness.log' 2>&1",
              HERALD_SOURCE_DIR, verb, self->dir, self->amqp_port, self->dir);
    int rc = system (cmd);
    return rc == 0 ? 0 : -1;
}

int
harness_rabbit_start (harness_rabbit_t *self)
{
    memset (self, 0, sizeof *self);
    if (snprintf (self->dir, sizeof self->dir, "%s/rabbit", harness_tmpdir ())
        >= (int)sizeof self->dir)
        return -1;
    mkdir (self->dir, 0777);
    self->amqp_port = harness_free_port ();
    snprintf (self->url, sizeof self->url, "amqp://guest:guest@127.0.0.1:%d/", self->amqp_port);
    if (s_rabbit_script (self, "start") != 0) {
        fprintf (stderr, "harness: RabbitMQ did not start; log in %s\n", self->dir);
        return -1;
    }
    return 0;
}

int
harness_rabbit_stop (harness_rabbit_t *self)
{
    return s_rabbit_script (self, "stop");
}

int
harness_rabbit_kill (harness_rabbit_t *self)
{
    return s_rabbit_script (self, "kill");
}

int
harness_rabbit_restart (harness_rabbit_t *self)
{
    return s_rabbit_script (self, "start");
}

/* Runs tests/rabbitmq-cluster.sh VERB DIR ARGS, logging into DIR. */
static int
s_cluster_script (harness_cluster_t *self, const char *verb, const char *args)
{
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "%s/tests/rabbitmq-cluster.sh %s '%s' %s >>'%s/harness.log' 2>&1",
              HERALD_SOURCE_DIR, verb, self->dir, args, self->dir);
    return system (cmd) == 0 ? 0 : -1;
}

int
harness_cluster_start (harness_cluster_t *self, int n)
{
    memset (self, 0, sizeof *self);
    if (n < 1 || n > HARNESS_CLUSTER_MAX
        || snprintf (self->dir, sizeof self->dir, "%s/cluster-XXXXXX", harness_tmpdir ())
               >= (int)sizeof self->dir - 8)
        return -1;
    /* A directory of its own every time: the tmpdir is named by PID, and a
       PID reused by a later run found a kept "cluster" of an earlier one
       ("already holds a cluster"). */
    if (!mkdtemp (self->dir))
        return -1;
    chmod (self->dir, 0755); /* as mkdir under the usual umask made it */
    self->n = n;
    char ports[64] = "";
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        harness_rabbit_t *node = &self->nodes[i];
        node->amqp_port = harness_free_port ();
        if (snprintf (node->dir, sizeof node->dir, "%s/h%d", self->dir, i + 1)
            >= (int)sizeof node->dir)
            return -1;
        snprintf (node->url, sizeof node->url, "amqp://guest:guest@127.0.0.1:%d/", node->amqp_port);
        used += (size_t)snprintf (ports + used, sizeof ports - used, " %d", node->amqp_port);
        size_t len = strlen (self->urls);
        snprintf (self->urls + len, sizeof self->urls - len, "%s%s", i ? "," : "", node->url);
    }
    if (s_cluster_script (self, "start", ports) != 0) {
        fprintf (stderr, "harness: the RabbitMQ cluster did not start; logs in %s\n", self->dir);
        return -1;
    }
    return 0;
}

int
harness_cluster_stop (harness_cluster_t *self)
{
    return self->n ? s_cluster_script (self, "stop", "") : 0;
}

int
harness_cluster_kill (harness_cluster_t *self, int i)
{
    char arg[16];
    snprintf (arg, sizeof arg, "%d", i + 1);
    return i >= 0 && i < self->n ? s_cluster_script (self, "kill", arg) : -1;
}

int
harness_rabbitmqctl (harness_rabbit_t *self, const char *args, char *out, size_t size)
{
    char cmd[2048];
    snprintf (cmd, sizeof cmd,
              ". '%s/node.env' && ERL_EPMD_PORT=$EPMD_PORT HOME='%s' "
              "/usr/lib/rabbitmq/bin/rabbitmqctl -q -n \"$NODE\" %s 2>&1",
              self->dir, self->dir, args);
    FILE *pipe = popen (cmd, "r");
    if (!pipe)
        return -1;
    size_t used = 0;
    if (out && size)
        out[0] = '\0';
    char chunk[1024];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, pipe)) > 0)
        if (out && used + 1 < size) {
            size_t take = n < size - 1 - used ? n : size - 1 - used;
            memcpy (out + used, chunk, take);
            used += take;
            out[used] = '\0';
        }
    int status = pclose (pipe);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}
