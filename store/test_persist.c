/*
 * test_persist — the store's durability through its real request path
 * (dispatch_frame) without sockets: a reopened data dir gives back exactly
 * the events, sequence numbers, feed tail and cursor; compaction keeps the
 * state and shrinks the file; a journal that cannot be written refuses
 * writes with the cause while reads go on, and writes resume once it can;
 * the feed hands out nothing the journal has not written; a restart with a
 * smaller feed bound loses nothing; a journal written before created_us
 * replays; a change the journal cannot buffer (out of memory) is held back,
 * with everything after it, until a compaction has recorded it; so are
 * writes after a failed everysec fdatasync; a compaction that cannot start
 * is not tried again at every tick.
 */
#include "dispatch.h"
#include "persist.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    char dir[64];
    dispatch_t *dispatch;
    persist_t *persist;
    msgpack_sbuffer request, out;
    proto_reply_t reply;
    uint64_t rid;
} fixture_t;

static void
s_open_policy (fixture_t *self, size_t feed_max, uint64_t compact_min, journal_fsync_t policy)
{
    proto_limits_t limits = proto_limits_default ();
    self->dispatch = dispatch_new (feed_max, &limits);
    assert_non_null (self->dispatch);
    persist_config_t config = { self->dir, policy, 2, compact_min };
    self->persist = persist_open (self->dispatch, &config);
    assert_non_null (self->persist);
}

static void
s_open (fixture_t *self, size_t feed_max, uint64_t compact_min)
{
    s_open_policy (self, feed_max, compact_min, JOURNAL_FSYNC_ALWAYS);
}

static void
s_close (fixture_t *self)
{
    persist_destroy (&self->persist);
    dispatch_destroy (&self->dispatch);
}

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/test_persist.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    msgpack_sbuffer_init (&self->request);
    msgpack_sbuffer_init (&self->out);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    proto_reply_clear (&self->reply);
    s_close (self);
    msgpack_sbuffer_destroy (&self->request);
    msgpack_sbuffer_destroy (&self->out);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", self->dir);
    assert_int_equal (system (cmd), 0);
    free (self);
    return 0;
}

