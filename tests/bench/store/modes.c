/*
 * modes — see modes.h. The order of the modes turns by one each round, so
 * no mode always runs first (on a cold machine) or right after the same
 * neighbour; the ratio to `off` is still taken within a round. A run's
 * journal counters are read from the store's stats op just before it is
 * stopped, so they cover that run's three phases and nothing else.
 */
#include "modes.h"

#include "data_dir.h"
#include "harness.h"
#include "load.h"
#include "peer_redis.h"
#include "store_stats.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODES_START_MS 10000
#define MODES_STOP_MS 30000
#define MODES_STATS_MS 5000

typedef struct {
    bool done;
    load_result_t create, get, update;
    bool batched; /* the phases again in batches (no journal only) */
    load_result_t b_create, b_get, b_update;
    bool via_libzmq; /* creates and gets on a fresh store through libzmq (no journal only) */
    load_result_t l_create, l_get;
    store_stats_t stats;
} mode_run_t;

typedef struct {
    mode_run_t runs[MODES_MAX_ROUNDS];
} mode_row_t;

/* Prints the machine's load average: the runs here are short, and on a
   shared machine it is the cheapest sign of what else was running. */
static void
s_print_load (int round)
{
    char buf[128] = "?";
    FILE *file = fopen ("/proc/loadavg", "r");
    if (file) {
        if (!fgets (buf, sizeof buf, file))
            snprintf (buf, sizeof buf, "?");
        fclose (file);
    }
    buf[strcspn (buf, "\n")] = '\0';
    printf ("  round %d  /proc/loadavg: %s\n", round + 1, buf);
}

static void s_print_run (int round, store_mode_t mode, const mode_run_t *r);

/* With the bare client and Redis beside it, no journal: a fresh store
   gets the create and get phases through a libzmq DEALER too, the load as
   it ran until 2026-12-06, so the table shows what the client alone
   changes, in the same round. */
static int
s_run_libzmq (const modes_config_t *cfg, int round, mode_run_t *out)
{
    char log[1024];
    snprintf (log, sizeof log, "%s/store-off-libzmq-%d.log", harness_tmpdir (), round + 1);
    store_proc_t store;
    load_t *load = NULL;
    int rc = -1;
    if (store_proc_spawn (&store, STORE_MODE_OFF, "", "warn", NULL, log) == 0
        && store_proc_wait (&store, MODES_START_MS) == 0
        && (load = load_new (store.endpoint, LOAD_CLIENT_LIBZMQ, cfg->ops, cfg->fsync.interrupted))
               != NULL) {
        load_set_store_pid (load, store.pid);
        if (load_create (load, cfg->ops, cfg->window, &out->l_create) == 0 && load_ack (load) == 0
            && load_get (load, cfg->ops, cfg->window, &out->l_get) == 0)
            rc = 0;
    }
    load_destroy (&load);
    if (store_proc_stop (&store, MODES_STOP_MS) != 0)
        rc = -1;
    if (rc != 0)
        fprintf (stderr, "bench: the libzmq run of round %d failed; store log %s\n", round + 1,
                 log);
    out->via_libzmq = rc == 0;
    return rc;
}

/* One run: a fresh store in mode, the three phases, its stats; its line
   printed when it completed. */
