/*
 * fsync_rounds — see fsync_rounds.h. The ratio to `off` is still taken
 * within a round (by the caller's table): turning the order changes which
 * mode meets a cold machine, never which runs are compared.
 */
#include "fsync_rounds.h"

#include "disk_probe.h"

#include <assert.h>
#include <stdio.h>

int
fsync_rounds_run (const fsync_rounds_config_t *cfg, const fsync_rounds_fns_t *fns)
{
    assert (cfg && fns && cfg->rounds > 0 && cfg->nmodes > 0);
    disk_probe_t *probe = disk_probe_new ();
    int rc = probe ? 0 : -1;
    size_t per_round = (cfg->probe_samples + (size_t)cfg->rounds - 1) / (size_t)cfg->rounds;
    int rounds = 0;
    for (int round = 0; round < cfg->rounds && rc == 0; round++) {
        if (fns->round_start)
            fns->round_start (fns->arg, round);
        if (per_round && disk_probe_run (probe, cfg->data_root, per_round) != 0)
            rc = -1;
        for (int k = 0; k < cfg->nmodes && rc == 0 && !*cfg->interrupted; k++)
            rc = fns->run (fns->arg, (k + round) % cfg->nmodes, round);
        if (*cfg->interrupted)
            rc = -1;
        rounds = round + 1;
    }
    fns->table (fns->arg, rounds);
    if (probe)
        disk_probe_print (probe, cfg->data_root);
    disk_probe_destroy (&probe);
    return rc;
}

void
fsync_rounds_print_plan (const fsync_rounds_config_t *cfg, const char *title)
{
    printf ("%s: %d round%s of", title, cfg->rounds, cfg->rounds == 1 ? "" : "s");
    for (int m = 0; m < cfg->nmodes; m++)
        printf (" %s", store_mode_name (cfg->modes[m]));
    printf (" (order turned by one each round)");
}

void
fsync_rounds_cell (int width, int precision, double v)
{
    if (v < 0)
        printf (" %*s", width, "-");
    else
        printf (" %*.*f", width, precision, v);
}