static proto_reply_t *
s_call (fixture_t *self, proto_request_t *req)
{
    req->rid = ++self->rid;
    msgpack_sbuffer_clear (&self->request);
    assert_int_equal (proto_request_encode (req, &self->request), 0);
    proto_reply_clear (&self->reply);
    dispatch_frame (self->dispatch, self->request.data, self->request.size, &self->out);
    proto_error_t err;
    assert_int_equal (proto_reply_decode (self->out.data, self->out.size, &self->reply, &err),
                      PROTO_DECODE_OK);
    return &self->reply;
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
s_update_status (fixture_t *self, const uint8_t id[16], const char *status)
{
    proto_request_t req = { .op = PROTO_OP_UPDATE, .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS };
    memcpy (req.event_id, id, 16);
    req.status = (proto_str_t){ status, strlen (status) };
    return s_call (self, &req);
}

static proto_reply_t *
s_ack (fixture_t *self, uint64_t seq)
{
    proto_request_t req = { .op = PROTO_OP_FEED_ACK, .has = PROTO_HAS_SEQ, .seq = seq };
    return s_call (self, &req);
}

/* The whole state as text: every event's fields and the feed. */
static char *
s_dump (fixture_t *self)
{
    event_table_t *table = dispatch_table (self->dispatch);
    feed_t *feed = dispatch_feed (self->dispatch);
    size_t cap = 4 << 20, len = 0;
    char *text = malloc (cap);
    len += (size_t)snprintf (text + len, cap - len, "feed %llu %llu\n",
                             (unsigned long long)feed_acked (feed),
                             (unsigned long long)feed_head (feed));
    for (uint32_t i = 0; i < event_table_size (table); i++) {
        proto_event_t ev;
        event_table_view (table, i, &ev);
        char id[PROTO_UUID_LEN + 1];
        proto_uuid_format (ev.id, id);
        len += (size_t)snprintf (
            text + len, cap - len, "%s %.*s %.*s %.*s %lld.%03u %lld %llu [%.*s]\n", id,
            (int)ev.user_id.len, ev.user_id.ptr, (int)ev.description.len, ev.description.ptr,
            (int)ev.status.len, ev.status.ptr, (long long)ev.created_at, ev.created_us,
            (long long)ev.updated_at, (unsigned long long)ev.seq, (int)ev.request_id.len,
            ev.request_id.ptr ? ev.request_id.ptr : "");
        assert_true (len < cap - 512);
    }
    feed_record_t rec[64];
    size_t n;
    for (uint64_t from = feed_acked (feed) + 1; (n = feed_read (feed, from, 64, rec)) > 0;
         from += n)
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf (text + len, cap - len, "rec %llu %d %u\n",
                                     (unsigned long long)rec[i].seq, rec[i].kind, rec[i].ref);
    return text;
}

/* How many events have a non-zero created_us: one in a thousand made by
   the store has 0, so most of a history's do not. */
static size_t
s_with_created_us (fixture_t *self)
{
    event_table_t *table = dispatch_table (self->dispatch);
    size_t n = 0;
    for (uint32_t i = 0; i < event_table_size (table); i++) {
        proto_event_t ev;
        event_table_view (table, i, &ev);
        n += ev.created_us != 0;
    }
    return n;
}

/* Some history: creates, updates (one user_id change), acks. */
static void
s_history (fixture_t *self, int events)
{
    uint8_t ids[200][16];
    assert_true (events <= 200);
    for (int i = 0; i < events; i++) {
        char user[16], desc[32];
        snprintf (user, sizeof user, "u%d", i % 7);
        snprintf (desc, sizeof desc, "event number %d", i);
        proto_reply_t *r = s_create (self, user, desc);
        assert_int_equal (r->status, PROTO_OK);
        memcpy (ids[i], r->event.id, 16);
    }
    for (int i = 0; i < events; i += 3)
        assert_int_equal (s_update_status (self, ids[i], "processed")->status, PROTO_OK);
    proto_request_t req = { .op = PROTO_OP_UPDATE,
                            .has = PROTO_HAS_EVENT_ID | PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION };
    memcpy (req.event_id, ids[1], 16);
    req.user_id = PROTO_STR ("moved-user");
    req.description = PROTO_STR ("a longer description than before, \xe2\x9c\x93");
    assert_int_equal (s_call (self, &req)->status, PROTO_OK);
    /* request ids (X-Request-Id) on a create and on updates come back too */
    proto_request_t create = { .op = PROTO_OP_CREATE,
                               .has =
                                   PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION | PROTO_HAS_REQUEST_ID,
                               .user_id = PROTO_STR ("u-rid"),
                               .description = PROTO_STR ("traced"),
                               .request_id = PROTO_STR ("req-create-1") };
    proto_reply_t *r = s_call (self, &create);
    assert_int_equal (r->status, PROTO_OK);
    memcpy (req.event_id, r->event.id, 16);
    req.has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS | PROTO_HAS_REQUEST_ID;
    req.status = PROTO_STR ("processed");
    req.request_id = PROTO_STR ("req-update-22");
    assert_int_equal (s_call (self, &req)->status, PROTO_OK);
    memcpy (req.event_id, ids[2], 16);
    req.request_id = PROTO_STR ("req-3");
    assert_int_equal (s_call (self, &req)->status, PROTO_OK);
    assert_int_equal (s_ack (self, (uint64_t)events / 2)->status, PROTO_OK);
}

/* Closes the data dir and opens it again: the state must come back exactly.
   Returns the state's dump (caller frees). */
static char *
s_reopen_same (fixture_t *self, size_t feed_max)
{
    char *before = s_dump (self);
    s_close (self);
    s_open (self, feed_max, 1 << 30);
    char *after = s_dump (self);
    assert_string_equal (before, after);
    free (before);
    return after;
}

static void
test_reopen_restores_events_feed_and_cursor_exactly (void **state)
{
    fixture_t *self = *state;
    s_open (self, 1000, 1 << 30);
    s_history (self, 50);
    assert_int_equal (persist_commit (self->persist), 0);
    uint8_t id[16];
    memcpy (id, persist_store_id (self->persist), 16);
    char *after = s_reopen_same (self, 1000);
    assert_true (s_with_created_us (self) > 40); /* the microseconds came back too */
    assert_non_null (strstr (after, " [req-update-22]\n"));
    assert_non_null (strstr (after, " [req-3]\n"));
    assert_memory_equal (persist_store_id (self->persist), id, 16);
    /* ... and the replies say so: the same store_id as before. */
    proto_request_t ping = { .op = PROTO_OP_PING };
    proto_reply_t *pong = s_call (self, &ping);
    assert_true (pong->has_store_id);
    assert_memory_equal (pong->store_id, id, 16);
    /* Writes go on from the next seq. */
    proto_reply_t *r = s_create (self, "u", "after restart");
    assert_int_equal (r->status, PROTO_OK);
    assert_int_equal (r->event.seq, feed_head (dispatch_feed (self->dispatch)));
    free (after);
}

static void
test_a_new_data_dir_gets_a_new_store_id (void **state)
{
    fixture_t *self = *state;
    s_open (self, 1000, 1 << 30);
    uint8_t first[16];
    memcpy (first, persist_store_id (self->persist), 16);
    s_close (self);
    char path[96];
    snprintf (path, sizeof path, "%s/journal", self->dir);
    assert_int_equal (unlink (path), 0);
    s_open (self, 1000, 1 << 30);
    assert_memory_not_equal (persist_store_id (self->persist), first, 16);
    assert_memory_equal (dispatch_store_id (self->dispatch), persist_store_id (self->persist), 16);
}

static off_t
s_journal_size (fixture_t *self)
{
    char path[96];
    snprintf (path, sizeof path, "%s/journal", self->dir);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    return st.st_size;
}

static uint64_t
s_stat (fixture_t *self, const char *name)
{
    proto_request_t req = { .op = PROTO_OP_STATS };
    proto_reply_t *r = s_call (self, &req);
    for (size_t i = 0; i < r->n_stats; i++)
        if (r->stats[i].name.len == strlen (name)
            && memcmp (r->stats[i].name.ptr, name, r->stats[i].name.len) == 0)
            return r->stats[i].value;
    fail_msg ("no stat %s", name);
    return 0;
}

static void
test_compaction_keeps_the_state_and_shrinks_the_journal (void **state)
{
    fixture_t *self = *state;
    s_open (self, 100000, 4096);
    s_history (self, 40);
    /* Many updates of the same events: the journal outgrows the live data. */
    proto_request_t list = { .op = PROTO_OP_LIST, .has = PROTO_HAS_LIMIT, .limit = 5 };
    proto_reply_t *r = s_call (self, &list);
    uint8_t ids[5][16];
    for (int i = 0; i < 5; i++)
        memcpy (ids[i], r->items[i].id, 16);
    for (int round = 0; round < 200; round++)
        assert_int_equal (s_update_status (self, ids[round % 5], round % 2 ? "a" : "b")->status,
                          PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    uint64_t grown = s_stat (self, "journal_bytes"); /* the file has zeros ahead too */
    /* The tick starts the child; later ticks switch once it is done. */
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    for (int i = 0; i < 500 && s_stat (self, "journal_rewrites") == 0; i++) {
        assert_int_equal (persist_tick (self->persist), 0);
        if (i == 0) /* written while the child runs: must be copied over */
            assert_int_equal (s_create (self, "late", "during compaction")->status, PROTO_OK);
        nanosleep (&pause, NULL);
    }
    assert_int_equal (s_stat (self, "journal_rewrites"), 1);
    uint64_t compacted = s_stat (self, "journal_bytes");
    assert_true (compacted < grown / 2);
    assert_int_equal (s_create (self, "after", "compaction")->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    char *after = s_reopen_same (self, 100000);
    assert_true (s_with_created_us (self) > 30); /* the snapshot kept the microseconds */
    free (after);
}

/* Appends payload (then cleared) to file as a journal record of seq. */
static void
s_put_record (FILE *file, uint64_t seq, msgpack_sbuffer *payload)
{
    uint8_t header[JOURNAL_FRAME_HEADER];
    journal_frame_header (header, seq, payload->data, payload->size);
    assert_int_equal (fwrite (header, 1, sizeof header, file), sizeof header);
    assert_int_equal (fwrite (payload->data, 1, payload->size, file), payload->size);
    msgpack_sbuffer_clear (payload);
}

static void
s_pack_text (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str_with_body (pk, text, strlen (text));
}

#define S_OLD_ID "0f1e2d3c-4b5a-4968-8776-655443322110"

/* A created / updated record as stores wrote them before created_us: the
   event map has the seven members only. */
static void
s_old_event_record (msgpack_packer *pk, const char *type, const char *status, int64_t updated_at,
                    uint64_t seq)
{
    msgpack_pack_map (pk, 3);
    s_pack_text (pk, "v");
    msgpack_pack_uint8 (pk, 1);
    s_pack_text (pk, "type");
    s_pack_text (pk, type);
    s_pack_text (pk, "event");
    msgpack_pack_map (pk, 7);
    s_pack_text (pk, "event_id");
    s_pack_text (pk, S_OLD_ID);
    s_pack_text (pk, "user_id");
    s_pack_text (pk, "u-old");
    s_pack_text (pk, "description");
    s_pack_text (pk, "from an older store");
    s_pack_text (pk, "status");
    s_pack_text (pk, status);
    s_pack_text (pk, "created_at");
    msgpack_pack_int64 (pk, 1700000000123);
    s_pack_text (pk, "updated_at");
    msgpack_pack_int64 (pk, updated_at);
    s_pack_text (pk, "seq");
    msgpack_pack_uint64 (pk, seq);
}

/* A journal written before created_us (no such key in its events) replays:
   its events read 0, and the store goes on after them. */
static void
test_a_journal_written_before_created_us_replays (void **state)
{
    fixture_t *self = *state;
    char path[96];
    snprintf (path, sizeof path, "%s/journal", self->dir);
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    msgpack_sbuffer payload;
    msgpack_sbuffer_init (&payload);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &payload, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 4);
    s_pack_text (&pk, "v");
    msgpack_pack_uint8 (&pk, 1);
    s_pack_text (&pk, "type");
    s_pack_text (&pk, "header");
    s_pack_text (&pk, "format");
    msgpack_pack_uint8 (&pk, 1);
    s_pack_text (&pk, "store_id");
    s_pack_text (&pk, "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d");
    s_put_record (file, 0, &payload);
    s_old_event_record (&pk, "created", "pending", 1700000000123, 1);
    s_put_record (file, 1, &payload);
    s_old_event_record (&pk, "updated", "processed", 1700000000999, 2);
    s_put_record (file, 2, &payload);
    msgpack_sbuffer_destroy (&payload);
    assert_int_equal (fclose (file), 0);

    s_open (self, 1000, 1 << 30);
    proto_request_t get = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    assert_int_equal (proto_uuid_parse (S_OLD_ID, PROTO_UUID_LEN, get.event_id), 0);
    proto_reply_t *r = s_call (self, &get);
    assert_int_equal (r->status, PROTO_OK);
    assert_int_equal (r->event.created_at, 1700000000123);
    assert_int_equal (r->event.created_us, 0);
    assert_int_equal (r->event.updated_at, 1700000000999);
    assert_int_equal (r->event.seq, 2);
    assert_int_equal (r->event.status.len, 9);
    assert_memory_equal (r->event.status.ptr, "processed", 9);
    /* new events after the old ones, and a restart keeps both kinds */
    for (int i = 0; i < 5; i++) {
        r = s_create (self, "u-new", "after the upgrade");
        assert_int_equal (r->status, PROTO_OK);
    }
    assert_int_equal (r->event.seq, 7);
    assert_int_equal (persist_commit (self->persist), 0);
    char *after = s_reopen_same (self, 1000);
    assert_non_null (
        strstr (after, S_OLD_ID " u-old from an older store processed 1700000000123.000 "));
    assert_true (s_with_created_us (self) >= 4);
    free (after);
}

static void
test_unwritable_journal_refuses_writes_with_the_cause_then_recovers (void **state)
{
    fixture_t *self = *state;
    s_open (self, 1000, 1 << 30);
    proto_reply_t *r = s_create (self, "u", "before");
    uint8_t id[16];
    memcpy (id, r->event.id, 16);
    assert_int_equal (persist_commit (self->persist), 0);
    signal (SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit (RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)s_journal_size (self);
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &lim), 0);

    /* Under fsync always the file already has JOURNAL_AHEAD of zeros past
       its records, which a full disk cannot take back: the failing batch
       is bigger than that space. */
    static char big[4001];
    memset (big, 'x', sizeof big - 1);
    int batch = JOURNAL_AHEAD / 4000 + 20;
    for (int i = 0; i < batch; i++)
        assert_int_equal (s_create (self, "u", big)->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), -1);
    /* Not yet on disk: the feed does not hand them out. */
    proto_request_t read = { .op = PROTO_OP_FEED_READ, .has = PROTO_HAS_LIMIT, .limit = 1000 };
    r = s_call (self, &read);
    assert_int_equal (r->n_changes, 1);
    /* Writes and acks are refused with the cause; reads go on. */
    r = s_create (self, "u", "refused");
    assert_int_equal (r->status, PROTO_E_INTERNAL);
    assert_non_null (strstr (r->message.ptr, "cannot be written"));
    assert_int_equal (s_ack (self, 1)->status, PROTO_E_INTERNAL);
    proto_request_t get = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    memcpy (get.event_id, id, 16);
    assert_int_equal (s_call (self, &get)->status, PROTO_OK);
    assert_int_equal (persist_tick (self->persist), -1);

    assert_int_equal (setrlimit (RLIMIT_FSIZE, &old), 0);
    assert_int_equal (persist_tick (self->persist), 0);
    r = s_call (self, &read);
    assert_true (r->n_changes > 1); /* as many as one reply holds */
    assert_int_equal (s_create (self, "u", "after")->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    char *after = s_reopen_same (self, 1000);
    assert_int_equal (event_table_size (dispatch_table (self->dispatch)), 2 + (uint32_t)batch);
    free (after);
}

/* Fault injection for the tests below. This binary is linked with
   -Wl,--wrap=realloc,--wrap=fdatasync,--wrap=fork (CMakeLists.txt), which
   routes the store code's calls here:
   - while s_realloc_limit is non-zero, a realloc of at least that many
     bytes fails, as the journal's buffer growing past 64 KiB would on a
     machine out of memory;
   - while s_fdatasync_fails, fdatasync fails with EIO, as a failing disk's;
   - while s_fork_fails, fork fails with EAGAIN; s_forks counts the calls. */
void *__real_realloc (void *ptr, size_t size);
void *__wrap_realloc (void *ptr, size_t size);
int __real_fdatasync (int fd);
int __wrap_fdatasync (int fd);
pid_t __real_fork (void);
pid_t __wrap_fork (void);
static size_t s_realloc_limit;
static atomic_bool s_fdatasync_fails; /* the everysec thread reads it */
static bool s_fork_fails;
static int s_forks;

void *
__wrap_realloc (void *ptr, size_t size)
{
    if (s_realloc_limit && size >= s_realloc_limit)
        return NULL;
    return __real_realloc (ptr, size);
}

int
__wrap_fdatasync (int fd)
{
    if (atomic_load (&s_fdatasync_fails)) {
        errno = EIO;
        return -1;
    }
    return __real_fdatasync (fd);
}

pid_t
__wrap_fork (void)
{
    s_forks++;
    if (s_fork_fails) {
        errno = EAGAIN;
        return -1;
    }
    return __real_fork ();
}

/* The journal file's bytes (caller frees), their number in *len. */
static char *
s_read_journal (fixture_t *self, size_t *len)
{
    char path[96];
    snprintf (path, sizeof path, "%s/journal", self->dir);
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    *len = (size_t)s_journal_size (self);
    char *bytes = malloc (*len ? *len : 1);
    assert_non_null (bytes);
    assert_int_equal (fread (bytes, 1, *len, file), *len);
    fclose (file);
    return bytes;
}

static void
s_write_journal (fixture_t *self, const char *bytes, size_t len)
{
    char path[96];
    snprintf (path, sizeof path, "%s/journal", self->dir);
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (bytes, 1, len, file), len);
    assert_int_equal (fclose (file), 0);
}

