/*
 * api_route — see api_route.h. Matching is exact and case-sensitive; the
 * one trailing slash forgiven is dropped, not answered with a redirect.
 * Each route's row spells its Allow header next to the endpoints it
 * routes, so the two are read and changed together (a 405's Allow is
 * written by hand and must list exactly the methods with an endpoint).
 */
#include "api_route.h"

#include <string.h>
#include <strings.h>

static const char *s_endpoint_names[API_EP_COUNT_] = {
    [API_EP_UNKNOWN] = "unknown",
    [API_EP_CREATE] = "POST /events",
    [API_EP_LIST] = "GET /events",
    [API_EP_GET] = "GET /events/{event_id}",
    [API_EP_UPDATE] = "PUT /events/{event_id}",
    [API_EP_PING] = "GET /ping",
    [API_EP_HEALTHZ] = "GET /healthz",
    [API_EP_READYZ] = "GET /readyz",
    [API_EP_METRICS] = "GET /metrics",
    [API_EP_OPENAPI] = "GET /openapi.json",
    [API_EP_DOCS] = "GET /docs",
};

const char *
api_endpoint_name (api_endpoint_t ep)
{
    return ep > API_EP_UNKNOWN && ep < API_EP_COUNT_ ? s_endpoint_names[ep] : "unknown";
}

bool
api_endpoint_has_body (api_endpoint_t ep)
{
    return ep == API_EP_CREATE || ep == API_EP_UPDATE;
}

typedef struct {
    const char *path;
    api_endpoint_t get; /* GET and HEAD */
    api_endpoint_t post;
    api_endpoint_t put;
    const char *allow;
} s_route_t;

static const s_route_t s_routes[] = {
    { "/events", API_EP_LIST, API_EP_CREATE, API_EP_UNKNOWN, "GET, HEAD, POST" },
    { "/ping", API_EP_PING, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/healthz", API_EP_HEALTHZ, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/readyz", API_EP_READYZ, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/metrics", API_EP_METRICS, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/openapi.json", API_EP_OPENAPI, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
    { "/docs", API_EP_DOCS, API_EP_UNKNOWN, API_EP_UNKNOWN, "GET, HEAD" },
};
static const s_route_t s_event_route = { "/events/{event_id}", API_EP_GET, API_EP_UNKNOWN,
                                         API_EP_UPDATE, "GET, HEAD, PUT" };

/* Picks route's endpoint for method: 0 with *ep set, or -1 with reply the
   405 carrying route's Allow header. */
static int
s_pick (const s_route_t *route, const char *method, api_endpoint_t *ep, api_reply_t *reply)
{
    api_endpoint_t pick = API_EP_UNKNOWN;
    if (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0)
        pick = route->get;
    else if (strcmp (method, "POST") == 0)
        pick = route->post;
    else if (strcmp (method, "PUT") == 0)
        pick = route->put;
    if (pick == API_EP_UNKNOWN) {
        api_reply_detail (reply, 405, "Method Not Allowed");
        reply->allow = route->allow;
        return -1;
    }
    *ep = pick;
    return 0;
}

int
api_resolve (const char *method, const char *path, api_endpoint_t *ep, const char **id,
             size_t *id_len, api_reply_t *reply)
{
    *ep = API_EP_UNKNOWN;
    *id = NULL;
    *id_len = 0;
    size_t len = strlen (path);
    if (len > 1 && path[len - 1] == '/')
        len--;
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++)
        if (strlen (s_routes[i].path) == len && memcmp (s_routes[i].path, path, len) == 0)
            return s_pick (&s_routes[i], method, ep, reply);
    static const char prefix[] = "/events/";
    size_t plen = sizeof prefix - 1;
    if (len > plen && memcmp (path, prefix, plen) == 0 && !memchr (path + plen, '/', len - plen)) {
        *id = path + plen;
        *id_len = len - plen;
        return s_pick (&s_event_route, method, ep, reply);
    }
    api_reply_detail (reply, 404, "Not Found");
    return -1;
}

bool
api_content_type_is_json (const char *value)
{
    if (!value)
        return true;
    while (*value == ' ' || *value == '\t')
        value++;
    static const char json[] = "application/json";
    size_t n = sizeof json - 1;
    if (strncasecmp (value, json, n) != 0)
        return false;
    value += n;
    while (*value == ' ' || *value == '\t')
        value++;
    return *value == '\0' || *value == ';';
}
