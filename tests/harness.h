/*
 * harness — what integration tests and benchmarks need to drive the real
 * binaries: free loopback ports, starting and stopping processes by PID
 * (and reading their memory and CPU time from /proc), waiting on TCP
 * readiness or log lines with deadlines (never a blind sleep), response
 * bodies gathered for libcurl, and a private RabbitMQ node
 * (tests/rabbitmq-node.sh) per test program.
 *
 * Binaries are looked up in HERALD_BIN_DIR (CTest sets it to the build
 * tree), falling back to the compile-time build directory.
 */
#ifndef HERALD_HARNESS_H
#define HERALD_HARNESS_H

#include "clock.h" /* clock_mono_ms: the deadlines' clock */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sleeps ms milliseconds (between polls of something with a deadline). */
void harness_nap_ms (int ms);

/* Median of the n values, sorted in place (the mean of the middle two
   when n is even); -1 when n is 0. The benchmarks' medians over rounds. */
double harness_median (double *values, int n);

/* A free TCP port on 127.0.0.1 for a service to listen on: from below the
   kernel's ephemeral range, so no outgoing connection takes it first;
   distinct from the last 256 this process was given. -1 if none. */
int harness_free_port (void);

/* Absolute path of a built binary, e.g. harness_bin("herald-store").
   Returns a static buffer (one per call site is fine; copy to keep). */
const char *harness_bin (const char *name);

/* A scratch directory for this test program, created on first use:
   $TMPDIR/herald-test-<prog>-<pid>-XXXXXX (unique). A test program
   (test_*, herald-soak) that exits 0 removes it; one that fails keeps it for its
   logs, and so does every run with HERALD_KEEP_TEST_DIRS=1. Benchmarks
   always keep theirs (they print where). Borrowed. */
const char *harness_tmpdir (void);

/* Starts argv[0] with argv, adding env (NULL-terminated "KEY=VALUE" list,
   may be NULL) to the environment. stdout/stderr go to the given files
   (NULL = inherit). Returns the child's PID or -1. The child gets its own
   process group and SIGKILL if the harness process dies. */
pid_t harness_spawn (const char *const argv[], const char *const env[], const char *stdout_path,
                     const char *stderr_path);

/* Sends sig to pid and waits up to timeout_ms for it to exit; SIGKILLs it
   after that. Returns the exit status as waitpid reports it, or -1. */
int harness_stop (pid_t pid, int sig, int timeout_ms);

/* True while pid has not exited (reaps it if it has). */
bool harness_alive (pid_t pid);

/* Writes the last lines (at most 63) of the file at path to stderr,
   indented under a heading: a failing test's view of a service's log. */
void harness_print_tail (const char *path, int lines);

/* Polls until a TCP connect to 127.0.0.1:port succeeds. Returns 0 or -1 on
   timeout. */
int harness_wait_tcp (int port, int timeout_ms);

/* Polls until the file contains at least `count` lines containing needle.
   Returns the number found (which may be < count on timeout). */
int harness_wait_lines (const char *path, const char *needle, int count, int timeout_ms);

/* Counts lines of a file containing needle (0 when the file is missing). */
int harness_count_lines (const char *path, const char *needle);

/* Replaces the file at path with text, atomically (a file beside it,
   renamed over it): a reader never sees half of it. 0 or -1. */
int harness_write_file (const char *path, const char *text);

/* Calls match on each line of the file (its newline kept), in order, until
   it returns true. Returns true when a line matched; false when none did
   or the file is missing. */
bool harness_find_line (const char *path, bool (*match) (const char *line, void *arg), void *arg);

/* VmRSS of pid in KiB, from /proc/PID/status, or -1. */
long harness_rss_kib (pid_t pid);

/* The scheduling policy (SCHED_OTHER, SCHED_BATCH, ...) of pid's first
   thread named comm (/proc/PID/task/TID/comm), or -1 when it has none. */
int harness_thread_policy (pid_t pid, const char *comm);

/* CPU time pid has used (user + system, all its threads), in clock ticks
   (sysconf (_SC_CLK_TCK) a second), from /proc/PID/stat, or -1. */
long long harness_cpu_ticks (pid_t pid);

/* CPU time (user + system) of getrusage's who (RUSAGE_SELF: this process,
   all threads; RUSAGE_CHILDREN: its reaped children), in microseconds, or
   -1. */
long long harness_rusage_us (int who);

/* Microseconds of CPU per operation between two readings of a CPU time
   counted per_second units a second (sysconf (_SC_CLK_TCK) for
   harness_cpu_ticks, 1000000 for harness_rusage_us) over ops operations,
   or -1 when a reading is unknown (< 0), went back, or ops is 0. */
double harness_cpu_us_per_op (long long before, long long after, long per_second, size_t ops);

/* A response body gathered in memory, kept NUL-terminated: data holds cap
   bytes plus the NUL. The caller owns data. */
typedef struct {
    char *data;
    size_t len, cap;
} harness_body_t;

/* A libcurl CURLOPT_WRITEFUNCTION (CURLOPT_WRITEDATA: a harness_body_t):
   appends the chunk, or returns 0 (libcurl then fails the transfer) when
   the body would pass cap. Reset len to 0 and data[0] to NUL between
   transfers. */
size_t harness_body_append (char *data, size_t size, size_t nmemb, void *body);

/* A private RabbitMQ node. */
typedef struct {
    char dir[512];
    int amqp_port;
    char url[128]; /* amqp://guest:guest@127.0.0.1:<port>/ */
} harness_rabbit_t;

/* Boots a node in a fresh dir under harness_tmpdir(). Returns 0 or -1. */
int harness_rabbit_start (harness_rabbit_t *self);
/* Graceful stop (state kept; start again with harness_rabbit_restart). */
int harness_rabbit_stop (harness_rabbit_t *self);
/* SIGKILLs the node (fault tests); restart it with harness_rabbit_restart. */
int harness_rabbit_kill (harness_rabbit_t *self);
/* Starts a stopped node again on the same port with the same state. */
int harness_rabbit_restart (harness_rabbit_t *self);
/* Runs rabbitmqctl against the node with the given arguments (one shell
   word string, e.g. "list_queues name messages"), output into out
   (NUL-terminated, truncated). Returns its exit status. */
int harness_rabbitmqctl (harness_rabbit_t *self, const char *args, char *out, size_t size);

/* A private RabbitMQ cluster (tests/rabbitmq-cluster.sh): nodes h1..hN on
   loopback, one Erlang cookie made for it. Each node is a harness_rabbit_t
   (its url that node alone; harness_rabbitmqctl works on it). */
#define HARNESS_CLUSTER_MAX 3
typedef struct {
    char dir[512];
    int n;
    harness_rabbit_t nodes[HARNESS_CLUSTER_MAX];
    char urls[HARNESS_CLUSTER_MAX * 64]; /* every node's URL, h1 first, comma-separated */
} harness_cluster_t;

/* Boots n (1..HARNESS_CLUSTER_MAX) nodes clustered, in a fresh dir under
   harness_tmpdir(); returns once all run as one cluster. 0 or -1. */
int harness_cluster_start (harness_cluster_t *self, int n);
/* Stops every node still running, then the cluster's epmd. */
int harness_cluster_stop (harness_cluster_t *self);
/* SIGKILLs node i (0-based: h1 is 0). */
int harness_cluster_kill (harness_cluster_t *self, int i);

#endif
