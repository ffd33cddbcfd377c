/*
 * api_reply — see api_reply.h. Bodies are dumped with JSON_COMPACT: the
 * renderer's direct text path for events (api_render.c) promises the same
 * bytes, so the two must agree on this flag.
 */
#include "api_reply.h"

#include <stdlib.h>
#include <string.h>

void
api_reply_clear (api_reply_t *reply)
{
    free (reply->body);
    memset (reply, 0, sizeof *reply);
}

int
api_reply_json (api_reply_t *reply, unsigned status, json_t *root)
{
    api_reply_clear (reply);
    reply->status = status;
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    if (!text) {
        reply->status = 500;
        return -1;
    }
    reply->body = text;
    reply->len = strlen (text);
    return 0;
}

int
api_reply_detail (api_reply_t *reply, unsigned status, const char *message)
{
    return api_reply_json (reply, status, json_pack ("{s:s}", "detail", message));
}

void
api_problem (json_t *detail, const char *type, const char *where, const char *field,
             const char *msg, json_t *input)
{
    json_t *loc = field ? json_pack ("[ss]", where, field) : json_pack ("[s]", where);
    json_t *item = json_pack ("{s:s,s:o,s:s}", "type", type, "loc", loc, "msg", msg);
    if (item && input)
        json_object_set (item, "input", input);
    if (item)
        json_array_append_new (detail, item);
}

int
api_reply_problems (api_reply_t *reply, json_t *detail)
{
    return api_reply_json (reply, 422, json_pack ("{s:o}", "detail", detail));
}
