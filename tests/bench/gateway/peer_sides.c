/*
 * peer_sides — see peer_sides.h.
 */
#include "peer_sides.h"

#include <stdio.h>

void
peer_sides_start (peer_sides_t *self, bool no_peers, int threads, int floor_port, int connections,
                  const char *ids_path, cases_config_t *cfg, pid_t *all_pids)
{
    cases_side_t *webdis = &cfg->sides[CASES_WEBDIS], *nginx = &cfg->sides[CASES_NGINX];
    if (no_peers) {
        webdis->skip = nginx->skip = "skipped (--no-peers)";
        return;
    }
    if (peer_webdis_start (&self->webdis, threads, ids_path) == 0) {
        snprintf (self->webdis_url, sizeof self->webdis_url, "http://127.0.0.1:%d",
                  self->webdis.port);
        webdis->url = self->webdis_url;
        webdis->pids = self->webdis_pids;
        webdis->npids = peer_webdis_pids (&self->webdis, self->webdis_pids, 2);
        printf ("webdis+redis: webdis %s (%d HTTP thread%s, %d Redis connections each), "
                "redis-server 127.0.0.1:%d (--save '' --appendonly no), %d keys seeded\n",
                self->webdis_url, threads, threads == 1 ? "" : "s", WEBDIS_POOL_SIZE,
                self->webdis.redis.port, self->webdis.seeded);
    } else
        webdis->skip = self->webdis.skip;
    if (peer_nginx_start (&self->nginx, threads, floor_port, connections) == 0) {
        snprintf (self->nginx_url, sizeof self->nginx_url, "http://127.0.0.1:%d", self->nginx.port);
        nginx->url = self->nginx_url;
        nginx->pids = self->nginx_pids;
        nginx->npids = peer_nginx_pids (&self->nginx, self->nginx_pids, 1 + PEER_NGINX_MAX_WORKERS);
        printf ("nginx: %s (%d worker process%s) -> the floor, upstream keepalive %d\n",
                self->nginx_url, threads, threads == 1 ? "" : "es", connections);
    } else
        nginx->skip = self->nginx.skip;
    for (int s = CASES_WEBDIS; s <= CASES_NGINX; s++)
        for (int i = 0; i < cfg->sides[s].npids; i++)
            all_pids[cfg->npids++] = cfg->sides[s].pids[i];
    fflush (stdout);
}

void
peer_sides_stop (peer_sides_t *self)
{
    peer_nginx_stop (&self->nginx);
    peer_webdis_stop (&self->webdis);
}
