/*
 * peer_webdis — see peer_webdis.h. Seeding speaks RESP over one TCP
 * connection in batches of S_SEED_BATCH SETs: write the batch, then read
 * exactly one "+OK\r\n" per SET (any other reply, or a short read within
 * S_SEED_TIMEOUT_S, fails the seeding). Batches bound what waits in the
 * socket buffers, so neither side blocks the other.
 */
#include "peer_webdis.h"

#include "event_json.h"
#include "harness.h"
#include "peer_bin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define S_START_MS 10000
#define S_STOP_MS 10000
#define S_SEED_BATCH 1000
#define S_SEED_TIMEOUT_S 10
#define S_ID_MAX 64    /* longer lines in the ids file are refused */
#define S_CMD_MAX 512  /* one SET command: the event and its id */
#define S_OK "+OK\r\n" /* Redis's reply to SET */

static int
s_write_all (int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads `count` replies and checks each is +OK. Returns 0 or -1. */
static int
s_read_oks (int fd, int count)
{
    char reply[sizeof S_OK - 1];
    for (int i = 0; i < count; i++) {
        size_t got = 0;
        while (got < sizeof reply) {
            ssize_t n = read (fd, reply + got, sizeof reply - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
            got += (size_t)n;
        }
        if (memcmp (reply, S_OK, sizeof reply) != 0)
            return -1;
    }
    return 0;
}

static int
s_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval timeout = { S_SEED_TIMEOUT_S, 0 };
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0
        || setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0
        || connect (fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

/* SET <id> <the event with that id> for every id in ids_path, straight to
   Redis. Returns the number of keys set, or -1. */
static int
s_seed (int port, const char *ids_path)
{
    FILE *ids = fopen (ids_path, "r");
    int fd = s_connect (port);
    static char batch[S_SEED_BATCH * S_CMD_MAX];
    size_t len = 0;
    int pending = 0, seeded = 0, rc = -1;
    char id[S_ID_MAX + 2];
    if (!ids || fd < 0)
        goto cleanup;
    while (true) {
        bool more = fgets (id, sizeof id, ids) != NULL;
        if (more) {
            size_t id_len = strcspn (id, "\r\n");
            if (id_len == 0)
                continue;
            if (id_len > S_ID_MAX)
                goto cleanup;
            id[id_len] = '\0';
            char value[S_CMD_MAX];
            int value_len = snprintf (value, sizeof value, EVENT_JSON ("%s"), id);
            int n = snprintf (batch + len, sizeof batch - len,
                              "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%d\r\n%s\r\n", id_len, id,
                              value_len, value);
            if (n < 0 || (size_t)n >= sizeof batch - len)
                goto cleanup;
            len += (size_t)n;
            pending++;
        }
        if (pending > 0 && (!more || pending == S_SEED_BATCH)) {
            if (s_write_all (fd, batch, len) != 0 || s_read_oks (fd, pending) != 0)
                goto cleanup;
            seeded += pending;
            pending = 0;
            len = 0;
        }
        if (!more)
            break;
    }
    rc = seeded;
cleanup:
    if (ids)
        fclose (ids);
    if (fd >= 0)
        close (fd);
    return rc;
}

/* webdis's config, into path. Returns 0 or -1. */
static int
s_write_config (const peer_webdis_t *self, const char *path, const char *log)
{
    FILE *file = fopen (path, "w");
    if (!file)
        return -1;
    /* verbosity 1: warnings and errors only, nothing per request. */
    fprintf (file,
             "{\n  \"redis_host\": \"127.0.0.1\",\n  \"redis_port\": %d,\n"
             "  \"http_host\": \"127.0.0.1\",\n  \"http_port\": %d,\n  \"threads\": %d,\n"
             "  \"pool_size\": %d,\n  \"daemonize\": false,\n  \"database\": 0,\n"
             "  \"verbosity\": 1,\n  \"logfile\": \"%s\"\n}\n",
             self->redis.port, self->port, self->threads, WEBDIS_POOL_SIZE, log);
    return fclose (file) == 0 ? 0 : -1;
}

/* Records and prints why the peer is skipped, and stops what runs. */
static int
s_skip (peer_webdis_t *self, const char *why)
{
    peer_webdis_stop (self);
    peer_bin_skip (self->skip, sizeof self->skip, "webdis+redis", why);
    return -1;
}

int
peer_webdis_start (peer_webdis_t *self, int threads, const char *ids_path)
{
    memset (self, 0, sizeof *self);
    self->threads = threads;
    char webdis[256], server[256], why[sizeof self->skip - 16];
    bool has_webdis = peer_bin_find ("webdis", webdis, sizeof webdis) == 0;
    bool has_redis = peer_bin_find ("redis-server", server, sizeof server) == 0;
    if (!has_webdis || !has_redis) {
        snprintf (why, sizeof why, "not installed (apt-get install%s%s)",
                  has_webdis ? "" : " webdis", has_redis ? "" : " redis-server");
        return s_skip (self, why);
    }
    if (redis_server_start (&self->redis, server, "webdis-redis-server") != 0)
        return s_skip (self, "redis-server did not start (see above)");
    if ((self->seeded = s_seed (self->redis.port, ids_path)) <= 0) {
        snprintf (why, sizeof why, "seeding redis-server on port %d from %s failed",
                  self->redis.port, ids_path);
        return s_skip (self, why);
    }
    char config[1024], log[1024], out[1024];
    snprintf (config, sizeof config, "%s/webdis.json", harness_tmpdir ());
    snprintf (log, sizeof log, "%s/webdis.log", harness_tmpdir ());
    snprintf (out, sizeof out, "%s/webdis.out", harness_tmpdir ());
    self->port = harness_free_port ();
    if (s_write_config (self, config, log) != 0)
        return s_skip (self, "cannot write its config in the scratch directory");
    const char *argv[] = { webdis, config, NULL };
    if ((self->pid = peer_bin_start (argv, out, self->port, S_START_MS)) == 0) {
        snprintf (why, sizeof why, "webdis did not start on port %d (see %s)", self->port, out);
        return s_skip (self, why);
    }
    return 0;
}

int
peer_webdis_pids (const peer_webdis_t *self, pid_t *pids, int max)
{
    int n = 0;
    if (self->pid > 0 && n < max)
        pids[n++] = self->pid;
    if (self->redis.pid > 0 && n < max)
        pids[n++] = self->redis.pid;
    return n;
}

void
peer_webdis_stop (peer_webdis_t *self)
{
    if (self->pid > 0)
        harness_stop (self->pid, SIGTERM, S_STOP_MS);
    self->pid = 0;
    redis_server_stop (&self->redis);
}
