/*
 * test_store_durable — the real herald-store binary with a data dir, over
 * real sockets, through the faults the journal exists for (issue 12):
 *   - kill -9 in the middle of a pipelined burst of creates, updates and
 *     feed acks, under fsync always and everysec: every change whose reply
 *     said ok is there after the restart, in its last acknowledged state
 *     (or a later one whose reply was in flight), the feed cursor no lower
 *     than acknowledged;
 *   - everysec's window: a power loss is simulated by cutting the journal
 *     back to the size the store last reported synced; what is lost is a
 *     suffix of what was acknowledged (never a hole), and its age is
 *     measured and printed;
 *   - a torn tail cut with a warning naming its offset; damage followed by
 *     valid records refusing start-up (file and offset named, nothing
 *     changed) and --journal-verify reporting it;
 *   - a kill at each step of a compaction, the store replaying correctly;
 *   - a full disk (a small tmpfs the test mounts): writes refused with the
 *     cause, reads served, writes resumed when space returns, nothing lost;
 *   - a data dir that cannot be written refusing start-up clearly.
 */
#include "harness.h"
#include "proto.h"

#include <czmq.h>
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

#define TIMEOUT_MS 10000
#define WINDOW 200 /* requests in flight in a burst */
#define EVENTS_MAX 400000

typedef struct {
    uint8_t id[16];
    int acked_status;   /* last status whose update was acknowledged (0 = "pending") */
    int pending_status; /* an update in flight, 0 none */
} tracked_t;

typedef struct {
    char dir[700];
    char journal[720];
    int port, pub_port;
    char endpoint[64];
    pid_t pid;
    int starts;
    char log[640];
    zsock_t *dealer;
    uint64_t rid;
    zframe_t *frame;
    proto_reply_t reply;
    /* burst bookkeeping */
    tracked_t *events;
    size_t n_events;
    char mounted[600];        /* a tmpfs to unmount at teardown, "" none */
    uint64_t unsynced_max_ms; /* the store's last journal_unsynced_max_ms seen in a burst */
    uint64_t acked_cursor;    /* highest feed_ack acknowledged */
    uint64_t max_change_seq;
} fixture_t;

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
s_setup (void **state)
{
    static int n;
    fixture_t *self = calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "%.500s/data%d", harness_tmpdir (), ++n);
    snprintf (self->journal, sizeof self->journal, "%s/journal", self->dir);
    self->events = calloc (EVENTS_MAX, sizeof *self->events);
    *state = self;
    return 0;
}

