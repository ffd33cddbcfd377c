/*
 * fuzz_gateway_route — api_resolve and api_content_type_is_json on fuzzed
 * request heads. The input is "<method> <path>[\n<content-type>]"; method
 * and path become C strings as libmicrohttpd gives them (an embedded NUL
 * ends them).
 *
 * The oracle is the API's route table (the README's, see
 * docs/ARCHITECTURE.md §2), written out here on its own: a
 * path (one trailing slash ignored) is either one of the fixed routes or
 * /events/{x} with x non-empty and slash-free; on a known path the method
 * either resolves to the endpoint the table names (HEAD as GET) or gives a
 * 405 whose Allow list omits it; on any other path a 404. Error replies
 * carry a JSON {"detail": "..."}.
 */
#include "fuzz_gateway.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *path;
    api_endpoint_t get, post, put;
} s_route_t;

static const s_route_t s_table[] = {
    { "/events", API_EP_LIST, API_EP_CREATE, API_EP_UNKNOWN },
    { "/ping", API_EP_PING, API_EP_UNKNOWN, API_EP_UNKNOWN },
    { "/healthz", API_EP_HEALTHZ, API_EP_UNKNOWN, API_EP_UNKNOWN },
    { "/readyz", API_EP_READYZ, API_EP_UNKNOWN, API_EP_UNKNOWN },
    { "/metrics", API_EP_METRICS, API_EP_UNKNOWN, API_EP_UNKNOWN },
    { "/openapi.json", API_EP_OPENAPI, API_EP_UNKNOWN, API_EP_UNKNOWN },
    { "/docs", API_EP_DOCS, API_EP_UNKNOWN, API_EP_UNKNOWN },
};
static const s_route_t s_by_id = { "/events/{event_id}", API_EP_GET, API_EP_UNKNOWN,
                                   API_EP_UPDATE };

/* The route the table gives path, or NULL. */
static const s_route_t *
s_expect_route (const char *path)
{
    size_t len = strlen (path);
    if (len > 1 && path[len - 1] == '/')
        len--;
    for (size_t i = 0; i < sizeof s_table / sizeof s_table[0]; i++)
        if (strlen (s_table[i].path) == len && strncmp (s_table[i].path, path, len) == 0)
            return &s_table[i];
    if (len > 8 && strncmp (path, "/events/", 8) == 0 && !memchr (path + 8, '/', len - 8))
        return &s_by_id;
    return NULL;
}

static api_endpoint_t
s_expect_endpoint (const s_route_t *route, const char *method)
{
    if (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0)
        return route->get;
    if (strcmp (method, "POST") == 0)
        return route->post;
    if (strcmp (method, "PUT") == 0)
        return route->put;
    return API_EP_UNKNOWN;
}

/* True when the comma-separated list holds token. */
static bool
s_list_has (const char *list, const char *token)
{
    size_t n = strlen (token);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn (p, ",");
        if (len == n && n > 0 && strncmp (p, token, n) == 0)
            return true;
        p += len;
    }
    return false;
}

static void
s_check_route (const char *method, const char *path)
{
    api_endpoint_t ep = (api_endpoint_t)-1;
    const char *id = path;
    size_t id_len = 99;
    api_reply_t reply = { 0 };
    int rc = api_resolve (method, path, &ep, &id, &id_len, &reply);
    const s_route_t *route = s_expect_route (path);
    api_endpoint_t expect = route ? s_expect_endpoint (route, method) : API_EP_UNKNOWN;
    FUZZ_CHECK ((rc == 0) == (expect != API_EP_UNKNOWN));
    if (rc == 0) {
        FUZZ_CHECK (ep == expect);
        FUZZ_CHECK (reply.status == 0 && reply.body == NULL);
        FUZZ_CHECK (strcmp (api_endpoint_name (ep), "unknown") != 0);
        if (route == &s_by_id) {
            FUZZ_CHECK (id == path + 8 && id_len >= 1 && !memchr (id, '/', id_len));
            FUZZ_CHECK (id_len == strlen (path) - 8 - (path[strlen (path) - 1] == '/'));
        } else
            FUZZ_CHECK (id == NULL && id_len == 0);
        FUZZ_CHECK (api_endpoint_has_body (ep) == (ep == API_EP_CREATE || ep == API_EP_UPDATE));
        return;
    }
    FUZZ_CHECK (ep == API_EP_UNKNOWN);
    static const unsigned allowed[] = { 404, 405 };
    json_t *body = fuzz_check_error_reply (&reply, allowed, 2);
    FUZZ_CHECK ((reply.status == 405) == (route != NULL));
    if (reply.status == 405) {
        FUZZ_CHECK (reply.allow != NULL && s_list_has (reply.allow, "GET"));
        FUZZ_CHECK (!s_list_has (reply.allow, method));
        FUZZ_CHECK (s_list_has (reply.allow, "POST") == (route->post != API_EP_UNKNOWN));
        FUZZ_CHECK (s_list_has (reply.allow, "PUT") == (route->put != API_EP_UNKNOWN));
    } else
        FUZZ_CHECK (reply.allow == NULL);
    json_decref (body);
    api_reply_clear (&reply);
}

static void
s_check_content_type (const char *value)
{
    bool json = api_content_type_is_json (value);
    const char *p = value + strspn (value, " \t");
    bool prefix = strncasecmp (p, "application/json", 16) == 0;
    FUZZ_CHECK (!json || prefix);
    if (prefix) {
        /* What follows the media type decides: parameters or nothing. */
        const char *rest = p + 16 + strspn (p + 16, " \t");
        FUZZ_CHECK (json == (*rest == '\0' || *rest == ';'));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    FUZZ_CHECK (text != NULL);
    memcpy (text, data, size);
    text[size] = '\0';
    char *nl = memchr (text, '\n', size);
    if (nl)
        *nl = '\0';
    char *space = strchr (text, ' ');
    const char *method = text, *path = "";
    if (space) {
        *space = '\0';
        path = space + 1;
    }
    s_check_route (method, path);
    FUZZ_CHECK (api_content_type_is_json (NULL));
    if (nl)
        s_check_content_type (nl + 1);
    free (text);
    return 0;
}
