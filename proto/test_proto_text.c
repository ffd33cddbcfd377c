/*
 * test_proto_text — string checks at their limits, UTF-8 edge cases, UUID
 * text forms, time formatting and limits from the environment.
 */
#include "test_proto.h"

#include <stdlib.h>
#include <string.h>

static void
test_check_string_precedence_and_limits (void **state)
{
    assert_int_equal (proto_check_string ("", 0, 10), PROTO_STR_EMPTY);
    assert_int_equal (proto_check_string (NULL, 0, 10), PROTO_STR_EMPTY);
    assert_int_equal (proto_check_string ("abc", 3, 3), PROTO_STR_OK);
    assert_int_equal (proto_check_string ("abcd", 4, 3), PROTO_STR_TOO_LONG);
    /* too long wins over bad UTF-8 and NUL */
    assert_int_equal (proto_check_string ("\xff\0xx", 4, 3), PROTO_STR_TOO_LONG);
    /* bad UTF-8 wins over NUL */
    assert_int_equal (proto_check_string ("\0\xff", 2, 3), PROTO_STR_BAD_UTF8);
    assert_int_equal (proto_check_string ("a\0b", 3, 3), PROTO_STR_HAS_NUL);
    assert_int_equal (proto_check_string ("\0", 1, 3), PROTO_STR_HAS_NUL);
}

static void
test_check_string_counts_bytes_not_characters (void **state)
{
    /* "é" is two bytes: four of them are 8 bytes */
    const char *text = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    assert_int_equal (proto_check_string (text, 8, 8), PROTO_STR_OK);
    assert_int_equal (proto_check_string (text, 8, 7), PROTO_STR_TOO_LONG);
}

/* proto_check_string reads 8 ASCII bytes at a time: a NUL or a non-ASCII
   byte anywhere in a word, or just after one, is still found, and a
   sequence is never split at a word's edge. */
static void
test_check_string_finds_every_byte_past_whole_words (void **state)
{
    (void)state;
    char text[40];
    for (size_t at = 0; at < 24; at++) {
        memset (text, 'a', sizeof text);
        text[at] = '\0';
        assert_int_equal (proto_check_string (text, 24, 64), PROTO_STR_HAS_NUL);
        memset (text, 'a', sizeof text);
        text[at] = '\x80'; /* a lone continuation byte */
        assert_int_equal (proto_check_string (text, 24, 64), PROTO_STR_BAD_UTF8);
        memset (text, 'a', sizeof text);
        memcpy (text + at, "\xc3\xa9", 2); /* é across or inside a word */
        assert_int_equal (proto_check_string (text, 26, 64), PROTO_STR_OK);
        memset (text, 'a', sizeof text);
        text[at] = '\x01'; /* 0x01 above a zero byte borrows in the word test */
        text[at + 1] = '\0';
        assert_int_equal (proto_check_string (text, 26, 64), PROTO_STR_HAS_NUL);
    }
    /* A sequence cut by the end of the string, after a whole word. */
    memset (text, 'a', sizeof text);
    text[8] = '\xc3';
    assert_int_equal (proto_check_string (text, 9, 64), PROTO_STR_BAD_UTF8);
    memcpy (text + 8, "\xe2\x82", 2);
    assert_int_equal (proto_check_string (text, 10, 64), PROTO_STR_BAD_UTF8);
    memcpy (text + 8, "\xe2\x82\xac", 3); /* € */
    assert_int_equal (proto_check_string (text, 11, 64), PROTO_STR_OK);
}

static void
test_utf8_accepts_every_well_formed_boundary (void **state)
{
    static const char *const good[] = {
        "a",
        "\x7f",
        "\xc2\x80",
        "\xdf\xbf",
        "\xe0\xa0\x80",
        "\xed\x9f\xbf", /* U+D7FF */
        "\xee\x80\x80", /* U+E000 */
        "\xef\xbf\xbf",
        "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf", /* U+10FFFF */
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal (proto_check_string (good[i], strlen (good[i]), 16), PROTO_STR_OK);
        /* each is one character: one sequence */
        assert_int_equal (proto_utf8_len (good[i], strlen (good[i])), strlen (good[i]));
    }
}

