/*
 * shardfx — see shardfx.h.
 */
#include "shardfx.h"

#include "proto.h"
#include "shard_map.h"

#include <signal.h>
#include <stdio.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static const char *s_thirds[SHARDFX_SHARDS] = { "0-5460", "5461-10921", "10922-16383" };

void
shardfx_store_init (shardfx_store_t *store)
{
    store->port = harness_free_port ();
    snprintf (store->endpoint, sizeof store->endpoint, "tcp://127.0.0.1:%d", store->port);
}

int
shardfx_store_start (shardfx_store_t *store, const char *map, int id, const char *name)
{
    char bind[64], pub[64], shard[16], log[700];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", store->port);
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", harness_free_port ());
    snprintf (shard, sizeof shard, "%d", id);
    snprintf (log, sizeof log, "%s/%s.log", harness_tmpdir (), name);
    const char *argv[] = { harness_bin ("herald-store"),
                           "--bind",
                           bind,
                           "--pub-bind",
                           pub,
                           "--shard-map",
                           map,
                           "--shard-id",
                           shard,
                           NULL };
    store->pid = harness_spawn (argv, NULL, NULL, log);
    if (store->pid < 0 || harness_wait_tcp (store->port, 10000) != 0)
        return -1;
    store_client_config_t config = { .endpoint = store->endpoint };
    store->client = store_client_new (&config);
    return store->client ? 0 : -1;
}

void
shardfx_store_stop (shardfx_store_t *store)
{
    store_client_destroy (&store->client);
    if (store->pid > 0) {
        kill (store->pid, SIGCONT);
        harness_stop (store->pid, SIGKILL, 5000);
    }
    store->pid = 0;
}

void
shardfx_write_map (const char *path, const shardfx_store_t *stores, int epoch, int rotate)
{
    char text[512];
    int n = snprintf (text, sizeof text, "epoch %d\n", epoch);
    for (int s = 0; s < SHARDFX_SHARDS; s++) {
        /* store s owns third t where (t + rotate) % 3 == s */
        int third = (s - rotate + SHARDFX_SHARDS) % SHARDFX_SHARDS;
        n += snprintf (text + n, sizeof text - (size_t)n, "shard %s %s\n", stores[s].endpoint,
                       s_thirds[third]);
    }
    assert_int_equal (harness_write_file (path, text), 0);
}

int
shardfx_owner (const char *id)
{
    uint8_t bytes[16];
    assert_int_equal (proto_uuid_parse (id, GW_ID_LEN, bytes), 0);
    uint16_t slot = shard_map_slot_of (bytes);
    return slot <= 5460 ? 0 : slot <= 10921 ? 1 : 2;
}

int
shardfx_gateway_start (gw_t *gw, int run, const char *map)
{
    gw->run = run;
    gw_init (gw);
    const char *extra[] = { "--shard-map", map, "--timeout-ms", "1000", NULL };
    return gw_start_gateway (gw, extra);
}

int
shardfx_start_all (shardfx_store_t *stores, const char *map, gw_t *gw)
{
    for (int s = 0; s < SHARDFX_SHARDS; s++)
        shardfx_store_init (&stores[s]);
    shardfx_write_map (map, stores, 2, 0);
    for (int s = 0; s < SHARDFX_SHARDS; s++) {
        char name[16];
        snprintf (name, sizeof name, "shard%d", s);
        if (shardfx_store_start (&stores[s], map, s, name) != 0)
            return -1;
    }
    if (shardfx_gateway_start (gw, 10, map) != 0 || gw_wait_readyz (gw, 200, 10000) != 0)
        return -1;
    return 0;
}

void
shardfx_stop_all (shardfx_store_t *stores, gw_t *gw)
{
    gw_fini (gw);
    for (int s = 0; s < SHARDFX_SHARDS; s++)
        shardfx_store_stop (&stores[s]);
}
