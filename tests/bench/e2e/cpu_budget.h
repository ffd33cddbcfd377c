/*
 * cpu_budget — where the CPU went during one measured run of bench_e2e:
 * user + system time of each process taking part (Herald's services, the
 * RabbitMQ node, and this benchmark's own clients: the posters and the
 * processed watcher, or the bare publisher and consumer of a ceiling run),
 * read from /proc/PID/stat before and after, and reported per event.
 *
 * On a machine whose cores every part shares, a pipeline's rate is bounded
 * by the cores divided by the CPU one event costs all of them together.
 * Comparing that cost with the bare broker's per message tells how far
 * Herald's ratio to the ceiling can go on these cores whatever the
 * scheduling: cpu-bound = the ceiling's CPU per message / a Herald run's
 * CPU per event, every part counted on both sides (cpu_budget_total with
 * kind -1), the same idea as herald-bench-gateway's column.
 *
 * Clock ticks (usually 10 ms) are the resolution: a run of a few seconds
 * gives each process's share to a few percent.
 */
#ifndef HERALD_BENCH_CPU_BUDGET_H
#define HERALD_BENCH_CPU_BUDGET_H

#include <stdint.h>
#include <sys/types.h>

#define CPU_BUDGET_MAX 16

typedef enum {
    CPU_BUDGET_HERALD, /* a Herald service */
    CPU_BUDGET_BROKER, /* the RabbitMQ node */
    CPU_BUDGET_CLIENT  /* this benchmark's clients (this process) */
} cpu_budget_kind_t;

typedef struct {
    int n;
    struct {
        char name[24];
        cpu_budget_kind_t kind;
        pid_t pid;
        long long start, ticks; /* ticks -1: unknown (the process went away) */
    } part[CPU_BUDGET_MAX];
    int64_t t0_us, t1_us;
} cpu_budget_t;

/* Empties self. */
void cpu_budget_init (cpu_budget_t *self);

/* Adds a process to watch; pid 0 is this process, a pid < 0 one that is
   not known (its CPU, and every total it is part of, reads unknown).
   Ignored past CPU_BUDGET_MAX. */
void cpu_budget_add (cpu_budget_t *self, const char *name, cpu_budget_kind_t kind, pid_t pid);

/* Adds the RabbitMQ node whose pid file is <dir>/node.pid (tests/
   rabbitmq-node.sh). Returns 0, or -1 when the file cannot be read: the
   node is then added as unknown, with a message on stderr. */
int cpu_budget_add_rabbit (cpu_budget_t *self, const char *dir);

/* Samples every part: the run starts / stops. */
void cpu_budget_start (cpu_budget_t *self);
void cpu_budget_stop (cpu_budget_t *self);

/* Microseconds of CPU per unit (events, messages) of every part of a kind
   (-1 for every kind), or -1 when a part is unknown or units <= 0. */
double cpu_budget_total (const cpu_budget_t *self, int kind, long units);

/* Cores busy on average between start and stop, every part counted, or -1
   when a part is unknown. */
double cpu_budget_cores (const cpu_budget_t *self);

/* Prints one line: each part's us per unit, the totals by kind, and how
   many cores were busy on average. */
void cpu_budget_print (const cpu_budget_t *self, long units, const char *unit);

#endif
