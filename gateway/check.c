/* check — see check.h. */
#include "check.h"

#include "log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t
s_discard (char *data, size_t size, size_t nmemb, void *arg)
{
    return size * nmemb;
}

int
check_gateway (const char *listen, int timeout_ms)
{
    char url[512];
    const char *colon = strrchr (listen, ':');
    if (!colon) {
        log_error ("listen address '%s' is not host:port", listen);
        return -1;
    }
    int hlen = (int)(colon - listen);
    if ((hlen == 7 && strncmp (listen, "0.0.0.0", 7) == 0) || hlen == 0)
        snprintf (url, sizeof url, "http://127.0.0.1%s/readyz", colon);
    else if (hlen == 4 && strncmp (listen, "[::]", 4) == 0)
        snprintf (url, sizeof url, "http://[::1]%s/readyz", colon);
    else
        snprintf (url, sizeof url, "http://%s/readyz", listen);
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != 0)
        return -1;
    CURL *curl = curl_easy_init ();
    if (!curl) {
        curl_global_cleanup ();
        return -1;
    }
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
    CURLcode rc = curl_easy_perform (curl);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup (curl);
    curl_global_cleanup ();
    if (rc != CURLE_OK) {
        log_error ("%s: %s", url, curl_easy_strerror (rc));
        return -1;
    }
    if (status != 200) {
        log_error ("%s answered %ld", url, status);
        return -1;
    }
    return 0;
}