static int
s_run (const modes_config_t *cfg, store_mode_t mode, int round, mode_run_t *out)
{
    char dir[1024] = "", log[1024];
    snprintf (log, sizeof log, "%s/store-%s-%d.log", harness_tmpdir (), store_mode_name (mode),
              round + 1);
    if (mode != STORE_MODE_OFF
        && data_dir_make (cfg->fsync.data_root, store_mode_name (mode), dir, sizeof dir) != 0) {
        fprintf (stderr, "bench: cannot make a data dir under %s\n", cfg->fsync.data_root);
        return -1;
    }
    store_proc_t store;
    load_t *load = NULL;
    int rc = -1;
    if (store_proc_spawn (&store, mode, dir, "warn", NULL, log) != 0
        || store_proc_wait (&store, MODES_START_MS) != 0)
        goto cleanup;
    load = load_new (store.endpoint, cfg->client, cfg->ops, cfg->fsync.interrupted);
    if (load)
        load_set_store_pid (load, store.pid);
    if (!load || load_create (load, cfg->ops, cfg->window, &out->create) != 0
        || load_ack (load) != 0 || load_get (load, cfg->ops, cfg->window, &out->get) != 0
        || load_update (load, cfg->ops, cfg->window, &out->update) != 0 || load_ack (load) != 0
        || store_stats_fetch (store.endpoint, &out->stats, MODES_STATS_MS) != 0)
        goto cleanup;
    /* The same phases in batches, on the same store (twice the events by
       then: if anything, that makes the batched gets slower). */
    if (mode == STORE_MODE_OFF && cfg->batch > 1) {
        if (load_set_batch (load, cfg->batch) != 0
            || load_create (load, cfg->ops, cfg->window, &out->b_create) != 0
            || load_ack (load) != 0 || load_get (load, cfg->ops, cfg->window, &out->b_get) != 0
            || load_update (load, cfg->ops, cfg->window, &out->b_update) != 0
            || load_ack (load) != 0)
            goto cleanup;
        out->batched = true;
    }
    out->done = true;
    rc = 0;
cleanup:
    load_destroy (&load);
    if (store_proc_stop (&store, MODES_STOP_MS) != 0 && rc == 0) {
        fprintf (stderr, "bench: herald-store (%s) did not exit cleanly; see %s\n",
                 store_mode_name (mode), log);
        rc = -1;
    }
    if (dir[0] && data_dir_remove (dir) != 0)
        rc = -1;
    /* Its store starts once this one is stopped: one store at a time. */
    if (rc == 0 && mode == STORE_MODE_OFF && cfg->peers && cfg->client == LOAD_CLIENT_ZMTP)
        rc = s_run_libzmq (cfg, round, out);
    if (rc != 0)
        fprintf (stderr, "bench: %s run of round %d failed; store log %s\n", store_mode_name (mode),
                 round + 1, log);
    else
        s_print_run (round, mode, out);
    return rc;
}

static double
s_batch (const store_stats_t *st)
{
    return st->journal_commits ? (double)st->journal_records / (double)st->journal_commits : -1;
}

static double
s_sync_mean_ms (const store_stats_t *st)
{
    return st->journal_syncs ? (double)st->journal_sync_us_total / (double)st->journal_syncs / 1e3
                             : -1;
}

static void
s_print_run (int round, store_mode_t mode, const mode_run_t *r)
{
    const store_stats_t *st = &r->stats;
    printf ("  round %d  %-8s create %7.0f/s p99 %6.2f ms | get %7.0f/s | update %7.0f/s | ",
            round + 1, store_mode_name (mode), r->create.ops_per_s, r->create.p99_ms,
            r->get.ops_per_s, r->update.ops_per_s);
    if (!st->journal)
        printf ("no journal\n");
    else if (st->journal_syncs == 0)
        printf ("%llu records in %llu commits, no fdatasync\n",
                (unsigned long long)st->journal_records, (unsigned long long)st->journal_commits);
    else
        printf ("%llu records in %llu commits, %llu fdatasync (mean %.2f ms, max %.2f ms)\n",
                (unsigned long long)st->journal_records, (unsigned long long)st->journal_commits,
                (unsigned long long)st->journal_syncs, s_sync_mean_ms (st),
                (double)st->journal_sync_us_max / 1e3);
    if (r->batched)
        printf ("  round %d  %-8s create %7.0f/s p99 %6.2f ms | get %7.0f/s | update %7.0f/s | "
                "in batches\n",
                round + 1, "batched", r->b_create.ops_per_s, r->b_create.p99_ms, r->b_get.ops_per_s,
                r->b_update.ops_per_s);
    if (r->via_libzmq)
        printf ("  round %d  %-8s create %7.0f/s p99 %6.2f ms | get %7.0f/s | a fresh store, "
                "through libzmq\n",
                round + 1, "libzmq", r->l_create.ops_per_s, r->l_create.p99_ms, r->l_get.ops_per_s);
    fflush (stdout);
}

typedef enum { PHASE_CREATE, PHASE_GET, PHASE_UPDATE } phase_t;

/* A run's ops/s (or p99, in ms) of one phase. */
static double
s_value (const mode_run_t *r, phase_t phase, bool p99)
{
    const load_result_t *x = phase == PHASE_CREATE ? &r->create
                             : phase == PHASE_GET  ? &r->get
                                                   : &r->update;
    return p99 ? x->p99_ms : x->ops_per_s;
}

/* The median over the completed rounds of a phase's ops/s (or p99). */
static double
s_phase_median (const mode_row_t *row, int rounds, phase_t phase, bool p99)
{
    double v[MODES_MAX_ROUNDS];
    int n = 0;
    for (int i = 0; i < rounds; i++)
        if (row->runs[i].done)
            v[n++] = s_value (&row->runs[i], phase, p99);
    return harness_median (v, n);
}

/* The median, over the rounds both completed, of a phase's ops/s in row
   over the same in base (the `off` row); -1 without a base. */
