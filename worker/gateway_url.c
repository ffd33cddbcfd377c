/*
 * gateway_url — see gateway_url.h.
 */
#include "gateway_url.h"

#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Whether u has part (a query, a fragment). */
static bool
s_has_part (CURLU *u, CURLUPart part)
{
    char *text = NULL;
    bool has = curl_url_get (u, part, &text, 0) == CURLUE_OK && text && *text;
    curl_free (text);
    return has;
}

CURLU *
gateway_url_parse (const char *base_url, char **path)
{
    CURLUcode rc = CURLUE_OUT_OF_MEMORY;
    char *scheme = NULL;
    const char *why = NULL;
    CURLU *u = curl_url ();
    *path = NULL;
    if (u
        && (rc = curl_url_set (u, CURLUPART_URL, base_url,
                               CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME))
               == CURLUE_OK
        && (rc = curl_url_get (u, CURLUPART_SCHEME, &scheme, 0)) == CURLUE_OK
        && (rc = curl_url_get (u, CURLUPART_PATH, path, 0)) == CURLUE_OK) {
        if (strcmp (scheme, "http") != 0 && strcmp (scheme, "https") != 0)
            why = "the scheme must be http or https";
        else if (s_has_part (u, CURLUPART_QUERY) || s_has_part (u, CURLUPART_FRAGMENT))
            why = "it must not have a query or a fragment";
        curl_free (scheme);
        if (!why) {
            size_t len = strlen (*path);
            while (len > 0 && (*path)[len - 1] == '/')
                (*path)[--len] = '\0';
            return u;
        }
        curl_free (*path);
        *path = NULL;
    }
    log_error ("gateway URL %s: %s", base_url, why ? why : curl_url_strerror (rc));
    curl_url_cleanup (u);
    return NULL;
}

const char *
gateway_url_text (CURLU *u, char *out, size_t size)
{
    char *text = NULL;
    if (curl_url_get (u, CURLUPART_URL, &text, 0) == CURLUE_OK)
        snprintf (out, size, "%s", text);
    else
        snprintf (out, size, "(the gateway)");
    curl_free (text);
    return out;
}
