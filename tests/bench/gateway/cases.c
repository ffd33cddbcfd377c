/*
 * cases — runs every case on every side, round after round, and hands the
 * records to cases_report. Within a round a case's sides run back to back
 * (floor, target, webdis, nginx), so all of them see the same machine
 * within a minute or so; the order is the same every round, the floor
 * always just before the target, as the floor ratio has always been taken.
 * A peer whose wrk run fails is dropped for the rest of the run with a
 * message (its columns then say why); the floor or the target failing ends
 * the run.
 */
#include "cases.h"

#include "cases_report.h"
#include "cpu.h"
#include "harness.h"

#include <stdio.h>
#include <string.h>

/* CPU ticks of a side's processes but its last (the target: its stores,
   one per shard, started before the gateway), or -1 when the side has one
   process or one cannot be read. */
static long long
s_ticks_but_last (const cases_side_t *side)
{
    if (side->npids < 2)
        return -1;
    long long sum = 0;
    for (int i = 0; i < side->npids - 1; i++) {
        long long t = harness_cpu_ticks (side->pids[i]);
        if (t < 0)
            return -1;
        sum += t;
    }
    return sum;
}

/* One wrk run: a warm-up (discarded) then the measured run, during which
   where the CPU went is measured into *cpu; side names the processes of
   the side under load. */
static int
s_measure (const cases_config_t *cfg, const wrk_config_t *wrk, const cases_side_t *side,
           const cases_load_t *load, wrk_result_t *out, run_cpu_t *cpu)
{
    char url[256];
    snprintf (url, sizeof url, "%s%s", side->url, load->path);
    wrk_result_t warm;
    if (cfg->warmup_s > 0 && wrk_run (wrk, load->mode, url, cfg->warmup_s, NULL, NULL, &warm) != 0)
        return -1;
    cpu_sample_t before, after;
    cpu_sample (&before, cfg->pids, cfg->npids, side->pids, side->npids);
    long long first = s_ticks_but_last (side);
    int rc = wrk_run (wrk, load->mode, url, cfg->duration_s, NULL, NULL, out);
    cpu_sample (&after, cfg->pids, cfg->npids, side->pids, side->npids);
    long long first_after = s_ticks_but_last (side);
    cpu->first_us = first >= 0 && first_after >= first
                        ? cpu_us_per_request (first_after - first, out->requests)
                        : -1;
    cpu->others = cpu_others_pct (&before, &after);
    cpu->busy = cpu_busy_pct (&before, &after);
    cpu->server_us = cpu_us_per_request (after.server - before.server, out->requests);
    cpu->client_us = cpu_us_per_request (after.children - before.children, out->requests);
    return rc;
}

/* Runs case c on every side that runs, for the round c->runs. Returns 0, or
   -1 when the floor or the target failed or the run was interrupted; a
   failed peer is dropped from run (its skip says why). */
static int
s_round (cases_config_t *run, const wrk_config_t *wrk, bench_case_t *c, int round)
{
    for (int s = 0; s < CASES_SIDES; s++) {
        cases_side_t *side = &run->sides[s];
        if (!side->url)
            continue;
        const cases_load_t *load = s == CASES_WEBDIS ? &c->webdis_load : &c->load;
        wrk_result_t *r = &c->result[s][c->runs];
        run_cpu_t *cpu = &c->cpu[s][c->runs];
        if (s_measure (run, wrk, side, load, r, cpu) != 0 || *wrk->interrupted) {
            if (s <= CASES_TARGET || *wrk->interrupted)
                return -1;
            printf ("  round %d  %-18s %-8s failed: its columns are dropped (wrk output in "
                    "%s)\n",
                    round + 1, c->name, cases_side_name (s, run->self_check), wrk->out_dir);
            side->url = NULL;
            side->skip = "skipped: its wrk run failed (see above)";
            continue;
        }
        if (cpu->others > c->others)
            c->others = cpu->others;
        printf ("  round %d  %-18s %-8s %7.0f req/s p50 %.3f ms p99 %.3f ms, %ld errors, %.1f "
                "us/req (others %.0f%%)\n",
                round + 1, c->name, cases_side_name (s, run->self_check), r->rps, r->p50_ms,
                r->p99_ms, r->socket_errors + r->status_errors, cpu->server_us, cpu->others);
        fflush (stdout);
    }
    c->runs++;
    return 0;
}

int
cases_run (const cases_config_t *cfg, const wrk_config_t *wrk)
{
    bool sc = cfg->self_check;
    /* webdis's operations are the ones a user would call for the same
       thing, in the same wrk mode as Herald's (static stays static, Lua
       per request stays Lua per request): PING; GET of an event stored
       under its id, over the same ids; SET through PUT, the 220-byte event
       as the body (webdis takes a PUT body as the command's last argument),
       one key overwritten, where Herald's POST creates an event: both store
       one event-sized value per request. GET /readyz is the gateway's round
       trip to the store with next to no work at either end (a ping per
       request, a small fixed answer), against webdis's PING, a round trip
       to Redis: a rough lower bound, measured in its own runs, of what a
       request that reaches the store costs, printed beside the CPU the
       judged cases are allowed (cases_report.h). */
    bench_case_t cases[] = {
        { .name = sc ? "floor-b GET /ping" : "GET /ping",
          .load = { "static", "/ping" },
          .webdis_load = { "static", "/PING" } },
        { .name = sc ? "floor-b GET readyz" : "GET /readyz",
          .load = { "static", "/readyz" },
          .webdis_load = { "static", "/PING" },
          .round_trip = true },
        { .name = sc ? "floor-b GET ids" : "GET /events/{id}",
          .load = { "get", "/events/" },
          .webdis_load = { "get", "/GET/" },
          .peer_target = true },
        { .name = sc ? "floor-b POST" : "POST /events",
          .load = { "post", "/events" },
          .webdis_load = { "put", "/SET/herald-bench-put" },
          .peer_target = true },
    };
    int count = (int)(sizeof cases / sizeof cases[0]);
    cases_config_t run = *cfg; /* sides dropped when a peer fails */
    int nsides = 0;
    for (int s = 0; s < CASES_SIDES; s++)
        nsides += run.sides[s].url != NULL;
    printf ("wrk: %d thread(s), %d connections; per run %d s warm-up + %d s; %d round%s of %d "
            "cases on %d sides:",
            wrk->threads, wrk->connections, cfg->warmup_s, cfg->duration_s, cfg->rounds,
            cfg->rounds == 1 ? "" : "s", count, nsides);
    for (int s = 0; s < CASES_SIDES; s++)
        if (run.sides[s].url)
            printf (" %s", cases_side_name (s, sc));
    printf ("\n");
    int rc = 0;
    for (int round = 0; round < cfg->rounds && rc == 0; round++)
        for (int i = 0; i < count && rc == 0; i++)
            rc = s_round (&run, wrk, &cases[i], round);
    cases_report_floor (cases, count, cfg->rounds);
    cases_report_cpu (cases, count, sc);
    cases_report_peers (cases, count, &run);
    return rc;
}
