/*
 * durable_client — see durable_client.h.
 */
#include "durable_client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

int
dc_setup (void **state)
{
    static int n; /* data dirs numbered per program */
    fixture_t *self = calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "%.500s/data%d", harness_tmpdir (), ++n);
    snprintf (self->journal, sizeof self->journal, "%s/journal", self->dir);
    self->events = calloc (EVENTS_MAX, sizeof *self->events);
    *state = self;
    return 0;
}

void
dc_disconnect (fixture_t *self)
{
    proto_reply_clear (&self->reply);
    zframe_destroy (&self->frame);
    zsock_destroy (&self->dealer);
}

int
dc_teardown (void **state)
{
    fixture_t *self = *state;
    dc_disconnect (self);
    if (self->pid > 0 && harness_alive (self->pid))
        harness_stop (self->pid, SIGKILL, 5000);
    if (self->mounted[0] && umount2 (self->mounted, MNT_DETACH) != 0)
        fprintf (stderr, "cannot unmount %s: %s\n", self->mounted, strerror (errno));
    free (self->events);
    free (self);
    return 0;
}

/* Starts herald-store on self->dir (new ports each time) with extra
   arguments and environment (NULL-terminated, may be NULL). Returns the
   PID; the caller waits for readiness with dc_connect. */
pid_t
dc_spawn (fixture_t *self, const char *const *extra, const char *const *env)
{
    self->port = harness_free_port ();
    self->pub_port = harness_free_port ();
    char bind[64], pub[64];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", self->port);
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", self->pub_port);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", bind);
    const char *argv[24] = {
        harness_bin ("herald-store"), "--bind", bind, "--pub-bind", pub, "--data-dir", self->dir
    };
    size_t n = 7;
    for (size_t i = 0; extra && extra[i] && n < 23; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    snprintf (self->log, sizeof self->log, "%s/store-%s-%d.log", harness_tmpdir (),
              strrchr (self->dir, '/') + 1, ++self->starts);
    self->pid = harness_spawn (argv, env, self->log, self->log);
    return self->pid;
}

void
dc_connect (fixture_t *self)
{
    assert_int_equal (harness_wait_tcp (self->port, TIMEOUT_MS), 0);
    dc_disconnect (self);
    self->dealer = zsock_new (ZMQ_DEALER);
    assert_non_null (self->dealer);
    zsock_set_rcvtimeo (self->dealer, TIMEOUT_MS);
    zsock_set_sndhwm (self->dealer, 100000);
    assert_int_equal (zsock_connect (self->dealer, "%s", self->endpoint), 0);
}

void
dc_start (fixture_t *self, const char *const *extra)
{
    assert_true (dc_spawn (self, extra, NULL) > 0);
    dc_connect (self);
}

/* Waits for the store to exit by itself; returns its exit code. */
int
dc_wait_exit (fixture_t *self)
{
    int status = harness_stop (self->pid, 0, TIMEOUT_MS);
    self->pid = 0;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

void
dc_kill9 (fixture_t *self)
{
    harness_stop (self->pid, SIGKILL, TIMEOUT_MS);
    self->pid = 0;
}

void
dc_send (fixture_t *self, proto_request_t *req)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (proto_request_encode (req, &buf), 0);
    assert_int_equal (zmq_send (zsock_resolve (self->dealer), buf.data, buf.size, 0),
                      (int)buf.size);
    msgpack_sbuffer_destroy (&buf);
}

/* Receives one reply; NULL on timeout (when allowed). */
proto_reply_t *
dc_recv (fixture_t *self)
{
    proto_reply_clear (&self->reply);
    zframe_destroy (&self->frame);
    self->frame = zframe_recv (self->dealer);
    if (!self->frame)
        return NULL;
    proto_error_t err;
    assert_int_equal (proto_reply_decode (zframe_data (self->frame), zframe_size (self->frame),
                                          &self->reply, &err),
                      PROTO_DECODE_OK);
    return &self->reply;
}

proto_reply_t *
dc_call (fixture_t *self, proto_request_t *req)
{
    req->rid = ++self->rid;
    dc_send (self, req);
    proto_reply_t *reply = dc_recv (self);
    assert_non_null (reply);
    assert_int_equal (reply->rid, req->rid);
    return reply;
}

proto_reply_t *
dc_create (fixture_t *self, const char *user, const char *description)
{
    proto_request_t req = { .op = PROTO_OP_CREATE,
                            .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION };
    req.user_id = (proto_str_t){ user, strlen (user) };
    req.description = (proto_str_t){ description, strlen (description) };
    return dc_call (self, &req);
}

proto_reply_t *
dc_get (fixture_t *self, const uint8_t id[16])
{
    proto_request_t req = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    memcpy (req.event_id, id, 16);
    return dc_call (self, &req);
}

void
dc_status_text (int status, char *out, size_t size)
{
    if (status == 0)
        snprintf (out, size, "pending");
    else
        snprintf (out, size, "s%d", status);
}

/* Every acknowledged create is there, in its acknowledged state or the one
   of an update in flight at the kill (strict; else presence only). Returns
   how many are missing, marking them in missing (may be NULL). Strict
   checks settle the bookkeeping to what the store holds. */
size_t
dc_check_events (fixture_t *self, size_t upto, bool *missing, bool strict)
{
    size_t lost = 0;
    for (size_t i = 0; i < upto; i++) {
        tracked_t *e = &self->events[i];
        proto_reply_t *r = dc_get (self, e->id);
        if (r->status == PROTO_E_NOT_FOUND) {
            if (missing)
                missing[i] = true;
            lost++;
            continue;
        }
        assert_int_equal (r->status, PROTO_OK);
        if (!strict)
            continue;
        char acked[16], pending[16];
        dc_status_text (e->acked_status, acked, sizeof acked);
        dc_status_text (e->pending_status, pending, sizeof pending);
        char got[16];
        snprintf (got, sizeof got, "%.*s", (int)r->event.status.len, r->event.status.ptr);
        if (strcmp (got, acked) != 0 && !(e->pending_status && strcmp (got, pending) == 0))
            fail_msg ("event %zu: status %s, acknowledged %s, in flight %s", i, got, acked,
                      e->pending_status ? pending : "-");
        /* Settled: an update in flight at the kill either made it or not. */
        if (e->pending_status && strcmp (got, pending) == 0)
            e->acked_status = e->pending_status;
        e->pending_status = 0;
    }
    return lost;
}

void
dc_create_some (fixture_t *self, int n)
{
    for (int i = 0; i < n; i++) {
        char desc[32];
        snprintf (desc, sizeof desc, "event %d", i);
        proto_reply_t *r = dc_create (self, "u", desc);
        assert_int_equal (r->status, PROTO_OK);
        memcpy (self->events[self->n_events++].id, r->event.id, 16);
    }
}

off_t
dc_size (const char *path)
{
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    return st.st_size;
}

/* Mounts a tmpfs of size bytes (read-only when ro) on dir. 0, or -1 when
   this machine does not let the test mount (then the test is skipped). */
int
dc_mount (fixture_t *self, const char *dir, size_t size, bool ro)
{
    mkdir (dir, 0755);
    char opts[64];
    snprintf (opts, sizeof opts, "size=%zu", size);
    if (mount ("herald-test", dir, "tmpfs", ro ? MS_RDONLY : 0, opts) != 0) {
        printf ("# cannot mount a tmpfs on %s (%s): skipped\n", dir, strerror (errno));
        return -1;
    }
    snprintf (self->mounted, sizeof self->mounted, "%s", dir);
    return 0;
}
