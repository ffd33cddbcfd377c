/*
 * gateway_url — the gateway's base URL as the worker's HTTP client uses
 * it: parsed once into a libcurl URL handle (CURLU), so that each request
 * only sets its path on a copy of it (CURLOPT_CURLU). libcurl parsing the
 * whole URL and printing it back for every request was 15% of a PUT's
 * instructions (callgrind, 2026-12-06).
 */
#ifndef HERALD_WORKER_GATEWAY_URL_H
#define HERALD_WORKER_GATEWAY_URL_H

#include <curl/curl.h>
#include <stddef.h>

/* Parses base_url as CURLOPT_URL would (a missing scheme is guessed): http
   or https, a path prefix allowed, no query or fragment (they would go
   with every request). Returns the handle (curl_url_cleanup) with *path
   its path without the trailing slash ("" for "/"; curl_free), or NULL
   with the reason logged. */
CURLU *gateway_url_parse (const char *base_url, char **path);

/* u's whole URL as libcurl sends it, into out (size bytes), for messages;
   "(the gateway)" when it cannot be had. Returns out. */
const char *gateway_url_text (CURLU *u, char *out, size_t size);

#endif
