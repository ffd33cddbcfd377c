/*
 * cpu — how much of the machine something else used while a benchmark ran.
 * On a shared 2-core machine a run's figures mean little if another
 * process took a core meanwhile; this measures it instead of guessing:
 * the CPU time the whole machine spent busy (/proc/stat) minus the time
 * spent by the benchmark's own processes (the listed PIDs from
 * /proc/PID/stat, this process and its reaped children such as wrk).
 */
#ifndef HERALD_BENCH_CPU_H
#define HERALD_BENCH_CPU_H

#include <sys/types.h>

typedef struct {
    long long total;    /* all CPU time, clock ticks */
    long long busy;     /* user, nice, system, steal */
    long long used;     /* all but idle and iowait (busy + irq + softirq) */
    long long ours;     /* the benchmark's processes */
    long long server;   /* the processes named as the side under load */
    long long children; /* this process's reaped children (the wrk runs) */
} cpu_sample_t;

/* Takes a sample; pids are the benchmark's running children (n of them),
   server those of the side under load (nserver of them, may be 0). */
void cpu_sample (cpu_sample_t *self, const pid_t *pids, int n, const pid_t *server, int nserver);

/* Percent of the machine's capacity (all cores = 100) that other processes
   used between two samples, or -1 if unknown. */
double cpu_others_pct (const cpu_sample_t *before, const cpu_sample_t *after);

/* Percent of the machine's capacity that was in use between two samples:
   everything but idle and iowait, interrupt time included (a loopback
   benchmark's packets are mostly processed there), or -1 if unknown. */
double cpu_busy_pct (const cpu_sample_t *before, const cpu_sample_t *after);

/* Microseconds of CPU per request that a tick count (e.g. the difference of
   two samples' server or children) over `requests` is, or -1 when there
   were none. */
double cpu_us_per_request (long long ticks, long requests);

#endif