/* Creates events of 4000-byte descriptions in one pass, the journal's
   buffer unable to grow, until one cannot be recorded; returns its seq. */
static uint64_t
s_create_until_unjournaled (fixture_t *self)
{
    static char big[4001];
    memset (big, 'x', sizeof big - 1);
    uint64_t failed = 0;
    s_realloc_limit = 100 * 1024;
    for (int i = 0; i < 100 && s_stat (self, "unjournaled") == 0; i++) {
        proto_reply_t *r = s_create (self, "u", big);
        assert_int_equal (r->status, PROTO_OK); /* applied in memory; the server holds the reply */
        failed = r->event.seq;
    }
    s_realloc_limit = 0;
    assert_int_equal (s_stat (self, "unjournaled"), 1);
    return failed;
}

static void
test_a_change_the_journal_cannot_buffer_waits_for_a_compaction (void **state)
{
    fixture_t *self = *state;
    s_open (self, 1000, 1 << 30);
    uint64_t appended = persist_appended (self->persist);
    uint64_t failed = s_create_until_unjournaled (self);
    assert_true (failed > 1);
    /* The failed change counts too: its reply waits for a commit that
       returns 0. */
    assert_int_equal (persist_appended (self->persist), appended + failed);
    /* Refused at once, in the same pass: no record may follow the missing
       one, or the journal could not be replayed. */
    proto_reply_t *r = s_create (self, "u", "refused");
    assert_int_equal (r->status, PROTO_E_INTERNAL);
    assert_non_null (strstr (r->message.ptr, "out of memory recording"));
    assert_int_equal (s_ack (self, 1)->status, PROTO_E_INTERNAL);
    /* The records before it are written, but the commit is not done, and
       the feed hands out nothing past the last change journaled. */
    assert_int_equal (persist_commit (self->persist), -1);
    proto_request_t read = { .op = PROTO_OP_FEED_READ, .has = PROTO_HAS_LIMIT, .limit = 1000 };
    r = s_call (self, &read);
    assert_int_equal (r->n_changes, failed - 1);
    size_t crashed_len;
    char *crashed = s_read_journal (self, &crashed_len); /* a crash at this point */

    /* The tick compacts; once the snapshot is in, the change is durable
       and writes go on. */
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    for (int i = 0; i < 500 && persist_tick (self->persist) != 0; i++)
        nanosleep (&pause, NULL);
    assert_int_equal (persist_tick (self->persist), 0);
    assert_int_equal (s_stat (self, "journal_rewrites"), 1);
    r = s_call (self, &read);
    assert_int_equal (r->n_changes, failed);
    assert_int_equal (s_create (self, "u", "after")->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    char *after = s_reopen_same (self, 1000);
    assert_int_equal (event_table_size (dispatch_table (self->dispatch)), failed + 1);

    /* Had the store crashed before the compaction, its journal would give
       back the state before the change (whose reply never went out), not
       refuse to start over a gap in the sequence numbers. */
    s_close (self);
    s_write_journal (self, crashed, crashed_len);
    s_open (self, 1000, 1 << 30);
    assert_int_equal (event_table_size (dispatch_table (self->dispatch)), failed - 1);
    assert_int_equal (s_create (self, "u", "after the crash")->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    free (crashed);
    free (after);
}

/* A history whose journal outgrows the live data: the next tick compacts
   (compact_min must be small). */
static void
s_outgrown (fixture_t *self)
{
    s_history (self, 40);
    proto_request_t list = { .op = PROTO_OP_LIST, .has = PROTO_HAS_LIMIT, .limit = 1 };
    uint8_t id[16];
    memcpy (id, s_call (self, &list)->items[0].id, 16);
    for (int round = 0; round < 200; round++)
        assert_int_equal (s_update_status (self, id, round % 2 ? "a" : "b")->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
}

static void
test_a_compaction_begun_before_the_failure_does_not_end_it (void **state)
{
    fixture_t *self = *state;
    s_open (self, 100000, 4096);
    s_outgrown (self);
    assert_int_equal (persist_tick (self->persist), 0); /* the compaction's snapshot: now */
    uint64_t failed = s_create_until_unjournaled (self);

    /* That compaction ends, but its snapshot lacks the change: writes stay
       refused until another, begun after the failure, has recorded it. */
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    for (int i = 0; i < 500 && s_stat (self, "journal_rewrites") == 0; i++) {
        assert_int_equal (persist_tick (self->persist), -1);
        nanosleep (&pause, NULL);
    }
    assert_int_equal (s_stat (self, "journal_rewrites"), 1);
    assert_int_equal (s_create (self, "u", "refused")->status, PROTO_E_INTERNAL);
    for (int i = 0; i < 500 && persist_tick (self->persist) != 0; i++)
        nanosleep (&pause, NULL);
    assert_int_equal (s_stat (self, "journal_rewrites"), 2);
    assert_int_equal (s_create (self, "u", "after")->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    char *after = s_reopen_same (self, 100000);
    proto_request_t read = { .op = PROTO_OP_FEED_READ, .has = PROTO_HAS_LIMIT, .limit = 1000 };
    proto_reply_t *r = s_call (self, &read);
    assert_true (r->n_changes > 0);
    assert_true (r->changes[r->n_changes - 1].seq > failed); /* the change and the one after */
    free (after);
}

static void
test_a_compaction_that_cannot_start_waits_before_trying_again (void **state)
{
    fixture_t *self = *state;
    s_open (self, 100000, 4096);
    s_outgrown (self);
    s_forks = 0;
    s_fork_fails = true;
    for (int i = 0; i < 50; i++)
        assert_int_equal (persist_tick (self->persist), 0); /* writes go on meanwhile */
    s_fork_fails = false;
    assert_int_equal (s_forks, 1); /* not one fork per tick */
    assert_int_equal (s_stat (self, "journal_rewrites"), 0);
    /* JOURNAL_REWRITE_RETRY_MS later it is tried again, and succeeds. */
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    for (int i = 0; i < 500 && s_stat (self, "journal_rewrites") == 0; i++) {
        assert_int_equal (persist_tick (self->persist), 0);
        nanosleep (&pause, NULL);
    }
    assert_int_equal (s_stat (self, "journal_rewrites"), 1);
    assert_int_equal (s_forks, 2);
    free (s_reopen_same (self, 100000));
}

/* Creates and commits (no tick) until the everysec thread's failing
   fdatasync makes a create refused. */
static void
s_write_until_sync_fails (fixture_t *self)
{
    struct timespec pause = { 0, 50 * 1000 * 1000 };
    proto_reply_t *r = NULL;
    for (int i = 0; i < 100; i++) {
        r = s_create (self, "u", "written, maybe lost");
        if (r->status != PROTO_OK)
            break;
        assert_int_equal (persist_commit (self->persist), 0);
        nanosleep (&pause, NULL);
    }
    assert_int_equal (r->status, PROTO_E_INTERNAL);
    assert_non_null (strstr (r->message.ptr, "cannot be written"));
}

static void
test_a_failed_everysec_sync_refuses_writes_until_the_journal_is_rewritten (void **state)
{
    fixture_t *self = *state;
    s_open_policy (self, 1000, 1 << 30, JOURNAL_FSYNC_EVERYSEC);
    assert_int_equal (s_create (self, "u", "synced")->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    /* The thread syncs once a second: let it fail. */
    atomic_store (&s_fdatasync_fails, true);
    s_write_until_sync_fails (self);
    /* The disk comes back and the thread's next fdatasync succeeds, but
       what the failed one dropped is still missing from the file: writes
       stay refused until a compaction has rewritten it from memory. */
    atomic_store (&s_fdatasync_fails, false);
    struct timespec second = { 1, 300 * 1000 * 1000 };
    nanosleep (&second, NULL);
    persist_commit (self->persist);
    proto_reply_t *r = s_create (self, "u", "refused");
    assert_int_equal (r->status, PROTO_E_INTERNAL);
    struct timespec pause = { 0, 50 * 1000 * 1000 };
    for (int i = 0; i < 500 && s_stat (self, "journal_rewrites") == 0; i++) {
        persist_tick (self->persist);
        nanosleep (&pause, NULL);
    }
    assert_int_equal (s_stat (self, "journal_rewrites"), 1);
    assert_int_equal (persist_tick (self->persist), 0);
    assert_int_equal (s_create (self, "u", "after")->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    free (s_reopen_same (self, 1000));
}

static void
test_a_compaction_forked_before_a_failed_sync_does_not_repair_it (void **state)
{
    fixture_t *self = *state;
    s_open_policy (self, 100000, 4096, JOURNAL_FSYNC_EVERYSEC);
    s_outgrown (self);
    assert_int_equal (persist_tick (self->persist), 0); /* forks: its snapshot is of now */
    atomic_store (&s_fdatasync_fails, true);
    s_write_until_sync_fails (self);
    atomic_store (&s_fdatasync_fails, false);
    /* That compaction ends, but what the failed sync dropped came after its
       fork: writes stay refused until another one. */
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    for (int i = 0; i < 500 && s_stat (self, "journal_rewrites") == 0; i++) {
        persist_tick (self->persist);
        nanosleep (&pause, NULL);
    }
    assert_int_equal (s_stat (self, "journal_rewrites"), 1);
    assert_int_equal (s_create (self, "u", "refused")->status, PROTO_E_INTERNAL);
    for (int i = 0; i < 500 && s_stat (self, "journal_rewrites") == 1; i++) {
        persist_tick (self->persist);
        nanosleep (&pause, NULL);
    }
    assert_int_equal (s_stat (self, "journal_rewrites"), 2);
    /* Writes resume once the thread's next fdatasync has succeeded too. */
    int status = PROTO_E_INTERNAL;
    for (int i = 0; i < 500 && status != PROTO_OK; i++) {
        persist_commit (self->persist);
        status = s_create (self, "u", "after")->status;
        nanosleep (&pause, NULL);
    }
    assert_int_equal (status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    free (s_reopen_same (self, 100000));
}

static void
test_restart_with_a_smaller_feed_bound_loses_nothing (void **state)
{
    fixture_t *self = *state;
    s_open (self, 1000, 1 << 30);
    for (int i = 0; i < 20; i++)
        assert_int_equal (s_create (self, "u", "unacknowledged")->status, PROTO_OK);
    assert_int_equal (persist_commit (self->persist), 0);
    s_close (self);
    s_open (self, 5, 1 << 30);
    assert_int_equal (feed_len (dispatch_feed (self->dispatch)), 20);
    assert_int_equal (s_create (self, "u", "refused: feed over its bound")->status,
                      PROTO_E_FEED_FULL);
    assert_int_equal (s_ack (self, 20)->status, PROTO_OK);
    assert_int_equal (s_create (self, "u", "room again")->status, PROTO_OK);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_reopen_restores_events_feed_and_cursor_exactly,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_new_data_dir_gets_a_new_store_id, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_compaction_keeps_the_state_and_shrinks_the_journal,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_unwritable_journal_refuses_writes_with_the_cause_then_recovers, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_a_change_the_journal_cannot_buffer_waits_for_a_compaction, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_compaction_begun_before_the_failure_does_not_end_it,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_a_compaction_that_cannot_start_waits_before_trying_again, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_a_failed_everysec_sync_refuses_writes_until_the_journal_is_rewritten, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_a_compaction_forked_before_a_failed_sync_does_not_repair_it, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_restart_with_a_smaller_feed_bound_loses_nothing,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_journal_written_before_created_us_replays, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