static void
s_disconnect (fixture_t *self)
{
    proto_reply_clear (&self->reply);
    zframe_destroy (&self->frame);
    zsock_destroy (&self->dealer);
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    s_disconnect (self);
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
   PID; the caller waits for readiness with s_connect. */
static pid_t
s_spawn (fixture_t *self, const char *const *extra, const char *const *env)
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

static void
s_connect (fixture_t *self)
{
    assert_int_equal (harness_wait_tcp (self->port, TIMEOUT_MS), 0);
    s_disconnect (self);
    self->dealer = zsock_new (ZMQ_DEALER);
    assert_non_null (self->dealer);
    zsock_set_rcvtimeo (self->dealer, TIMEOUT_MS);
    zsock_set_sndhwm (self->dealer, 100000);
    assert_int_equal (zsock_connect (self->dealer, "%s", self->endpoint), 0);
}

static void
s_start (fixture_t *self, const char *const *extra)
{
    assert_true (s_spawn (self, extra, NULL) > 0);
    s_connect (self);
}

/* Waits for the store to exit by itself; returns its exit code. */
static int
s_wait_exit (fixture_t *self)
{
    int status = harness_stop (self->pid, 0, TIMEOUT_MS);
    self->pid = 0;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
s_kill9 (fixture_t *self)
{
    harness_stop (self->pid, SIGKILL, TIMEOUT_MS);
    self->pid = 0;
}

static void
s_send (fixture_t *self, proto_request_t *req)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (proto_request_encode (req, &buf), 0);
    assert_int_equal (zmq_send (zsock_resolve (self->dealer), buf.data, buf.size, 0),
                      (int)buf.size);
    msgpack_sbuffer_destroy (&buf);
}

/* Receives one reply; NULL on timeout (when allowed). */
static proto_reply_t *
s_recv (fixture_t *self)
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

static proto_reply_t *
s_call (fixture_t *self, proto_request_t *req)
{
    req->rid = ++self->rid;
    s_send (self, req);
    proto_reply_t *reply = s_recv (self);
    assert_non_null (reply);
    assert_int_equal (reply->rid, req->rid);
    return reply;
}

static proto_reply_t *
s_create (fixture_t *self, const char *user, const char *description)
{
    proto_request_t req = { .op = PROTO_OP_CREATE,
                            .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION };
    req.user_id = (proto_str_t){ user, strlen (user) };
    req.description = (proto_str_t){ description, strlen (description) };
    return s_call (self, &req);
}

static proto_reply_t *
s_get (fixture_t *self, const uint8_t id[16])
{
    proto_request_t req = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    memcpy (req.event_id, id, 16);
    return s_call (self, &req);
}

/* ---- The burst ----------------------------------------------------------- */

/* What a request in flight was, by rid. */
typedef struct {
    uint64_t rid;
    proto_op_t op;
    size_t event; /* update: index into events */
    int status;   /* update: the status it sets */
    uint64_t seq; /* feed_ack */
} inflight_t;

static void
s_status_text (int status, char *out, size_t size)
{
    if (status == 0)
        snprintf (out, size, "pending");
    else
        snprintf (out, size, "s%d", status);
}

/* Handles one reply of the burst. */
static void
s_burst_reply (fixture_t *self, inflight_t *slots, proto_reply_t *r, int64_t *ack_times)
{
    inflight_t *f = &slots[r->rid % (WINDOW * 4)];
    assert_int_equal (f->rid, r->rid);
    assert_int_equal (r->status, PROTO_OK);
    if (f->op == PROTO_OP_CREATE) {
        assert_true (self->n_events < EVENTS_MAX);
        if (ack_times)
            ack_times[self->n_events] = s_now_ms ();
        memcpy (self->events[self->n_events++].id, r->event.id, 16);
        if (r->event.seq > self->max_change_seq)
            self->max_change_seq = r->event.seq;
    } else if (f->op == PROTO_OP_UPDATE) {
        tracked_t *e = &self->events[f->event];
        e->acked_status = f->status;
        e->pending_status = 0;
        if (r->event.seq > self->max_change_seq)
            self->max_change_seq = r->event.seq;
    } else if (f->op == PROTO_OP_FEED_ACK) {
        if (r->acked > self->acked_cursor)
            self->acked_cursor = r->acked;
    }
    f->rid = 0;
}

/* Pipelines creates, updates of acknowledged events (one in flight per
   event) and feed acks, WINDOW in flight, until `creates` creates were
   acknowledged; then SIGKILLs the store with requests still in flight.
   ack_times (may be NULL) gets each create's acknowledgement time. On
   every `stats_every`th reply (0 never) a stats request is sent too and
   *synced gets the highest journal_synced_bytes seen, *synced_at its time;
   the burst then also goes on until the synced size grew `syncs` times and
   for `creates` more acknowledged creates after that, so the kill finds
   synced and unsynced records both. */
static void
s_burst_then_kill (fixture_t *self, size_t creates, int64_t *ack_times, int stats_every,
                   uint64_t *synced, int64_t *synced_at, int syncs)
{
    int grew = 0;
    inflight_t *slots = calloc (WINDOW * 4, sizeof *slots);
    size_t in_flight = 0, replies = 0;
    uint64_t stats_rid = 0;
    unsigned seed = 12345;
    size_t target = self->n_events + creates;
    while (self->n_events < target || grew < syncs) {
        assert_true (self->n_events < EVENTS_MAX - WINDOW); /* bounded */
        if (grew < syncs)
            target = self->n_events + creates;
        while (in_flight < WINDOW) {
            proto_request_t req = { .rid = ++self->rid };
            inflight_t *f = &slots[req.rid % (WINDOW * 4)];
            assert_int_equal (f->rid, 0);
            *f = (inflight_t){ .rid = req.rid };
            unsigned dice = (unsigned)rand_r (&seed) % 10;
            size_t pick = self->n_events ? (size_t)rand_r (&seed) % self->n_events : 0;
            char status[16], desc[48]; /* encoded by s_send below: same scope */
            if (dice < 3 && self->n_events && self->events[pick].pending_status == 0) {
                tracked_t *e = &self->events[pick];
                req.op = PROTO_OP_UPDATE;
                req.has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS;
                memcpy (req.event_id, e->id, 16);
                e->pending_status = e->acked_status + 1;
                s_status_text (e->pending_status, status, sizeof status);
                req.status = (proto_str_t){ status, strlen (status) };
                f->event = pick;
                f->status = e->pending_status;
            } else if (dice == 3 && self->max_change_seq > 0) {
                req.op = PROTO_OP_FEED_ACK;
                req.has = PROTO_HAS_SEQ;
                req.seq = self->max_change_seq - self->max_change_seq / 8;
            } else {
                snprintf (desc, sizeof desc, "burst event %llu", (unsigned long long)req.rid);
                req.op = PROTO_OP_CREATE;
                req.has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION;
                req.user_id = PROTO_STR ("burst-user");
                req.description = (proto_str_t){ desc, strlen (desc) };
            }
            f->op = req.op;
            s_send (self, &req);
            in_flight++;
        }
        proto_reply_t *r = s_recv (self);
        assert_non_null (r);
        if (r->rid == stats_rid) {
            for (size_t i = 0; i < r->n_stats; i++) {
                if (r->stats[i].name.len == 23
                    && memcmp (r->stats[i].name.ptr, "journal_unsynced_max_ms", 23) == 0)
                    self->unsynced_max_ms = r->stats[i].value;
                if (r->stats[i].name.len == 20
                    && memcmp (r->stats[i].name.ptr, "journal_synced_bytes", 20) == 0
                    && r->stats[i].value > *synced) {
                    *synced = r->stats[i].value;
                    grew++;
                    *synced_at = s_now_ms ();
                }
            }
            stats_rid = 0;
            continue;
        }
        s_burst_reply (self, slots, r, ack_times);
        in_flight--;
        if (stats_every && ++replies % (size_t)stats_every == 0 && stats_rid == 0) {
            proto_request_t req = { .op = PROTO_OP_STATS, .rid = ++self->rid };
            stats_rid = req.rid;
            s_send (self, &req);
        }
    }
    assert_true (in_flight > 0); /* killed mid-burst, requests unanswered */
    s_kill9 (self);
    s_disconnect (self);
    free (slots);
}

/* Every acknowledged create is there, in its acknowledged state or the one
   of an update in flight at the kill (strict; else presence only). Returns
   how many are missing, marking them in missing (may be NULL). Strict
   checks settle the bookkeeping to what the store holds. */
static size_t
s_check_events (fixture_t *self, size_t upto, bool *missing, bool strict)
{
    size_t lost = 0;
    for (size_t i = 0; i < upto; i++) {
        tracked_t *e = &self->events[i];
        proto_reply_t *r = s_get (self, e->id);
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
        s_status_text (e->acked_status, acked, sizeof acked);
        s_status_text (e->pending_status, pending, sizeof pending);
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

static void
s_kill9_burst (fixture_t *self, const char *fsync)
{
    const char *extra[] = { "--fsync", fsync, NULL };
    s_start (self, extra);
    s_burst_then_kill (self, 3000, NULL, 0, NULL, NULL, 0);
    s_start (self, extra);
    assert_int_equal (s_check_events (self, self->n_events, NULL, true), 0);
    proto_request_t read = { .op = PROTO_OP_FEED_READ, .has = PROTO_HAS_MAX, .max = 1 };
    proto_reply_t *r = s_call (self, &read);
    assert_true (r->acked >= self->acked_cursor);
    assert_true (r->head >= self->max_change_seq);
    printf ("# fsync %s: %zu acknowledged creates, all back after kill -9; cursor %llu >= %llu, "
            "head %llu >= %llu\n",
            fsync, self->n_events, (unsigned long long)r->acked,
            (unsigned long long)self->acked_cursor, (unsigned long long)r->head,
            (unsigned long long)self->max_change_seq);
    /* Writes go on from the next sequence number. */
    r = s_create (self, "after", "restart");
    assert_int_equal (r->status, PROTO_OK);
    assert_true (r->event.seq > self->max_change_seq);
}

static void
test_kill9_mid_burst_always_loses_no_acknowledged_change (void **state)
{
    s_kill9_burst (*state, "always");
}

static void
test_kill9_mid_burst_everysec_loses_nothing_written (void **state)
{
    /* A process crash keeps what write() handed the kernel, synced or not. */
    s_kill9_burst (*state, "everysec");
}

static void
test_everysec_power_loss_loses_a_suffix_within_the_window (void **state)
{
    fixture_t *self = *state;
    const char *extra[] = { "--fsync", "everysec", "--feed-max", "10000000", NULL };
    s_start (self, extra);
    int64_t *ack_times = calloc (EVENTS_MAX, sizeof *ack_times);
    uint64_t synced = 0;
    int64_t synced_at = 0;
    s_burst_then_kill (self, 2000, ack_times, 50, &synced, &synced_at, 2);
    int64_t killed_at = s_now_ms ();
    assert_true (synced > 0); /* the sync thread ran during the burst */
    /* The power loss: what was not known synced is gone. */
    assert_int_equal (truncate (self->journal, (off_t)synced), 0);
    s_start (self, extra);
    bool *missing = calloc (EVENTS_MAX, sizeof *missing);
    /* A power loss may also take acknowledged updates: presence only. */
    size_t lost = s_check_events (self, self->n_events, missing, false);
    /* A log loses a suffix: nothing acknowledged before a survivor is gone. */
    size_t first_lost = self->n_events;
    for (size_t i = 0; i < self->n_events; i++)
        if (missing[i] && first_lost == self->n_events)
            first_lost = i;
    for (size_t i = first_lost; i < self->n_events; i++)
        assert_true (missing[i]);
    int64_t window = lost ? killed_at - ack_times[first_lost] : 0;
    printf ("# everysec power loss: %zu of %zu acknowledged creates lost, the oldest "
            "acknowledged %lld ms before the loss (last sync seen %lld ms before it); the "
            "store's longest wait of written data for its sync: %llu ms\n",
            lost, self->n_events, (long long)window, (long long)(killed_at - synced_at),
            (unsigned long long)self->unsynced_max_ms);
    free (missing);
    free (ack_times);
}

/* ---- Damaged journals ---------------------------------------------------- */

static void
s_create_some (fixture_t *self, int n)
{
    for (int i = 0; i < n; i++) {
        char desc[32];
        snprintf (desc, sizeof desc, "event %d", i);
        proto_reply_t *r = s_create (self, "u", desc);
        assert_int_equal (r->status, PROTO_OK);
        memcpy (self->events[self->n_events++].id, r->event.id, 16);
    }
}

static off_t
s_size (const char *path)
{
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    return st.st_size;
}

static void
test_torn_tail_is_cut_with_a_warning_naming_the_offset (void **state)
{
    fixture_t *self = *state;
    s_start (self, NULL);
    s_create_some (self, 20);
    assert_int_equal (harness_stop (self->pid, SIGTERM, TIMEOUT_MS), 0);
    off_t good = s_size (self->journal);
    /* A crash mid-write: half of a record's header. */
    int fd = open (self->journal, O_WRONLY | O_APPEND);
    assert_int_equal (write (fd, "\x12\x34\x56\x78\x40\x00\x00", 7), 7);
    close (fd);
    s_start (self, NULL);
    assert_int_equal (s_check_events (self, self->n_events, NULL, true), 0);
    char needle[96];
    snprintf (needle, sizeof needle, "torn record at offset %lld (7 bytes", (long long)good);
    assert_int_equal (harness_count_lines (self->log, needle), 1);
    assert_int_equal (s_size (self->journal), good);
}

static void
test_damage_before_valid_records_refuses_start_naming_file_and_offset (void **state)
{
    fixture_t *self = *state;
    s_start (self, NULL);
    s_create_some (self, 20);
    assert_int_equal (harness_stop (self->pid, SIGTERM, TIMEOUT_MS), 0);
    off_t size = s_size (self->journal);
    int fd = open (self->journal, O_RDWR);
    off_t at = size / 2;
    uint8_t byte;
    assert_int_equal (pread (fd, &byte, 1, at), 1);
    byte ^= 0xff;
    assert_int_equal (pwrite (fd, &byte, 1, at), 1);
    close (fd);

    assert_true (s_spawn (self, NULL, NULL) > 0);
    assert_int_equal (s_wait_exit (self), 1);
    assert_true (harness_count_lines (self->log, self->journal) >= 1);
    assert_int_equal (harness_count_lines (self->log, "is corrupt at offset"), 1);
    assert_int_equal (harness_count_lines (self->log, "truncate -s"), 1);
    assert_int_equal (s_size (self->journal), size); /* nothing changed */

    const char *verify[] = { "--journal-verify", NULL };
    assert_true (s_spawn (self, verify, NULL) > 0);
    assert_int_equal (s_wait_exit (self), 1);
    assert_int_equal (harness_count_lines (self->log, "ERROR: "), 1);
    assert_int_equal (harness_count_lines (self->log, "is corrupt at offset"), 1);
}

/* ---- Compaction ---------------------------------------------------------- */

static void
s_crash_during_compaction (fixture_t *self, const char *step)
{
    char env[64];
    snprintf (env, sizeof env, "HERALD_STORE_CRASH_AT=%s", step);
    const char *envs[] = { env, NULL };
    const char *extra[] = { "--compact-min-bytes", "4096", NULL };
    assert_true (s_spawn (self, extra, envs) > 0);
    s_connect (self);
    /* Updates grow the journal past twice the live data: the tick compacts,
       and the store kills itself at `step` (at once, when the journal the
       last step left is already over the bound). */
    if (self->n_events == 0)
        s_create_some (self, 20);
    int rounds = 0;
    while (harness_alive (self->pid) && rounds < 3000) {
        tracked_t *e = &self->events[rounds % self->n_events];
        proto_request_t req = { .op = PROTO_OP_UPDATE,
                                .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS,
                                .rid = ++self->rid };
        memcpy (req.event_id, e->id, 16);
        char status[16];
        e->pending_status = e->acked_status + 1;
        s_status_text (e->pending_status, status, sizeof status);
        req.status = (proto_str_t){ status, strlen (status) };
        s_send (self, &req);
        zsock_set_rcvtimeo (self->dealer, 1500);
        proto_reply_t *r = s_recv (self);
        if (!r)
            continue; /* died: the loop ends on harness_alive */
        assert_int_equal (r->status, PROTO_OK);
        e->acked_status = e->pending_status;
        e->pending_status = 0;
        rounds++;
    }
    assert_false (harness_alive (self->pid));
    self->pid = 0;
    char needle[80];
    snprintf (needle, sizeof needle, "HERALD_STORE_CRASH_AT=%s", step);
    assert_int_equal (harness_count_lines (self->log, needle), 1);
    /* The next start replays whichever journal the crash left. */
    s_start (self, NULL);
    assert_int_equal (s_check_events (self, self->n_events, NULL, true), 0);
    s_kill9 (self);
    s_disconnect (self);
    const char *verify[] = { "--journal-verify", NULL };
    assert_true (s_spawn (self, verify, NULL) > 0);
    assert_int_equal (s_wait_exit (self), 0);
}

static void
test_kill_at_each_compaction_step_replays_correctly (void **state)
{
    fixture_t *self = *state;
    const char *steps[] = { "rewrite-forked", "rewrite-copied", "rewrite-renamed", "rewrite-done" };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        s_crash_during_compaction (self, steps[i]);
        printf ("# killed at %s: %zu events back, journal verified\n", steps[i], self->n_events);
    }
}

/* ---- Disks that refuse -------------------------------------------------- */

/* Mounts a tmpfs of size bytes (read-only when ro) on dir. 0, or -1 when
   this machine does not let the test mount (then the test is skipped). */
static int
s_mount (fixture_t *self, const char *dir, size_t size, bool ro)
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

static void
test_disk_full_refuses_writes_serves_reads_and_resumes (void **state)
{
    fixture_t *self = *state;
    char mnt[600];
    snprintf (mnt, sizeof mnt, "%.580s.mnt", self->dir);
    if (s_mount (self, mnt, 1 << 20, false) != 0) {
        skip ();
        return;
    }
    snprintf (self->dir, sizeof self->dir, "%s/data", mnt);
    snprintf (self->journal, sizeof self->journal, "%s/journal", self->dir);
    /* Most of the space taken by a file the test frees later. */
    char filler[700];
    snprintf (filler, sizeof filler, "%s/filler", mnt);
    int fd = open (filler, O_WRONLY | O_CREAT, 0644);
    static char block[4096];
    for (int i = 0; i < 200; i++)
        assert_int_equal (write (fd, block, sizeof block), (ssize_t)sizeof block);
    close (fd);

    s_start (self, NULL);
    /* Creates until one is not answered: its batch could not be written,
       so its reply waits for the disk (the client would time out). */
    size_t ok = 0;
    uint64_t held_rid = 0;
    zsock_set_rcvtimeo (self->dealer, 3000);
    for (int i = 0; i < 50000 && !held_rid; i++) {
        proto_request_t req = { .op = PROTO_OP_CREATE,
                                .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                                .rid = ++self->rid,
                                .user_id = PROTO_STR ("u"),
                                .description = PROTO_STR ("filling the disk, bit by bit") };
        s_send (self, &req);
        proto_reply_t *r = s_recv (self);
        if (!r) {
            held_rid = req.rid;
            break;
        }
        assert_int_equal (r->status, PROTO_OK);
        memcpy (self->events[self->n_events++].id, r->event.id, 16);
        ok++;
    }
    assert_true (held_rid != 0);
    /* Later writes are refused at once, naming the cause. */
    proto_reply_t *r = s_create (self, "u", "refused");
    assert_int_equal (r->status, PROTO_E_INTERNAL);
    assert_non_null (strstr (r->message.ptr, "No space left on device"));
    printf ("# disk full after %zu creates: \"%.*s\"\n", ok, (int)r->message.len, r->message.ptr);
    /* Reads keep working. */
    assert_int_equal (s_get (self, self->events[0].id)->status, PROTO_OK);
    /* Space returns: the store's tick writes the waiting batch, its reply
       goes out, and writes resume by themselves. */
    assert_int_equal (unlink (filler), 0);
    zsock_set_rcvtimeo (self->dealer, TIMEOUT_MS);
    r = s_recv (self);
    assert_non_null (r);
    assert_int_equal (r->rid, held_rid);
    assert_int_equal (r->status, PROTO_OK);
    memcpy (self->events[self->n_events++].id, r->event.id, 16);
    r = s_create (self, "u", "space is back");
    assert_int_equal (r->status, PROTO_OK);
    memcpy (self->events[self->n_events++].id, r->event.id, 16);
    s_kill9 (self);
    s_start (self, NULL);
    assert_int_equal (s_check_events (self, self->n_events, NULL, true), 0);
    harness_stop (self->pid, SIGKILL, TIMEOUT_MS);
    self->pid = 0;
    s_disconnect (self);
    assert_int_equal (umount2 (mnt, MNT_DETACH), 0);
    self->mounted[0] = '\0';
}

static void
test_unwritable_data_dir_refuses_start_clearly (void **state)
{
    fixture_t *self = *state;
    char mnt[600];
    snprintf (mnt, sizeof mnt, "%.580s.ro", self->dir);
    if (s_mount (self, mnt, 1 << 20, true) != 0) {
        skip ();
        return;
    }
    snprintf (self->dir, sizeof self->dir, "%s", mnt);
    assert_true (s_spawn (self, NULL, NULL) > 0);
    assert_int_equal (s_wait_exit (self), 1);
    char needle[700];
    snprintf (needle, sizeof needle, "data dir %s cannot be written: Read-only file system", mnt);
    assert_int_equal (harness_count_lines (self->log, needle), 1);
    assert_int_equal (umount2 (mnt, MNT_DETACH), 0);
    self->mounted[0] = '\0';
}

static void
test_without_a_data_dir_the_store_warns_it_is_memory_only (void **state)
{
    fixture_t *self = *state;
    self->port = harness_free_port ();
    self->pub_port = harness_free_port ();
    char bind[64], pub[64];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", self->port);
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", self->pub_port);
    const char *argv[] = { harness_bin ("herald-store"), "--bind", bind, "--pub-bind", pub, NULL };
    snprintf (self->log, sizeof self->log, "%s/store-memory.log", harness_tmpdir ());
    self->pid = harness_spawn (argv, NULL, NULL, self->log);
    assert_int_equal (harness_wait_tcp (self->port, TIMEOUT_MS), 0);
    assert_int_equal (harness_count_lines (self->log, "WARN"), 1);
    assert_int_equal (harness_count_lines (self->log, "a restart loses every event"), 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_kill9_mid_burst_always_loses_no_acknowledged_change,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_kill9_mid_burst_everysec_loses_nothing_written,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_everysec_power_loss_loses_a_suffix_within_the_window,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_torn_tail_is_cut_with_a_warning_naming_the_offset,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_damage_before_valid_records_refuses_start_naming_file_and_offset, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (test_kill_at_each_compaction_step_replays_correctly,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_disk_full_refuses_writes_serves_reads_and_resumes,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unwritable_data_dir_refuses_start_clearly, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_without_a_data_dir_the_store_warns_it_is_memory_only,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
