/*
 * test_store_faults — the real herald-store binary with a data dir whose
 * journal or disk goes wrong (issue 12):
 *   - a torn tail cut with a warning naming its offset; damage followed by
 *     valid records refusing start-up (file and offset named, nothing
 *     changed) and --journal-verify reporting it;
 *   - a full disk (a small tmpfs the test mounts) and a file size limit
 *     (ulimit -f): writes refused with the cause, reads served, the
 *     waiting batch written and writes resumed when space returns, nothing
 *     lost;
 *   - a data dir that cannot be written refusing start-up clearly;
 *   - a store without a data dir warning that it keeps nothing.
 */
#define _GNU_SOURCE /* prlimit */
#include "durable_client.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

/* ---- Damaged journals ---------------------------------------------------- */

static void
test_torn_tail_is_cut_with_a_warning_naming_the_offset (void **state)
{
    fixture_t *self = *state;
    dc_start (self, NULL);
    dc_create_some (self, 20);
    assert_int_equal (harness_stop (self->pid, SIGTERM, TIMEOUT_MS), 0);
    off_t good = dc_size (self->journal);
    /* A crash mid-write: half of a record's header. */
    int fd = open (self->journal, O_WRONLY | O_APPEND);
    assert_int_equal (write (fd, "\x12\x34\x56\x78\x40\x00\x00", 7), 7);
    close (fd);
    dc_start (self, NULL);
    assert_int_equal (dc_check_events (self, self->n_events, NULL, true), 0);
    char needle[96];
    snprintf (needle, sizeof needle, "torn record at offset %lld (7 bytes", (long long)good);
    assert_int_equal (harness_count_lines (self->log, needle), 1);
    assert_int_equal (dc_size (self->journal), good);
}

static void
test_damage_before_valid_records_refuses_start_naming_file_and_offset (void **state)
{
    fixture_t *self = *state;
    dc_start (self, NULL);
    dc_create_some (self, 20);
    assert_int_equal (harness_stop (self->pid, SIGTERM, TIMEOUT_MS), 0);
    off_t size = dc_size (self->journal);
    int fd = open (self->journal, O_RDWR);
    off_t at = size / 2;
    uint8_t byte;
    assert_int_equal (pread (fd, &byte, 1, at), 1);
    byte ^= 0xff;
    assert_int_equal (pwrite (fd, &byte, 1, at), 1);
    close (fd);

    assert_true (dc_spawn (self, NULL, NULL) > 0);
    assert_int_equal (dc_wait_exit (self), 1);
    assert_true (harness_count_lines (self->log, self->journal) >= 1);
    assert_int_equal (harness_count_lines (self->log, "is corrupt at offset"), 1);
    assert_int_equal (harness_count_lines (self->log, "truncate -s"), 1);
    assert_int_equal (dc_size (self->journal), size); /* nothing changed */

    const char *verify[] = { "--journal-verify", NULL };
    assert_true (dc_spawn (self, verify, NULL) > 0);
    assert_int_equal (dc_wait_exit (self), 1);
    assert_int_equal (harness_count_lines (self->log, "ERROR: "), 1);
    assert_int_equal (harness_count_lines (self->log, "is corrupt at offset"), 1);
}

/* ---- Disks that refuse -------------------------------------------------- */

/* Creates until one is not answered: its batch could not be written, so
   its reply waits for the disk (a client would time out). Then checks that
   later writes are refused at once naming cause and that reads go on.
   Returns the waiting request's rid. */
static uint64_t
s_write_until_held (fixture_t *self, const char *cause)
{
    size_t ok = 0;
    uint64_t held_rid = 0;
    zsock_set_rcvtimeo (self->dealer, 3000);
    for (int i = 0; i < 50000 && !held_rid; i++) {
        proto_request_t req = { .op = PROTO_OP_CREATE,
                                .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                                .rid = ++self->rid,
                                .user_id = PROTO_STR ("u"),
                                .description = PROTO_STR ("filling the disk, bit by bit") };
        dc_send (self, &req);
        proto_reply_t *r = dc_recv (self);
        if (!r) {
            held_rid = req.rid;
            break;
        }
        assert_int_equal (r->status, PROTO_OK);
        memcpy (self->events[self->n_events++].id, r->event.id, 16);
        ok++;
    }
    assert_true (held_rid != 0);
    proto_reply_t *r = dc_create (self, "u", "refused");
    assert_int_equal (r->status, PROTO_E_INTERNAL);
    assert_non_null (strstr (r->message.ptr, cause));
    printf ("# refused after %zu creates: \"%.*s\"\n", ok, (int)r->message.len, r->message.ptr);
    assert_int_equal (dc_get (self, self->events[0].id)->status, PROTO_OK);
    return held_rid;
}

