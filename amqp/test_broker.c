/* Unit tests for broker.c that need no RabbitMQ: URL handling, the password
   file, the disconnected state and what a frame means (broker_frame_kind,
   on frames built here as rabbitmq-c decodes them). Connecting and the
   topology are exercised against a real node in tests/e2e/test_e2e_delivery.c
   and tests/amqp/test_amqp_live.c, the password file and the per-service
   users in tests/broker/test_broker_users.sh. */
#include "amqp_raw.h"

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
    assert_null (broker_new ("nope", 30));
}

static void
test_broker_parses_host_port_and_starts_disconnected (void **state)
{
    broker_t *broker = broker_new ("amqp://u:p@example.invalid:5999/", 30);
    assert_non_null (broker);
    assert_string_equal (broker_host (broker), "example.invalid");
    assert_int_equal (broker_port (broker), 5999);
    assert_false (broker_connected (broker));
    assert_null (broker_conn (broker));
    assert_int_equal (broker_fd (broker), -1);
    assert_false (broker_has_buffered (broker));
    broker_disconnect (broker); /* harmless when not connected */
    int64_t first = broker_retry_delay_ms (broker);
    assert_true (first >= BROKER_RETRY_INITIAL_MS / 2 && first <= BROKER_RETRY_INITIAL_MS);
    for (int i = 0; i < 20; i++)
        assert_true (broker_retry_delay_ms (broker) <= BROKER_RETRY_MAX_MS);
    broker_destroy (&broker);
    assert_null (broker);
    broker_destroy (&broker);
}

static amqp_frame_t
s_method (amqp_method_number_t id, void *decoded)
{
    amqp_frame_t frame = { .frame_type = AMQP_FRAME_METHOD, .channel = BROKER_CHANNEL };
    frame.payload.method.id = id;
    frame.payload.method.decoded = decoded;
    return frame;
}

static void
test_broker_reads_tag_and_multiple_of_acks_and_nacks (void **state)
{
    amqp_basic_ack_t ack = { .delivery_tag = 7, .multiple = 1 };
    amqp_frame_t frame = s_method (AMQP_BASIC_ACK_METHOD, &ack);
    uint64_t tag = 0;
    bool multiple = false;
    assert_int_equal (broker_frame_kind (&frame, &tag, &multiple), BROKER_FRAME_ACK);
    assert_int_equal (tag, 7);
    assert_true (multiple);

    amqp_basic_nack_t nack = { .delivery_tag = 9, .multiple = 0, .requeue = 1 };
    frame = s_method (AMQP_BASIC_NACK_METHOD, &nack);
    assert_int_equal (broker_frame_kind (&frame, &tag, &multiple), BROKER_FRAME_NACK);
    assert_int_equal (tag, 9);
    assert_false (multiple);
    /* The out parameters are optional. */
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_NACK);
}

static void
test_broker_tells_returns_cancels_and_closes_from_the_rest (void **state)
{
    amqp_basic_return_t ret = { .reply_code = 312 };
    amqp_basic_cancel_t cancel = { 0 };
    amqp_channel_close_t channel_close = { .reply_code = 406 };
    amqp_connection_close_t connection_close = { .reply_code = 320 };
    amqp_basic_deliver_t deliver = { .delivery_tag = 3 };
    amqp_frame_t frame = s_method (AMQP_BASIC_RETURN_METHOD, &ret);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_RETURN);
    frame = s_method (AMQP_BASIC_CANCEL_METHOD, &cancel);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_CANCEL);
    frame = s_method (AMQP_CHANNEL_CLOSE_METHOD, &channel_close);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_CLOSE);
    frame = s_method (AMQP_CONNECTION_CLOSE_METHOD, &connection_close);
    assert_int_equal (broker_frame_kind (&frame, NULL, NULL), BROKER_FRAME_CLOSE);

    /* A delivery is not an ack, whatever its tag; content frames are not
       methods at all. Neither touches the out parameters. */
    uint64_t tag = 55;
    bool multiple = true;
    frame = s_method (AMQP_BASIC_DELIVER_METHOD, &deliver);
    assert_int_equal (broker_frame_kind (&frame, &tag, &multiple), BROKER_FRAME_OTHER);
    amqp_frame_t header = { .frame_type = AMQP_FRAME_HEADER, .channel = BROKER_CHANNEL };
    assert_int_equal (broker_frame_kind (&header, &tag, &multiple), BROKER_FRAME_OTHER);
    amqp_frame_t body = { .frame_type = AMQP_FRAME_BODY, .channel = BROKER_CHANNEL };
    assert_int_equal (broker_frame_kind (&body, &tag, &multiple), BROKER_FRAME_OTHER);
    assert_int_equal (tag, 55);
    assert_true (multiple);

    /* Without a connection there is nobody to answer a close. */
    broker_t *broker = broker_new ("amqp://u:p@example.invalid:5999/", 30);
    frame = s_method (AMQP_CHANNEL_CLOSE_METHOD, &channel_close);
    assert_int_equal (broker_handle_close (broker, &frame), 0);
    broker_destroy (&broker);
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
        cmocka_unit_test (test_broker_parses_host_port_and_starts_disconnected),
        cmocka_unit_test (test_broker_reads_tag_and_multiple_of_acks_and_nacks),
        cmocka_unit_test (test_broker_tells_returns_cancels_and_closes_from_the_rest),
        cmocka_unit_test (test_broker_url_takes_the_password_of_a_file),
        cmocka_unit_test (test_broker_url_password_file_refusals),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
