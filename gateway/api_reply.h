/*
 * api_reply — the HTTP response every step of the API produces, and the two
 * error bodies they share: {"detail": "message"} for 400 / 404 / 405 / 5xx,
 * and FastAPI's 422 problem list {"detail":[{"type","loc","msg","input"}]},
 * so users of the old service read the same errors.
 *
 * It sits below the router, the request parsers and the renderer, which all
 * fill an api_reply_t and append problems to the same list shape; keeping it
 * apart from the renderer is what lets the router (which the renderer needs
 * for api_endpoint_t) report a 404 without the two headers including each
 * other. A reply never holds a partial body: when out of memory it becomes
 * a 500 with no body, which the server sends empty.
 */
#ifndef HERALD_API_REPLY_H
#define HERALD_API_REPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* A response the server sends as is. body is heap memory (malloc) owned by
   the struct until api_reply_clear or until the server hands it to MHD;
   allow is a literal (the Allow header of a 405) or NULL; so is
   www_authenticate (the challenge of a 401 or 403, auth.h). */
typedef struct {
    unsigned status;
    char *body;
    size_t len;
    const char *allow;
    bool retry_after; /* add "Retry-After: 1" (503 when the backlog is full) */
    const char *www_authenticate;
} api_reply_t;

/* Frees the body and zeroes the reply; a no-op on a zeroed reply. */
void api_reply_clear (api_reply_t *reply);

/* Fills reply with status and {"detail": message}. Returns 0, or -1 when out
   of memory (reply then holds a fixed 500 body that needs no allocation:
   body NULL, status 500; the server sends an empty 500). */
int api_reply_detail (api_reply_t *reply, unsigned status, const char *message);

/* Fills reply with status and root dumped compactly; takes ownership of
   root (NULL means out of memory). Returns 0, or -1 with the empty 500 as
   in api_reply_detail. */
int api_reply_json (api_reply_t *reply, unsigned status, json_t *root);

/* Appends one problem {"type","loc":[where(,field)],"msg"(,"input")} to
   detail (a JSON array). input is borrowed, NULL to omit it (a value that
   is not valid text). An item that cannot be allocated is dropped. */
void api_problem (json_t *detail, const char *type, const char *where, const char *field,
                  const char *msg, json_t *input);

/* Fills reply with the 422 {"detail": detail}; takes ownership of detail.
   Returns 0, or -1 when out of memory (the empty 500). */
int api_reply_problems (api_reply_t *reply, json_t *detail);

#endif
