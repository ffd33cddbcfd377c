/* assets.h — static files embedded in herald-gateway.

   The OpenAPI document (GET /openapi.json) and the documentation page
   (GET /docs) are compiled into the binary from gateway/assets/openapi.json
   and gateway/assets/docs.html, so a gateway needs no files at run time and
   always serves the description of the API it implements. The C arrays are
   generated at build time by embed.cmake; editing either file rebuilds them.

   Each array holds the file's exact bytes followed by one NUL byte that is
   not counted in the matching _len, so the contents may also be read as a
   C string. */
#ifndef HERALD_GATEWAY_ASSETS_H
#define HERALD_GATEWAY_ASSETS_H

#include <stddef.h>

extern const unsigned char gateway_asset_openapi_json[];
extern const size_t gateway_asset_openapi_json_len;
extern const unsigned char gateway_asset_docs_html[];
extern const size_t gateway_asset_docs_html_len;

#endif
