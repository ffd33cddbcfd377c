/*
 * fuzz_gateway — checks shared by the fuzz targets of the gateway's request
 * layer (gateway/api.h): what an error reply must look like, and that a
 * request the gateway accepted is one the store's decoder accepts as the
 * same request. The targets call these on every input, so any violation is
 * an abort (a crash artifact) rather than a silent pass.
 */
#ifndef HERALD_FUZZ_GATEWAY_H
#define HERALD_FUZZ_GATEWAY_H

#include "api.h"
#include "fuzz_check.h"

/* Checks an error reply: status is one of allowed[n] (e.g. 400, 422), the
   body is a JSON object with a "detail" member — a string for 400 / 404 /
   405, a non-empty array of {type, loc, msg} items (loc a non-empty array
   of strings) for 422. Returns the parsed body (new reference: the caller
   json_decref's it) for further checks. */
json_t *fuzz_check_error_reply (const api_reply_t *reply, const unsigned *allowed, size_t n);

/* True when the 422 body holds an item whose loc is [where, field]. */
bool fuzz_detail_has_loc (json_t *body, const char *where, const char *field);

/* Encodes req with proto_request_encode, decodes it back with
   proto_request_decode under limits and checks every field came back the
   same. The op, has bits and strings are compared; rid is set to 1 first
   (the gateway sets it before sending). */
void fuzz_check_request_roundtrip (proto_request_t *req, const proto_limits_t *limits);

/* True when a decoded string (ptr, len) equals the JSON string value. */
bool fuzz_same_json_string (json_t *value, proto_str_t str);

#endif