/* After the space came back: the store's tick writes the waiting batch,
   its reply goes out, writes resume by themselves, and a restart after
   kill -9 has every acknowledged event. */
static void
s_check_resumed (fixture_t *self, uint64_t held_rid)
{
    zsock_set_rcvtimeo (self->dealer, TIMEOUT_MS);
    proto_reply_t *r = dc_recv (self);
    assert_non_null (r);
    assert_int_equal (r->rid, held_rid);
    assert_int_equal (r->status, PROTO_OK);
    memcpy (self->events[self->n_events++].id, r->event.id, 16);
    r = dc_create (self, "u", "space is back");
    assert_int_equal (r->status, PROTO_OK);
    memcpy (self->events[self->n_events++].id, r->event.id, 16);
    dc_kill9 (self);
    dc_start (self, NULL);
    assert_int_equal (dc_check_events (self, self->n_events, NULL, true), 0);
    harness_stop (self->pid, SIGKILL, TIMEOUT_MS);
    self->pid = 0;
    dc_disconnect (self);
}

static void
test_disk_full_refuses_writes_serves_reads_and_resumes (void **state)
{
    fixture_t *self = *state;
    char mnt[600];
    snprintf (mnt, sizeof mnt, "%.580s.mnt", self->dir);
    if (dc_mount (self, mnt, 1 << 20, false) != 0) {
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

    dc_start (self, NULL);
    uint64_t held_rid = s_write_until_held (self, "No space left on device");
    assert_int_equal (unlink (filler), 0);
    s_check_resumed (self, held_rid);
    assert_int_equal (umount2 (mnt, MNT_DETACH), 0);
    self->mounted[0] = '\0';
}

static void
test_file_size_limit_refuses_writes_and_resumes (void **state)
{
    fixture_t *self = *state;
    /* The store inherits a 256 KiB file size limit (the test's own
       SIGXFSZ is left at its default, so the store must ignore it itself:
       else the first write past the limit kills it). */
    struct rlimit old, lim;
    assert_int_equal (getrlimit (RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 256 * 1024;
    void (*was) (int) = signal (SIGXFSZ, SIG_DFL); /* an ignore would be inherited */
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &lim), 0);
    dc_start (self, NULL);
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &old), 0);
    signal (SIGXFSZ, was);

    uint64_t held_rid = s_write_until_held (self, "File too large");
    assert_true (dc_size (self->journal) <= 256 * 1024);
    assert_int_equal (prlimit (self->pid, RLIMIT_FSIZE, &old, NULL), 0);
    s_check_resumed (self, held_rid);
}

static void
test_unwritable_data_dir_refuses_start_clearly (void **state)
{
    fixture_t *self = *state;
    char mnt[600];
    snprintf (mnt, sizeof mnt, "%.580s.ro", self->dir);
    if (dc_mount (self, mnt, 1 << 20, true) != 0) {
        skip ();
        return;
    }
    snprintf (self->dir, sizeof self->dir, "%s", mnt);
    assert_true (dc_spawn (self, NULL, NULL) > 0);
    assert_int_equal (dc_wait_exit (self), 1);
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
        cmocka_unit_test_setup_teardown (test_torn_tail_is_cut_with_a_warning_naming_the_offset,
                                         dc_setup, dc_teardown),
        cmocka_unit_test_setup_teardown (
            test_damage_before_valid_records_refuses_start_naming_file_and_offset, dc_setup,
            dc_teardown),
        cmocka_unit_test_setup_teardown (test_disk_full_refuses_writes_serves_reads_and_resumes,
                                         dc_setup, dc_teardown),
        cmocka_unit_test_setup_teardown (test_file_size_limit_refuses_writes_and_resumes, dc_setup,
                                         dc_teardown),
        cmocka_unit_test_setup_teardown (test_unwritable_data_dir_refuses_start_clearly, dc_setup,
                                         dc_teardown),
        cmocka_unit_test_setup_teardown (test_without_a_data_dir_the_store_warns_it_is_memory_only,
                                         dc_setup, dc_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