static double
s_ratio (const mode_row_t *row, const mode_row_t *base, int rounds, phase_t phase)
{
    double v[MODES_MAX_ROUNDS];
    int n = 0;
    for (int i = 0; base && i < rounds; i++)
        if (row->runs[i].done && base->runs[i].done)
            v[n++] = s_value (&row->runs[i], phase, false) / s_value (&base->runs[i], phase, false);
    return harness_median (v, n);
}

static void
s_print_row (store_mode_t mode, const mode_row_t *row, const mode_row_t *base, int rounds)
{
    double batch[MODES_MAX_ROUNDS], sync[MODES_MAX_ROUNDS];
    int nb = 0, ns = 0, done = 0;
    double sync_max = -1, unsynced = -1;
    for (int i = 0; i < rounds; i++) {
        const mode_run_t *r = &row->runs[i];
        if (!r->done)
            continue;
        done++;
        if (s_batch (&r->stats) >= 0)
            batch[nb++] = s_batch (&r->stats);
        if (s_sync_mean_ms (&r->stats) >= 0) {
            sync[ns++] = s_sync_mean_ms (&r->stats);
            double max = (double)r->stats.journal_sync_us_max / 1e3;
            sync_max = max > sync_max ? max : sync_max;
        }
        /* Only a sync measures the wait (under no, or before everysec's
           first sync, nothing was synced: no figure rather than 0). */
        if (r->stats.journal_syncs > 0) {
            double u = (double)r->stats.journal_unsynced_max_ms;
            unsynced = u > unsynced ? u : unsynced;
        }
    }
    printf ("%-9s", store_mode_name (mode));
    if (done == 0) {
        printf (" (no run completed)\n");
        return;
    }
    fsync_rounds_cell (9, 0, s_phase_median (row, rounds, PHASE_CREATE, false));
    fsync_rounds_cell (5, 2, s_ratio (row, base, rounds, PHASE_CREATE));
    fsync_rounds_cell (6, 2, s_phase_median (row, rounds, PHASE_CREATE, true));
    fsync_rounds_cell (9, 0, s_phase_median (row, rounds, PHASE_GET, false));
    fsync_rounds_cell (5, 2, s_ratio (row, base, rounds, PHASE_GET));
    fsync_rounds_cell (9, 0, s_phase_median (row, rounds, PHASE_UPDATE, false));
    fsync_rounds_cell (5, 2, s_ratio (row, base, rounds, PHASE_UPDATE));
    fsync_rounds_cell (6, 2, s_phase_median (row, rounds, PHASE_UPDATE, true));
    fsync_rounds_cell (7, 1, harness_median (batch, nb));
    fsync_rounds_cell (9, 3, harness_median (sync, ns));
    fsync_rounds_cell (8, 2, sync_max);
    fsync_rounds_cell (8, 0, unsynced);
    printf ("\n");
}

static void
s_print_table (const modes_config_t *cfg, const mode_row_t *rows, int rounds)
{
    const mode_row_t *base = NULL;
    for (int m = 0; m < cfg->fsync.nmodes; m++)
        if (cfg->fsync.modes[m] == STORE_MODE_OFF)
            base = &rows[m];
    printf ("\n%-9s %9s %5s %6s %9s %5s %9s %5s %6s %7s %9s %8s %8s\n", "fsync", "create/s",
            "ratio", "p99 ms", "get/s", "ratio", "update/s", "ratio", "p99 ms", "batch", "sync ms",
            "sync max", "unsynced");
    for (int m = 0; m < cfg->fsync.nmodes; m++)
        s_print_row (cfg->fsync.modes[m], &rows[m], base, rounds);
    printf ("Medians over %d round%s of %zu ops per phase, %zu in flight on one %s; "
            "ratio: median of the per-round ratios to off%s.\n"
            "From the store's stats after each run (all three phases): batch = journal_records "
            "/ journal_commits (the mean group commit);\nsync ms = journal_sync_us_total / "
            "journal_syncs (median over the rounds), sync max = the largest journal_sync_us_max; "
            "unsynced = the longest\nwritten data waited for its sync (journal_unsynced_max_ms, "
            "largest over the rounds; never synced under no). '-': does not apply.\n",
            rounds, rounds == 1 ? "" : "s", cfg->ops, cfg->window, load_client_name (cfg->client),
            base ? "" : " (off was not run: no ratios)");
}

