/*
 * test_proto — shared pieces of the proto unit tests: a tiny MessagePack
 * frame builder for hand-made (often deliberately wrong) frames, and the
 * test groups each test_proto_*.c file contributes to the one test_proto
 * program.
 */
#ifndef HERALD_TEST_PROTO_H
#define HERALD_TEST_PROTO_H

#include "proto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A frame under construction. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} frame_t;

void frame_init (frame_t *f);
void frame_free (frame_t *f);
void frame_str (frame_t *f, const char *text);              /* NUL-terminated */
void frame_bytes (frame_t *f, const void *ptr, size_t len); /* str of len bytes */
/* Starts a request map of extra + 3 entries: v, op, rid already written. */
void frame_request (frame_t *f, const char *op, uint64_t rid, uint32_t extra);

/* Decodes f as a request with default limits; returns the result. */
proto_decode_t frame_decode_request (frame_t *f, proto_request_t *req, proto_error_t *err);

#define UUID_TEXT "5f0c6a1e-9b2d-4c3e-8f70-0123456789ab"

/* Which decoder a frame is meant for. */
typedef enum { K_REQUEST, K_REPLY, K_NOTIFICATION } kind_t;

/* Decodes len bytes copied to an exact-size heap block (ASan catches any
   read past the end) with the decoder of kind and default limits; on
   failure asserts the error message is set. Frees what it decoded. */
proto_decode_t frame_decode_kind (kind_t kind, const void *data, size_t len, proto_error_t *err);

/* frame_decode_kind on a request frame under construction. */
proto_decode_t frame_decode_checked (frame_t *f, proto_error_t *err);

/* A valid encoded sample of each family (sb initialised here). */
void sample_frame (kind_t kind, msgpack_sbuffer *sb);

/* A fully populated sample event (strings are literals). */
proto_event_t sample_event (unsigned n);

/* Test groups: each returns the number of failed tests. */
int test_proto_text_run (void);
int test_proto_codec_run (void);
int test_proto_malformed_run (void);
int test_proto_hostile_run (void);
int test_proto_pack_run (void);
int test_proto_moved_run (void);
int test_proto_created_us_run (void);
int test_proto_batch_run (void);
int test_proto_peek_run (void);
int test_proto_receipt_run (void);

#endif
