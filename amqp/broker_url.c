/*
 * broker_url — see broker_url.h. A list is cut at its commas without
 * copying; each entry is checked with rabbitmq-c's own parser, the one
 * broker_new uses, so a list that passes here connects.
 */
#include "broker_url.h"

#include "log.h"

#include <amqp.h>
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the entry that starts at p: up to the next comma or the end. */
static size_t
s_entry_len (const char *p)
{
    const char *comma = strchr (p, ',');
    return comma ? (size_t)(comma - p) : strlen (p);
}

/* Checks one URL, the len bytes at url; number is its place in a list of
   more than one, 0 for a lone URL. 0, or -1 with the reason in err. */
static int
s_check_one (const char *url, size_t len, int number, char *err, size_t size)
{
    char where[32] = "";
    if (number > 0)
        snprintf (where, sizeof where, "entry %d of the list: ", number);
    if (number > 0 && len == 0) {
        snprintf (err, size, "%sempty (a list is URL,URL,... with no empty entry)", where);
        return -1;
    }
    char *copy = strndup (url, len);
    if (!copy) {
        snprintf (err, size, "out of memory");
        return -1;
    }
    struct amqp_connection_info info;
    amqp_default_connection_info (&info);
    int rc = amqp_parse_url (copy, &info);
    if (rc != AMQP_STATUS_OK)
        snprintf (err, size, "%s'%.*s' is not an AMQP URL (amqp://user:pass@host:port/vhost): %s",
                  where, (int)len, url, amqp_error_string2 (rc));
    else if (info.ssl)
        snprintf (err, size, "%samqps:// is not supported", where);
    free (copy);
    return rc == AMQP_STATUS_OK && !info.ssl ? 0 : -1;
}

int
broker_url_check (const char *list, char *err, size_t size)
{
    const char *p = list ? list : "";
    bool several = strchr (p, ',') != NULL;
    for (int number = 1;; number++) {
        if (number > BROKER_URLS_MAX) {
            snprintf (err, size, "more than %d URLs in the list", BROKER_URLS_MAX);
            return -1;
        }
        size_t len = s_entry_len (p);
        if (s_check_one (p, len, several ? number : 0, err, size) != 0)
            return -1;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

/* The password of the len bytes in buf, checked, into out. 0, or -1 logged. */
static int
s_password_take (const char *path, const char *buf, size_t len, char *out)
{
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len == 0 || len > BROKER_PASSWORD_MAX) {
        if (len == 0)
            log_error ("--amqp-password-file %s: empty", path);
        else
            log_error ("--amqp-password-file %s: longer than %d bytes", path, BROKER_PASSWORD_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            log_error ("--amqp-password-file %s: holds a control character or a second line", path);
            return -1;
        }
    memcpy (out, buf, len);
    out[len] = '\0';
    return 0;
}

/* Reads the password of path into out (BROKER_PASSWORD_MAX + 1 bytes).
   0, or -1 logged. */
static int
s_password_read (const char *path, char *out)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        log_error ("--amqp-password-file %s: %s", path, strerror (errno));
        return -1;
    }
    char buf[BROKER_PASSWORD_MAX + 3];
    size_t len = fread (buf, 1, sizeof buf, file);
    int failed = ferror (file);
    fclose (file);
    int rc = -1;
    if (failed)
        log_error ("--amqp-password-file %s: read error", path);
    else
        rc = s_password_take (path, buf, len, out);
    explicit_bzero (buf, sizeof buf);
    return rc;
}

/* Writes the URL of the len bytes at url, its password replaced by
   password, into out (size bytes, NUL-terminated). Returns the bytes
   written (NUL excluded); -1 when the URL names no user; -2 when it does
   not fit. */
static long
s_with_password (const char *url, size_t len, const char *password, char *out, size_t size)
{
    /* amqp://USER[:PASSWORD]@HOST...: the user info ends at the last '@'
       before the path. */
    const char *scheme = "amqp://";
    const char *end = url + len;
    const char *auth = len >= strlen (scheme) && strncmp (url, scheme, strlen (scheme)) == 0
                           ? url + strlen (scheme)
                           : NULL;
    const char *at = NULL;
    for (const char *p = auth; p && p < end && *p != '/'; p++)
        if (*p == '@')
            at = p;
    size_t user_len = 0;
    while (auth && auth + user_len < at && auth[user_len] != ':')
        user_len++;
    if (!at || user_len == 0)
        return -1;
    /* The password goes into the URL percent-encoded, but for the
       characters RFC 3986 leaves unreserved. */
    size_t n = (size_t)(auth - url) + user_len;
    if (n + 1 >= size)
        return -2;
    memcpy (out, url, n);
    out[n++] = ':';
    for (const char *p = password; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                     || strchr ("-._~", c);
        if (n + (plain ? 1 : 3) >= size)
            return -2;
        if (plain)
            out[n++] = (char)c;
        else
            n += (size_t)snprintf (out + n, 4, "%%%02X", c);
    }
    size_t rest = (size_t)(end - at);
    if (n + rest >= size)
        return -2;
    memcpy (out + n, at, rest);
    out[n + rest] = '\0';
    return (long)(n + rest);
}

int
broker_url_with_password_file (const char *list, const char *password_file, char *out, size_t size)
{
    assert (list && out && size > 0);
    size_t list_len = strlen (list);
    if (!password_file) {
        if (list_len >= size) {
            log_error ("--amqp-url: longer than %zu bytes", size - 1);
            return -1;
        }
        memcpy (out, list, list_len + 1);
        return 0;
    }
    char password[BROKER_PASSWORD_MAX + 1];
    if (s_password_read (password_file, password))
        return -1;
    size_t n = 0;
    long written = 0;
    for (const char *p = list;; p++) {
        size_t len = s_entry_len (p);
        if (n > 0 && n + 1 < size)
            out[n++] = ',';
        written = n + 1 < size ? s_with_password (p, len, password, out + n, size - n) : -2;
        if (written < 0)
            break;
        n += (size_t)written;
        p += len;
        if (!*p)
            break;
    }
    explicit_bzero (password, sizeof password);
    if (written == -1)
        log_error ("--amqp-password-file needs an --amqp-url that names a user in every URL "
                   "(amqp://USER@HOST:PORT/)");
    else if (written == -2)
        log_error ("--amqp-url with the password of %s: longer than %zu bytes", password_file,
                   size - 1);
    if (written < 0) {
        explicit_bzero (out, size);
        return -1;
    }
    return 0;
}

const char *
broker_url_from_options (options_t *opts, char *out, size_t size)
{
    assert (opts);
    if (broker_url_with_password_file (options_get (opts, "amqp-url")->str,
                                       options_get (opts, "amqp-password-file")->str, out, size))
        return NULL;
    return out;
}