/* What the rounds' callbacks work on. */
typedef struct {
    const modes_config_t *cfg;
    mode_row_t *rows;
    peer_redis_t redis; /* server.pid 0: no peer */
    peer_redis_figures_t redis_set[MODES_MAX_ROUNDS],
        redis_get[MODES_MAX_ROUNDS]; /* rps <= 0: no run */
} modes_t;

/* Redis in the same round, with the same ops, window and value size as the
   herald runs, and keys drawn over --ops: the herald store holds --ops
   events when its get phase reads them, so Redis's table must be of that
   order too (drawn at random, --ops draws leave about 63% of it set, which
   still favours Redis). A keyspace of LOAD_USERS (100,000) made Redis's
   table a tenth of herald-store's and its GETs 1.5x faster than over
   --ops keys (peer_redis.h). */
static void
s_round_start (void *arg, int round)
{
    modes_t *self = arg;
    s_print_load (round);
    if (self->redis.server.pid <= 0)
        return;
    if (peer_redis_run (&self->redis, self->cfg->ops, LOAD_USER_LEN + LOAD_DESCRIPTION_LEN,
                        self->cfg->ops, &self->redis_set[round], &self->redis_get[round])
        == 0)
        printf ("  round %d  redis    SET %9.0f/s | GET %9.0f/s (redis-benchmark -c 1 -P 1000)\n",
                round + 1, self->redis_set[round].rps, self->redis_get[round].rps);
    fflush (stdout);
}

/* Which of a run's results a peer row shows. */
typedef enum { ROW_SINGLE, ROW_BATCHED, ROW_LIBZMQ } row_kind_t;

/* One row of the peer table: herald's median rate over the rounds, Redis's,
   the median of the per-round ratios (rounds where both ran), then the
   same for the servers' CPU per operation and the clients'. */
static void
s_print_peer_row (const char *name, const modes_t *self, const mode_row_t *off, int rounds,
                  row_kind_t kind, bool get)
{
    double herald[MODES_MAX_ROUNDS], redis[MODES_MAX_ROUNDS], ratio[MODES_MAX_ROUNDS];
    double own_cpu[MODES_MAX_ROUNDS], peer_cpu[MODES_MAX_ROUNDS], cpu_ratio[MODES_MAX_ROUNDS];
    double own_client[MODES_MAX_ROUNDS], peer_client[MODES_MAX_ROUNDS];
    int nh = 0, nr = 0, nd = 0, nc = 0, npc = 0, ncr = 0, ncl = 0, npcl = 0;
    for (int i = 0; i < rounds; i++) {
        const mode_run_t *r = &off->runs[i];
        const peer_redis_figures_t *peer = get ? &self->redis_get[i] : &self->redis_set[i];
        const load_result_t *own = kind == ROW_BATCHED  ? (get ? &r->b_get : &r->b_create)
                                   : kind == ROW_LIBZMQ ? (get ? &r->l_get : &r->l_create)
                                                        : (get ? &r->get : &r->create);
        bool ran =
            r->done && (kind != ROW_BATCHED || r->batched) && (kind != ROW_LIBZMQ || r->via_libzmq);
        if (peer->rps > 0)
            redis[nr++] = peer->rps;
        if (peer->rps > 0 && peer->server_cpu_us > 0)
            peer_cpu[npc++] = peer->server_cpu_us;
        if (peer->rps > 0 && peer->client_cpu_us > 0)
            peer_client[npcl++] = peer->client_cpu_us;
        if (ran)
            herald[nh++] = own->ops_per_s;
        if (ran && own->store_cpu_us > 0)
            own_cpu[nc++] = own->store_cpu_us;
        if (ran && own->client_cpu_us > 0)
            own_client[ncl++] = own->client_cpu_us;
        if (ran && peer->rps > 0)
            ratio[nd++] = own->ops_per_s / peer->rps;
        if (ran && peer->rps > 0 && own->store_cpu_us > 0 && peer->server_cpu_us > 0)
            cpu_ratio[ncr++] = peer->server_cpu_us / own->store_cpu_us;
    }
    if (nh == 0 || nr == 0)
        return;
    printf ("%-26s%10.0f %9.0f %7.2f", name, harness_median (herald, nh),
            harness_median (redis, nr), nd ? harness_median (ratio, nd) : -1);
    fsync_rounds_cell (9, 2, nc ? harness_median (own_cpu, nc) : -1);
    fsync_rounds_cell (7, 2, npc ? harness_median (peer_cpu, npc) : -1);
    fsync_rounds_cell (6, 2, ncr ? harness_median (cpu_ratio, ncr) : -1);
    fsync_rounds_cell (8, 2, ncl ? harness_median (own_client, ncl) : -1);
    fsync_rounds_cell (7, 2, npcl ? harness_median (peer_client, npcl) : -1);
    printf ("\n");
}

