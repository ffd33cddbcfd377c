/*
 * cpu — machine-wide busy time from the first line of /proc/stat (interrupt
 * time left out, so others' share is if anything underestimated), and the
 * benchmark's own share from /proc/PID/stat (utime + stime of the running
 * children) plus getrusage for this process and its reaped children (wrk
 * runs are reaped before the closing sample). All in USER_HZ ticks.
 */
#include "cpu.h"

#include "harness.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static long long
s_rusage_ticks (int who, long hz)
{
    long long us = harness_rusage_us (who);
    return us < 0 ? 0 : us * hz / 1000000;
}

static long
s_hz (void)
{
    long hz = sysconf (_SC_CLK_TCK);
    return hz > 0 ? hz : 100;
}

static long long
s_ticks_of (const pid_t *pids, int n)
{
    long long ticks = 0;
    for (int i = 0; i < n; i++) {
        long long t = harness_cpu_ticks (pids[i]);
        ticks += t > 0 ? t : 0;
    }
    return ticks;
}

double
cpu_us_per_request (long long ticks, long requests)
{
    if (requests <= 0)
        return -1;
    return (double)ticks * 1e6 / (double)s_hz () / (double)requests;
}

void
cpu_sample (cpu_sample_t *self, const pid_t *pids, int n, const pid_t *server, int nserver)
{
    memset (self, 0, sizeof *self);
    FILE *file = fopen ("/proc/stat", "r");
    if (file) {
        unsigned long long v[8] = { 0 };
        if (fscanf (file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7])
            == 8) {
            for (int i = 0; i < 8; i++)
                self->total += (long long)v[i];
            /* user, nice, system, steal: idle and iowait are not busy, and
               irq/softirq time is left out because under a loopback
               benchmark it is mostly our own packets, which the kernel
               may account to no process at all. */
            self->busy = (long long)(v[0] + v[1] + v[2] + v[7]);
            self->used = self->total - (long long)(v[3] + v[4]);
        }
        fclose (file);
    }
    long hz = s_hz ();
    self->server = s_ticks_of (server, nserver);
    self->children = s_rusage_ticks (RUSAGE_CHILDREN, hz);
    self->ours = s_ticks_of (pids, n) + s_rusage_ticks (RUSAGE_SELF, hz) + self->children;
}

double
cpu_others_pct (const cpu_sample_t *before, const cpu_sample_t *after)
{
    long long total = after->total - before->total;
    if (total <= 0 || before->total == 0)
        return -1;
    long long others = (after->busy - before->busy) - (after->ours - before->ours);
    if (others < 0)
        others = 0;
    return 100.0 * (double)others / (double)total;
}

double
cpu_busy_pct (const cpu_sample_t *before, const cpu_sample_t *after)
{
    long long total = after->total - before->total;
    if (total <= 0 || before->total == 0)
        return -1;
    return 100.0 * (double)(after->used - before->used) / (double)total;
}
