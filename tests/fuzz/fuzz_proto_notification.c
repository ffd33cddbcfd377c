/*
 * fuzz_proto_notification — proto_notification_decode on arbitrary bytes:
 * anything can be published to the worker's queue.
 *
 * Checks that failures explain themselves, that a decoded event passes the
 * limits it was decoded with and borrows from the input, and that it
 * re-encodes to a body that decodes to the same notification.
 */
#include "fuzz_check.h"
#include "proto.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    proto_limits_t limits = proto_limits_default ();
    proto_change_t n;
    proto_error_t err;
    if (proto_notification_decode (data, size, &limits, &n, &err) != PROTO_DECODE_OK) {
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
    FUZZ_CHECK (again.event.updated_at == n.event.updated_at && again.event.seq == n.event.seq);
    msgpack_sbuffer_destroy (&sb);
    return 0;
}