static void
test_utf8_len_measures_one_sequence_within_its_bound (void **state)
{
    assert_int_equal (proto_utf8_len ("ab", 2), 1);
    assert_int_equal (proto_utf8_len ("\xc2\x80x", 3), 2);
    assert_int_equal (proto_utf8_len ("\0", 1), 1);               /* NUL is UTF-8 */
    assert_int_equal (proto_utf8_len ("\xf4\x8f\xbf\xbf", 3), 0); /* cut by the bound */
    assert_int_equal (proto_utf8_len ("\xed\xa0\x80", 3), 0);     /* surrogate */
    assert_int_equal (proto_utf8_len ("\xc1\xbf", 2), 0);         /* overlong */
    assert_int_equal (proto_utf8_len ("\x80", 1), 0);             /* continuation */
    assert_int_equal (proto_utf8_len ("\xf5\x80\x80\x80", 4), 0); /* past U+10FFFF */
}

static void
test_utf8_rejects_overlongs_surrogates_and_out_of_range (void **state)
{
    static const char *const bad[] = {
        "\x80",             /* lone continuation */
        "\xbf",             /* lone continuation */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong 3-byte */
        "\xe0\x9f\xbf",     /* overlong 3-byte, highest */
        "\xf0\x80\x80\xaf", /* overlong 4-byte */
        "\xf0\x8f\xbf\xbf", /* overlong 4-byte, highest */
        "\xed\xa0\x80",     /* U+D800 high surrogate */
        "\xed\xbf\xbf",     /* U+DFFF low surrogate */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* lead byte F5 */
        "\xff",             /* never valid */
        "\xfe",             /* never valid */
        "\xe2\x82",         /* truncated 3-byte */
        "\xf0\x9f\x98",     /* truncated 4-byte */
        "\xc3",             /* truncated 2-byte */
        "\xc3\x28",         /* bad continuation */
        "\xe2\x28\xa1",     /* bad second byte */
        "\xe2\x82\x28",     /* bad third byte */
        "ok\xc3",           /* valid prefix, truncated tail */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (proto_check_string (bad[i], strlen (bad[i]), 16), PROTO_STR_BAD_UTF8);
}

static void
test_check_messages_read_like_fastapi (void **state)
{
    char buf[80];
    proto_check_message (PROTO_STR_EMPTY, 256, buf, sizeof buf);
    assert_string_equal (buf, "String should have at least 1 character");
    proto_check_message (PROTO_STR_TOO_LONG, 256, buf, sizeof buf);
    assert_string_equal (buf, "String should have at most 256 bytes");
    proto_check_message (PROTO_STR_BAD_UTF8, 256, buf, sizeof buf);
    assert_string_equal (buf, "Invalid UTF-8");
    proto_check_message (PROTO_STR_HAS_NUL, 256, buf, sizeof buf);
    assert_string_equal (buf, "String must not contain NUL characters");
    char tiny[5];
    proto_check_message (PROTO_STR_TOO_LONG, 256, tiny, sizeof tiny);
    assert_string_equal (tiny, "Stri");
}

static void
test_uuid_parse_and_format_round_trip (void **state)
{
    const char *text = "5f0c6a1e-9b2d-4c3e-8f70-0123456789ab";
    uint8_t id[16];
    assert_int_equal (proto_uuid_parse (text, 36, id), 0);
    assert_int_equal (id[0], 0x5f);
    assert_int_equal (id[15], 0xab);
    char out[PROTO_UUID_LEN + 1];
    proto_uuid_format (id, out);
    assert_string_equal (out, text);
    /* upper case accepted, formatted back lower case */
    assert_int_equal (proto_uuid_parse ("5F0C6A1E-9B2D-4C3E-8F70-0123456789AB", 36, id), 0);
    proto_uuid_format (id, out);
    assert_string_equal (out, text);
}

/* The digits' reference value, one at a time: -1 for a non-digit. */
static int
s_digit (unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The hex codec reads and writes eight digits per word: every byte value
   at every digit position of a UUID and of a receipt is taken exactly
   when it is a digit, with its value in its byte and nibble; every byte
   value at every byte position is written as its two lowercase digits. */
static void
test_hex_digits_every_byte_at_every_position (void **state)
{
    (void)state;
    static const char uuid[] = "5f0c6a1e-9b2d-4c3e-8f70-0123456789ab";
    static const char receipt[] = "000000000000012cdeadbeef01234567";
    for (int kind = 0; kind < 2; kind++) {
        const char *base = kind ? receipt : uuid;
        size_t len = strlen (base);
        for (size_t at = 0; at < len; at++) {
            if (base[at] == '-')
                continue;
            for (int c = 0; c < 256; c++) {
                char text[40];
                memcpy (text, base, len);
                text[at] = (char)c;
                uint8_t got[16], want[16];
                memset (got, 0xee, sizeof got);
                int rc =
                    kind ? proto_receipt_parse (text, len, got) : proto_uuid_parse (text, len, got);
                if (s_digit ((unsigned char)c) < 0) {
                    assert_int_equal (rc, -1);
                    for (size_t i = 0; i < 16; i++)
                        assert_int_equal (got[i], 0xee); /* untouched */
                    continue;
                }
                assert_int_equal (rc, 0);
                size_t n = 0;
                for (size_t i = 0; i < len; i += 2) {
                    if (text[i] == '-')
                        i++;
                    want[n++] = (uint8_t)(s_digit ((unsigned char)text[i]) << 4
                                          | s_digit ((unsigned char)text[i + 1]));
                }
                assert_int_equal (n, 16);
                assert_memory_equal (got, want, 16);
            }
        }
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t at = 0; at < 16; at++)
        for (int b = 0; b < 256; b++) {
            uint8_t bytes[16];
            for (size_t i = 0; i < 16; i++)
                bytes[i] = (uint8_t)(i * 37 + 11);
            bytes[at] = (uint8_t)b;
            char u[PROTO_UUID_LEN + 1], r[PROTO_RECEIPT_LEN + 1];
            proto_uuid_format (bytes, u);
            proto_receipt_format (bytes, r);
            assert_int_equal (strlen (u), PROTO_UUID_LEN);
            assert_int_equal (strlen (r), PROTO_RECEIPT_LEN);
            size_t pos = 2 * at + (at >= 4) + (at >= 6) + (at >= 8) + (at >= 10);
            assert_int_equal (u[pos], hex[b >> 4]);
            assert_int_equal (u[pos + 1], hex[b & 15]);
            assert_int_equal (r[2 * at], hex[b >> 4]);
            assert_int_equal (r[2 * at + 1], hex[b & 15]);
            assert_true (u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
            uint8_t back[16];
            assert_int_equal (proto_uuid_parse (u, PROTO_UUID_LEN, back), 0);
            assert_memory_equal (back, bytes, 16);
            assert_int_equal (proto_receipt_parse (r, PROTO_RECEIPT_LEN, back), 0);
            assert_memory_equal (back, bytes, 16);
        }
}

static void
test_uuid_parse_rejects_non_canonical_forms (void **state)
{
    static const char *const bad[] = {
        "",
        "5f0c6a1e9b2d4c3e8f700123456789ab",
        "{5f0c6a1e-9b2d-4c3e-8f70-0123456789ab}",
        "urn:uuid:5f0c6a1e-9b2d-4c3e-8f70-0123456789ab",
        "5f0c6a1e-9b2d-4c3e-8f70-0123456789a",
        "5f0c6a1e-9b2d-4c3e-8f70-0123456789abc",
        "5f0c6a1e-9b2d-4c3e-8f70_0123456789ab",
        "5f0c6a1e-9b2d-4c3e-8f7-00123456789ab",
        "5f0c6a1g-9b2d-4c3e-8f70-0123456789ab",
        "5f0c6a1e-9b2d-4c3e-8f70-0123456789a ",
        "5f0c6a1e--9b2d-4c3e-8f70-0123456789a",
    };
    uint8_t id[16] = { 0 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (proto_uuid_parse (bad[i], strlen (bad[i]), id), -1);
    /* right text, wrong length given */
    assert_int_equal (proto_uuid_parse ("5f0c6a1e-9b2d-4c3e-8f70-0123456789ab", 35, id), -1);
    assert_int_equal (proto_uuid_parse (NULL, 36, id), -1);
    /* Every position: a non-hex digit where a digit goes, a digit where a
       dash goes. */
    for (size_t at = 0; at < PROTO_UUID_LEN; at++) {
        char text[] = "5f0c6a1e-9b2d-4c3e-8f70-0123456789ab";
        text[at] = text[at] == '-' ? '0' : 'g';
        assert_int_equal (proto_uuid_parse (text, PROTO_UUID_LEN, id), -1);
    }
}

static void
test_limits_from_env_overrides_and_rejects (void **state)
{
    proto_limits_t limits;
    unsetenv ("HERALD_USER_ID_MAX");
    unsetenv ("HERALD_DESCRIPTION_MAX");
    unsetenv ("HERALD_STATUS_MAX");
    assert_int_equal (proto_limits_from_env (&limits), 0);
    assert_int_equal (limits.user_id_max, PROTO_USER_ID_MAX_DEFAULT);
    assert_int_equal (limits.description_max, PROTO_DESCRIPTION_MAX_DEFAULT);
    assert_int_equal (limits.status_max, PROTO_STATUS_MAX_DEFAULT);
    setenv ("HERALD_USER_ID_MAX", "12", 1);
    setenv ("HERALD_DESCRIPTION_MAX", "65536", 1);
    setenv ("HERALD_STATUS_MAX", "1", 1);
    assert_int_equal (proto_limits_from_env (&limits), 0);
    assert_int_equal (limits.user_id_max, 12);
    assert_int_equal (limits.description_max, 65536);
    assert_int_equal (limits.status_max, 1);
    static const char *const bad[] = {
        "0", "65537", "-5", "12x", "", " 12", "99999999999999999999"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv ("HERALD_STATUS_MAX", bad[i], 1);
        proto_limits_t untouched = { 1, 2, 3 };
        assert_int_equal (proto_limits_from_env (&untouched), -1);
        assert_int_equal (untouched.status_max, 3);
    }
    unsetenv ("HERALD_USER_ID_MAX");
    unsetenv ("HERALD_DESCRIPTION_MAX");
    unsetenv ("HERALD_STATUS_MAX");
}

static void
test_names_map_both_ways (void **state)
{
    for (int op = PROTO_OP_PING; op < PROTO_OP_COUNT_; op++) {
        const char *name = proto_op_name ((proto_op_t)op);
        assert_int_equal (proto_op_lookup (name, strlen (name)), op);
    }
    assert_string_equal (proto_op_name (PROTO_OP_NONE), "?");
    assert_string_equal (proto_op_name (PROTO_OP_COUNT_), "?");
    assert_int_equal (proto_op_lookup ("?", 1), PROTO_OP_NONE);
    assert_int_equal (proto_op_lookup ("pin", 3), PROTO_OP_NONE);
    for (int s = 0; s < PROTO_E_COUNT_; s++) {
        const char *name = proto_status_name ((proto_status_t)s);
        proto_status_t back;
        assert_int_equal (proto_status_lookup (name, strlen (name), &back), 0);
        assert_int_equal (back, s);
    }
    proto_status_t back;
    assert_int_equal (proto_status_lookup ("okay", 4, &back), -1);
    assert_string_equal (proto_status_name (PROTO_E_FEED_FULL), "feed_full");
    assert_string_equal (proto_status_name (PROTO_E_STORE_FULL), "store_full");
    assert_string_equal (proto_change_routing_key (PROTO_CHANGE_CREATED), "event.created");
    assert_string_equal (proto_change_routing_key (PROTO_CHANGE_UPDATED), "event.updated");
}

int
test_proto_text_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_check_string_precedence_and_limits),
        cmocka_unit_test (test_check_string_counts_bytes_not_characters),
        cmocka_unit_test (test_check_string_finds_every_byte_past_whole_words),
        cmocka_unit_test (test_utf8_accepts_every_well_formed_boundary),
        cmocka_unit_test (test_utf8_len_measures_one_sequence_within_its_bound),
        cmocka_unit_test (test_utf8_rejects_overlongs_surrogates_and_out_of_range),
        cmocka_unit_test (test_check_messages_read_like_fastapi),
        cmocka_unit_test (test_uuid_parse_and_format_round_trip),
        cmocka_unit_test (test_uuid_parse_rejects_non_canonical_forms),
        cmocka_unit_test (test_hex_digits_every_byte_at_every_position),
        cmocka_unit_test (test_limits_from_env_overrides_and_rejects),
        cmocka_unit_test (test_names_map_both_ways),
    };
    return cmocka_run_group_tests_name ("proto_text", tests, NULL, NULL);
}