/* Herald (no journal) against Redis, one request per message and, when
   the runs batched, in batches. */
static void
s_print_peer (const modes_t *self, const mode_row_t *off, int rounds)
{
    if (self->redis.server.pid <= 0 || !off)
        return;
    printf ("\n%-26s%10s %9s %7s%25s%17s\n", "peer: Redis, same run", "herald off", "redis",
            "ratio", "server us/op", "client us/op");
    printf ("%-26s%10s %9s %7s %9s %7s %6s %8s %7s\n", "", "ops/s", "ops/s", "", "herald", "redis",
            "ratio", "herald", "redis");
    s_print_peer_row ("create / SET", self, off, rounds, ROW_SINGLE, false);
    s_print_peer_row ("get / GET", self, off, rounds, ROW_SINGLE, true);
    char name[64];
    snprintf (name, sizeof name, "create / SET, batches %zu", self->cfg->batch);
    if (self->cfg->batch > 1)
        s_print_peer_row (name, self, off, rounds, ROW_BATCHED, false);
    snprintf (name, sizeof name, "get / GET, batches %zu", self->cfg->batch);
    if (self->cfg->batch > 1)
        s_print_peer_row (name, self, off, rounds, ROW_BATCHED, true);
    s_print_peer_row ("create / SET, libzmq", self, off, rounds, ROW_LIBZMQ, false);
    s_print_peer_row ("get / GET, libzmq", self, off, rounds, ROW_LIBZMQ, true);
    printf (
        "Redis: redis-server --save '' --appendonly no, redis-benchmark -c 1 -P 1000 -d %d -r %zu "
        "-n %zu -t set, then -t get,\nonce per round (pipelined: 1000 commands per write); "
        "herald-store: %zu in flight on one %s, one request\nper message, or %zu per message "
        "in a batch (proto.h). ratio: median of the per-round ratios of herald-store\n(no "
        "journal) to Redis; target >= 0.50 one request per message (issue 15). server us/op: "
        "CPU (user + system,\nall threads) per operation of herald-store and of redis-server, "
        "ratio = Redis's / Herald's (the rate ratio\nthe servers' own CPU allows); client us/op: "
        "of the load generators, herald-bench-store (through that\nclient) and "
        "redis-benchmark, which share the same two cores with the server they measure\n(herald's "
        "over "
        "its phase loop, redis-benchmark's over the whole process, start-up included). The "
        "servers' "
        "figures are\nclock ticks (%ld a second) from /proc: a phase of N ops taking T s of CPU is "
        "read to 1 / (T x %ld).\n%s",
        LOAD_USER_LEN + LOAD_DESCRIPTION_LEN, self->cfg->ops, self->cfg->ops, self->cfg->window,
        load_client_name (self->cfg->client), self->cfg->batch, sysconf (_SC_CLK_TCK),
        sysconf (_SC_CLK_TCK),
        self->cfg->client == LOAD_CLIENT_ZMTP
            ? "libzmq rows: the create and get phases on a fresh store through a libzmq DEALER, "
              "the load as it ran until 2026-12-06,\nfor reference (its own I/O thread on the "
              "same cores): what the bare client changes, in the same rounds.\n"
            : "");
}

static int
s_round_run (void *arg, int m, int round)
{
    modes_t *self = arg;
    return s_run (self->cfg, self->cfg->fsync.modes[m], round, &self->rows[m].runs[round]);
}

static void
s_round_table (void *arg, int rounds)
{
    modes_t *self = arg;
    s_print_table (self->cfg, self->rows, rounds);
    for (int m = 0; m < self->cfg->fsync.nmodes; m++)
        if (self->cfg->fsync.modes[m] == STORE_MODE_OFF)
            s_print_peer (self, &self->rows[m], rounds);
}

int
modes_run (const modes_config_t *cfg)
{
    modes_t self = { .cfg = cfg, .rows = calloc ((size_t)cfg->fsync.nmodes, sizeof (mode_row_t)) };
    if (!self.rows)
        return -1;
    if (cfg->peers)
        peer_redis_start (&self.redis);
    fsync_rounds_print_plan (&cfg->fsync, "fsync modes");
    printf (", fresh store and data dir per run under %s\n", cfg->fsync.data_root);
    fflush (stdout);
    fsync_rounds_fns_t fns = { &self, s_round_start, s_round_run, s_round_table };
    int rc = fsync_rounds_run (&cfg->fsync, &fns);
    peer_redis_stop (&self.redis);
    free (self.rows);
    return rc;
}
