/* Unit tests for broker_url.c: one AMQP URL or a list of them (the nodes
   of a cluster) checked entry by entry, the bound on the list, and the
   password of a file put into every URL without ever being logged. */
#include "broker_url.h"

#include <amqp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
test_broker_accepts_amqp_urls (void **state)
{
    char err[256];
    assert_int_equal (broker_url_check ("amqp://guest:guest@127.0.0.1:5672/", err, sizeof err), 0);
    assert_int_equal (broker_url_check ("amqp://u:p@rabbit:5673/herald", err, sizeof err), 0);
    assert_int_equal (broker_url_check ("amqp://localhost", err, sizeof err), 0);
}

static void
test_broker_rejects_non_amqp_urls (void **state)
{
    char err[256] = "";
    assert_int_equal (broker_url_check ("http://127.0.0.1:5672/", err, sizeof err), -1);
    assert_non_null (strstr (err, "not an AMQP URL"));
    assert_int_equal (broker_url_check ("", err, sizeof err), -1);
    assert_int_equal (broker_url_check ("amqp://h:notaport/", err, sizeof err), -1);
    assert_int_equal (broker_url_check ("amqps://h/", err, sizeof err), -1);
}

/* Writes len bytes of text into a new temporary file; its path into path. */
static void
s_password_file (char *path, const char *text, size_t len)
{
    strcpy (path, "/tmp/herald-test-broker-XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, len), (ssize_t)len);
    close (fd);
}

/* A list of n URLs amqp://u:p@hI:5672/, into out. */
static void
s_list (char *out, size_t size, int n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        used +=
            (size_t)snprintf (out + used, size - used, "%samqp://u:p@h%d:5672/", i ? "," : "", i);
}

static void
test_broker_url_takes_a_list_of_up_to_the_bound (void **state)
{
    char err[256] = "", list[BROKER_URLS_MAX * 40];
    assert_int_equal (
        broker_url_check ("amqp://u:p@a:5672/,amqp://u:p@b:5673/herald", err, sizeof err), 0);
    s_list (list, sizeof list, BROKER_URLS_MAX);
    assert_int_equal (broker_url_check (list, err, sizeof err), 0);
    s_list (list, sizeof list, BROKER_URLS_MAX + 1);
    assert_int_equal (broker_url_check (list, err, sizeof err), -1);
    assert_non_null (strstr (err, "more than 16 URLs"));
}

static void
test_broker_url_names_the_bad_entry_of_a_list (void **state)
{
    char err[256] = "";
    assert_int_equal (broker_url_check ("amqp://a/,,amqp://b/", err, sizeof err), -1);
    assert_string_equal (err, "entry 2 of the list: empty (a list is URL,URL,... with no empty "
                              "entry)");
    assert_int_equal (broker_url_check ("amqp://a/,", err, sizeof err), -1);
    assert_non_null (strstr (err, "entry 2 of the list: empty"));
    assert_int_equal (broker_url_check (",amqp://a/", err, sizeof err), -1);
    assert_non_null (strstr (err, "entry 1 of the list: empty"));
    assert_int_equal (broker_url_check ("amqp://a/,http://b/", err, sizeof err), -1);
    assert_non_null (strstr (err, "entry 2 of the list: 'http://b/' is not an AMQP URL"));
    assert_int_equal (broker_url_check ("amqp://a/,amqps://b/", err, sizeof err), -1);
    assert_non_null (strstr (err, "entry 2 of the list: amqps:// is not supported"));
}

static void
test_broker_url_puts_the_password_into_every_url (void **state)
{
    char path[64], url[BROKER_URL_LIST_MAX];
    s_password_file (path, "p,w\n", 4);
    assert_int_equal (broker_url_with_password_file ("amqp://n@r1:5672/,amqp://n:old@r2/%2F", path,
                                                     url, sizeof url),
                      0);
    /* The comma of the password is encoded: it cannot split the list. */
    assert_string_equal (url, "amqp://n:p%2Cw@r1:5672/,amqp://n:p%2Cw@r2/%2F");
    char err[256];
    assert_int_equal (broker_url_check (url, err, sizeof err), 0);
    /* Every URL must name a user; the list must fit. */
    assert_int_equal (
        broker_url_with_password_file ("amqp://n@r1/,amqp://r2/", path, url, sizeof url), -1);
    assert_int_equal (broker_url_with_password_file ("amqp://n@a/,amqp://n@b/", path, url, 35), -1);
    assert_int_equal (broker_url_with_password_file ("amqp://n@a/,amqp://n@b/", path, url, 36), 0);
    assert_string_equal (url, "amqp://n:p%2Cw@a/,amqp://n:p%2Cw@b/");
    unlink (path);
}

static void
test_broker_url_takes_the_password_of_a_file (void **state)
{
    char path[64], url[BROKER_URL_MAX];
    /* Reserved characters are percent-encoded; one final line break is not
       part of the password. */
    s_password_file (path, "s3cr:t/@%x\n", 11);
    assert_int_equal (broker_url_with_password_file ("amqp://herald-notifier@rabbit:5672/%2F", path,
                                                     url, sizeof url),
                      0);
    assert_string_equal (url, "amqp://herald-notifier:s3cr%3At%2F%40%25x@rabbit:5672/%2F");
    /* What rabbitmq-c logs in with is the file's password, decoded. */
    struct amqp_connection_info info;
    assert_int_equal (amqp_parse_url (url, &info), AMQP_STATUS_OK);
    assert_string_equal (info.user, "herald-notifier");
    assert_string_equal (info.password, "s3cr:t/@%x");
    assert_string_equal (info.host, "rabbit");
    /* A password in the URL is replaced; the rest is kept as written. */
    assert_int_equal (
        broker_url_with_password_file ("amqp://w:old@127.0.0.1:5999/", path, url, sizeof url), 0);
    assert_string_equal (url, "amqp://w:s3cr%3At%2F%40%25x@127.0.0.1:5999/");
    unlink (path);
    s_password_file (path, "Ab-_.~9\r\n", 9);
    assert_int_equal (broker_url_with_password_file ("amqp://u@h/", path, url, sizeof url), 0);
    assert_string_equal (url, "amqp://u:Ab-_.~9@h/");
    unlink (path);
    /* Without a file the URL is used as it is. */
    assert_int_equal (broker_url_with_password_file ("amqp://u:p@h/", NULL, url, sizeof url), 0);
    assert_string_equal (url, "amqp://u:p@h/");
}

static void
test_broker_url_password_file_refusals (void **state)
{
    char path[64], url[BROKER_URL_MAX];
    /* No such file. */
    assert_int_equal (
        broker_url_with_password_file ("amqp://u@h/", "/nonexistent/herald-pw", url, sizeof url),
        -1);
    /* Empty, or only a line break. */
    s_password_file (path, "\n", 1);
    assert_int_equal (broker_url_with_password_file ("amqp://u@h/", path, url, sizeof url), -1);
    unlink (path);
    /* Two lines, or a control character: not a password. */
    s_password_file (path, "one\ntwo\n", 8);
    assert_int_equal (broker_url_with_password_file ("amqp://u@h/", path, url, sizeof url), -1);
    unlink (path);
    s_password_file (path, "a\tb", 3);
    assert_int_equal (broker_url_with_password_file ("amqp://u@h/", path, url, sizeof url), -1);
    unlink (path);
    /* BROKER_PASSWORD_MAX bytes pass, one more does not. */
    char big[BROKER_PASSWORD_MAX + 2];
    memset (big, 'p', sizeof big);
    s_password_file (path, big, BROKER_PASSWORD_MAX);
    assert_int_equal (broker_url_with_password_file ("amqp://u@h/", path, url, sizeof url), 0);
    unlink (path);
    s_password_file (path, big, BROKER_PASSWORD_MAX + 1);
    assert_int_equal (broker_url_with_password_file ("amqp://u@h/", path, url, sizeof url), -1);
    unlink (path);
    /* A URL without a user, or a result that does not fit. */
    s_password_file (path, "pw", 2);
    assert_int_equal (broker_url_with_password_file ("amqp://h:5672/", path, url, sizeof url), -1);
    assert_int_equal (broker_url_with_password_file ("amqp://:x@h/", path, url, sizeof url), -1);
    assert_int_equal (broker_url_with_password_file ("amqp://user@h/", path, url, 14), -1);
    assert_int_equal (broker_url_with_password_file ("amqp://user@h/", path, url, 18), 0);
    assert_string_equal (url, "amqp://user:pw@h/");
    unlink (path);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_broker_accepts_amqp_urls),
        cmocka_unit_test (test_broker_rejects_non_amqp_urls),
        cmocka_unit_test (test_broker_url_takes_a_list_of_up_to_the_bound),
        cmocka_unit_test (test_broker_url_names_the_bad_entry_of_a_list),
        cmocka_unit_test (test_broker_url_puts_the_password_into_every_url),
        cmocka_unit_test (test_broker_url_takes_the_password_of_a_file),
        cmocka_unit_test (test_broker_url_password_file_refusals),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
