/*
 * zap — see zap.h.
 */
#include "zap.h"

#include "log.h"

#include <assert.h>
#include <czmq.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01" /* fixed by RFC 27 */
/* A request's frames: version, request id, domain, address, identity,
   mechanism (this one, counting from 1), then the credentials. */
#define S_ZAP_MECHANISM 6
#define S_REPORT_MS 1000

struct _zap_t {
    zsock_t *rep;
    zcertstore_t *certs;
    char own[CURVE_Z85_LEN + 1];
    char *dir;
    int64_t reported_ms; /* when a refusal was last logged */
    uint64_t unreported; /* refusals since, not logged */
};

zap_t *
zap_new (const char *clients_dir, const uint8_t own_key[CURVE_KEY_LEN])
{
    struct stat st;
    if (stat (clients_dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        log_error ("--curve-clients %s: not a directory (it holds the allowed clients' public "
                   "keys)",
                   clients_dir);
        return NULL;
    }
    zap_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    zmq_z85_encode (self->own, own_key, CURVE_KEY_LEN);
    self->reported_ms = -S_REPORT_MS;
    self->dir = strdup (clients_dir);
    self->certs = zcertstore_new (clients_dir);
    self->rep = zsock_new (ZMQ_REP);
    if (!self->dir || !self->certs || !self->rep || zsock_bind (self->rep, S_ZAP_ENDPOINT) != 0) {
        log_error ("cannot start the ZAP handler: %s", zmq_strerror (zmq_errno ()));
        zap_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->rep, 0);
    return self;
}

void
zap_destroy (zap_t **self_p)
{
    assert (self_p);
    zap_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->rep);
    zcertstore_destroy (&self->certs);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

void *
zap_socket (zap_t *self)
{
    assert (self);
    return zsock_resolve (self->rep);
}

size_t
zap_allowed (zap_t *self)
{
    assert (self);
    /* What zcertstore loads: every file not named *_secret that is a
       certificate (subdirectories aside). */
    size_t n = 0;
    DIR *dir = opendir (self->dir);
    struct dirent *e;
    while (dir && (e = readdir (dir))) {
        size_t len = strlen (e->d_name);
        if (e->d_name[0] == '.' || (len >= 7 && strcmp (e->d_name + len - 7, "_secret") == 0))
            continue;
        char path[4096], err[256];
        uint8_t key[CURVE_KEY_LEN];
        if (snprintf (path, sizeof path, "%s/%s", self->dir, e->d_name) < (int)sizeof path
            && curve_load_public (path, key, err, sizeof err) == 0)
            n++;
    }
    if (dir)
        closedir (dir);
    return n;
}

/* Whether the request's CURVE key is allowed; *who gets its Z85 text. */
static bool
s_allowed (zap_t *self, zmsg_t *request, char who[CURVE_Z85_LEN + 1])
{
    strcpy (who, "?");
    if (zmsg_size (request) < S_ZAP_MECHANISM + 1)
        return false;
    zframe_t *f = zmsg_first (request);
    for (int i = 1; i < S_ZAP_MECHANISM; i++)
        f = zmsg_next (request);
    if (!zframe_streq (f, "CURVE"))
        return false;
    zframe_t *key = zmsg_next (request);
    if (zframe_size (key) != CURVE_KEY_LEN)
        return false;
    zmq_z85_encode (who, zframe_data (key), CURVE_KEY_LEN);
    return strcmp (who, self->own) == 0 || zcertstore_lookup (self->certs, who) != NULL;
}

/* One line a second at most: a client retrying with a wrong key must not
   flood the log. */
static void
s_report (zap_t *self, zframe_t *address, const char *who)
{
    int64_t now = zclock_mono ();
    if (now - self->reported_ms < S_REPORT_MS) {
        self->unreported++;
        return;
    }
    char *peer = address ? zframe_strdup (address) : NULL;
    log_warn ("refused a client at %s: its key %s is not in --curve-clients (%llu more refused "
              "since the last report)",
              peer && *peer ? peer : "?", who, (unsigned long long)self->unreported);
    free (peer);
    self->reported_ms = now;
    self->unreported = 0;
}

uint64_t
zap_handle (zap_t *self)
{
    assert (self);
    uint64_t refused = 0;
    while (zsock_events (self->rep) & ZMQ_POLLIN) {
        zmsg_t *request = zmsg_recv (self->rep);
        if (!request)
            break;
        char who[CURVE_Z85_LEN + 1];
        bool ok = s_allowed (self, request, who);
        zmsg_first (request); /* version */
        zframe_t *id = zmsg_next (request);
        zmsg_next (request); /* domain */
        zframe_t *address = zmsg_next (request);
        zmsg_t *reply = zmsg_new ();
        zmsg_addstr (reply, "1.0");
        zmsg_addmem (reply, id ? zframe_data (id) : NULL, id ? zframe_size (id) : 0);
        zmsg_addstr (reply, ok ? "200" : "400");
        zmsg_addstr (reply, ok ? "OK" : "client key not allowed");
        zmsg_addstr (reply, ok ? who : "");
        zmsg_addstr (reply, "");
        if (!ok) {
            refused++;
            s_report (self, address, who);
        }
        zmsg_send (&reply, self->rep);
        zmsg_destroy (&request);
    }
    return refused;
}
