/*
 * fuzz_batch — the batch envelope's checks (proto_batch_decode, proto.h),
 * shared by fuzz_proto_request (request batches) and fuzz_proto_reply (ok
 * batch replies): every input is also read as a batch.
 */
#ifndef HERALD_FUZZ_BATCH_H
#define HERALD_FUZZ_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes data as a batch (is_reply: an ok reply) and checks the contract:
   the small-frame reader and msgpack-c agree; a failure explains itself
   and hands out no frames; on success 1..PROTO_BATCH_MAX frames, each
   non-empty and inside data, that re-encode into a batch decoding to the
   same frames. */
void fuzz_check_batch (const uint8_t *data, size_t size, bool is_reply);

#endif
