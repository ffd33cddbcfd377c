/*
 * fuzz_proto_notification — proto_notification_decode on arbitrary bytes:
 * anything can be published to the worker's queue.
 *
 * Checks that failures explain themselves, that a decoded event passes the
 * limits it was decoded with and borrows from the input, and that it
 * re-encodes to a body that decodes to the same notification. The same
 * bytes then go through the escaping of the line the worker prints
 * (worker/line.c): whatever they hold, the result is one line of printable
 * UTF-8 within the documented growth.
 */
#define _GNU_SOURCE /* memmem */
#include "fuzz_check.h"
#include "line.h"
#include "proto.h"
#include "proto_wire.h"

#include <stdlib.h>
#include <string.h>

/* line_escape on any bytes: no control character, no newline or Unicode
   line separator, nothing that is not UTF-8, at most LINE_ESCAPE_GROWTH
   bytes per input byte. */
static void
s_check_line (const uint8_t *data, size_t size)
{
    char *out = malloc (LINE_ESCAPE_GROWTH * size + 1);
    FUZZ_CHECK (out);
    size_t n = line_escape ((const char *)data, size, out);
    FUZZ_CHECK (n <= LINE_ESCAPE_GROWTH * size && out[n] == '\0' && strlen (out) == n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK ((unsigned char)out[i] >= 0x20 && out[i] != 0x7F);
    FUZZ_CHECK (n == 0 || proto_check_string (out, n, n) == PROTO_STR_OK);
    FUZZ_CHECK (!memmem (out, n, "\xE2\x80\xA8", 3) && !memmem (out, n, "\xE2\x80\xA9", 3));
    FUZZ_CHECK (!memmem (out, n, "\xC2\x85", 2)); /* NEL, the one C1 a terminal breaks on */
    free (out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    proto_limits_t limits = proto_limits_default ();
    proto_change_t n;
    proto_error_t err;
    s_check_line (data, size);
    /* The small-frame reader and msgpack-c agree (wire_unpack_small). */
    proto_change_t generic;
    proto_error_t generic_err;
    proto_decode_t rc = proto_notification_decode (data, size, &limits, &n, &err);
    wire_set_generic_only (true);
    FUZZ_CHECK (proto_notification_decode (data, size, &limits, &generic, &generic_err) == rc);
    wire_set_generic_only (false);
    FUZZ_CHECK (strcmp (err.message, generic_err.message) == 0);
    if (rc == PROTO_DECODE_OK) {
        FUZZ_SAME_ENCODING (proto_notification_encode, &n, &generic);
    }
    if (rc != PROTO_DECODE_OK) {
        FUZZ_CHECK (err.message[0] != '\0');
        return 0;
    }
    FUZZ_CHECK (n.kind == PROTO_CHANGE_CREATED || n.kind == PROTO_CHANGE_UPDATED);
    const proto_str_t *strs[] = { &n.event.user_id, &n.event.description, &n.event.status };
    const size_t maxes[] = { limits.user_id_max, limits.description_max, limits.status_max };
    for (int i = 0; i < 3; i++) {
        FUZZ_CHECK (FUZZ_INSIDE (strs[i]->ptr, strs[i]->len, data, size));
        FUZZ_CHECK (proto_check_string (strs[i]->ptr, strs[i]->len, maxes[i]) == PROTO_STR_OK);
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    FUZZ_CHECK (proto_notification_encode (&n, &sb) == 0);
    proto_change_t again;
    FUZZ_CHECK (proto_notification_decode (sb.data, sb.size, &limits, &again, &err)
                == PROTO_DECODE_OK);
    FUZZ_CHECK (again.seq == n.seq && again.kind == n.kind);
    FUZZ_CHECK (memcmp (again.event.id, n.event.id, 16) == 0);
    FUZZ_CHECK (again.event.description.len == n.event.description.len);
    FUZZ_CHECK (
        memcmp (again.event.description.ptr, n.event.description.ptr, n.event.description.len)
        == 0);
    FUZZ_CHECK (again.event.created_at == n.event.created_at);
    FUZZ_CHECK (again.event.created_us == n.event.created_us);
    FUZZ_CHECK (n.event.created_us <= PROTO_CREATED_US_MAX);
    FUZZ_CHECK (again.event.updated_at == n.event.updated_at && again.event.seq == n.event.seq);
    msgpack_sbuffer_destroy (&sb);
    return 0;
}
