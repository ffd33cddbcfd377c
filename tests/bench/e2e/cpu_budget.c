/*
 * cpu_budget — see cpu_budget.h.
 */
#include "cpu_budget.h"

#include "clock.h"
#include "harness.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* utime + stime of pid (0: this process), in clock ticks, or -1 (also
   for a pid < 0: a part whose process is not known). */
static long long
s_ticks (pid_t pid)
{
    if (pid < 0)
        return -1;
    return harness_cpu_ticks (pid ? pid : getpid ());
}

void
cpu_budget_init (cpu_budget_t *self)
{
    memset (self, 0, sizeof *self);
}

void
cpu_budget_add (cpu_budget_t *self, const char *name, cpu_budget_kind_t kind, pid_t pid)
{
    if (self->n >= CPU_BUDGET_MAX)
        return;
    snprintf (self->part[self->n].name, sizeof self->part[self->n].name, "%s", name);
    self->part[self->n].kind = kind;
    self->part[self->n].pid = pid;
    self->n++;
}

int
cpu_budget_add_rabbit (cpu_budget_t *self, const char *dir)
{
    char path[600];
    snprintf (path, sizeof path, "%s/node.pid", dir);
    FILE *f = fopen (path, "r");
    long pid = 0;
    int ok = f && fscanf (f, "%ld", &pid) == 1 && pid > 0;
    if (f)
        fclose (f);
    if (!ok)
        fprintf (stderr, "cpu: cannot read %s: RabbitMQ's CPU, and every total, unknown\n", path);
    /* Unknown, it still counts: totals say so instead of leaving it out. */
    cpu_budget_add (self, "rabbitmq", CPU_BUDGET_BROKER, ok ? (pid_t)pid : -1);
    return ok ? 0 : -1;
}

void
cpu_budget_start (cpu_budget_t *self)
{
    for (int i = 0; i < self->n; i++)
        self->part[i].start = s_ticks (self->part[i].pid);
    self->t0_us = clock_mono_us ();
}

void
cpu_budget_stop (cpu_budget_t *self)
{
    self->t1_us = clock_mono_us ();
    for (int i = 0; i < self->n; i++) {
        long long now = s_ticks (self->part[i].pid);
        self->part[i].ticks = now < 0 || self->part[i].start < 0 ? -1 : now - self->part[i].start;
    }
}

static double
s_us (long long ticks, long units)
{
    static long hz;
    if (!hz)
        hz = sysconf (_SC_CLK_TCK) > 0 ? sysconf (_SC_CLK_TCK) : 100;
    return (double)ticks * 1e6 / (double)hz / (double)units;
}

double
cpu_budget_total (const cpu_budget_t *self, int kind, long units)
{
    if (units <= 0)
        return -1;
    long long sum = 0;
    for (int i = 0; i < self->n; i++) {
        if (kind >= 0 && (int)self->part[i].kind != kind)
            continue;
        if (self->part[i].ticks < 0)
            return -1;
        sum += self->part[i].ticks;
    }
    return s_us (sum, units);
}

double
cpu_budget_cores (const cpu_budget_t *self)
{
    double all = cpu_budget_total (self, -1, 1);
    double secs = (double)(self->t1_us - self->t0_us) / 1e6;
    return all >= 0 && secs > 0 ? all / 1e6 / secs : -1;
}

void
cpu_budget_print (const cpu_budget_t *self, long units, const char *unit)
{
    if (units <= 0)
        return;
    printf ("cpu         us per %s:", unit);
    for (int i = 0; i < self->n; i++) {
        if (self->part[i].ticks < 0)
            printf (" %s ?", self->part[i].name);
        else
            printf (" %s %.1f", self->part[i].name, s_us (self->part[i].ticks, units));
        printf (i + 1 < self->n ? "," : ";");
    }
    static const char *kinds[] = { "Herald", "RabbitMQ", "bench clients" };
    for (int k = 0; k < 3; k++) {
        bool present = false;
        for (int i = 0; i < self->n; i++)
            present |= (int)self->part[i].kind == k;
        double us = cpu_budget_total (self, k, units);
        if (present && us >= 0)
            printf (" %s %.1f", kinds[k], us);
    }
    double all = cpu_budget_total (self, -1, units), busy = cpu_budget_cores (self);
    if (all >= 0 && busy >= 0)
        printf (" => %.1f us per %s; %.2f of %ld cores busy", all, unit, busy,
                sysconf (_SC_NPROCESSORS_ONLN));
    printf ("\n");
    fflush (stdout);
}
