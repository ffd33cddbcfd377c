/*
 * auth — see auth.h. The token set is the only state that changes after
 * start; everything else (the path, insecure) is fixed at auth_new.
 */
#include "auth.h"

#include "listen_addr.h"

#include "log.h"
#include "tokens.h"

#include <assert.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct _auth_t {
    char *path; /* NULL: no tokens file */
    bool insecure;
    pthread_rwlock_t lock; /* guards tokens */
    tokens_t *tokens;
};

/* WWW-Authenticate values (RFC 6750 §3). */
#define S_CHALLENGE "Bearer realm=\"herald\""
static const char s_challenge_missing[] = S_CHALLENGE;
static const char s_challenge_invalid[] = S_CHALLENGE ", error=\"invalid_token\"";
static const char s_challenge_read[] = S_CHALLENGE ", error=\"insufficient_scope\", scope=\"read\"";
static const char s_challenge_write[] =
    S_CHALLENGE ", error=\"insufficient_scope\", scope=\"write\"";
static const char s_challenge_admin[] =
    S_CHALLENGE ", error=\"insufficient_scope\", scope=\"admin\"";

static tokens_t *
s_load (const char *path)
{
    char err[512];
    bool world_readable = false;
    tokens_t *tokens = tokens_load (path, &world_readable, err, sizeof err);
    if (!tokens) {
        log_error ("tokens file %s", err);
        return NULL;
    }
    if (world_readable)
        log_warn ("tokens file %s is readable by every user: chmod o-r it (it holds only "
                  "hashes, but who may call the API is nobody else's business)",
                  path);
    if (tokens_size (tokens) == 0)
        log_warn ("tokens file %s holds no token: every protected endpoint answers 401", path);
    return tokens;
}

auth_t *
auth_new (const char *tokens_path, bool insecure)
{
    auth_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->insecure = insecure;
    if (pthread_rwlock_init (&self->lock, NULL) != 0) {
        free (self);
        return NULL;
    }
    if (tokens_path) {
        self->path = strdup (tokens_path);
        self->tokens = self->path ? s_load (tokens_path) : NULL;
        if (!self->tokens) {
            auth_destroy (&self);
            return NULL;
        }
        log_info ("API tokens: %zu from %s", tokens_size (self->tokens), tokens_path);
    } else if (insecure)
        log_warn ("--insecure and no tokens file: every client may call every endpoint");
    else
        log_info ("protected mode: no --tokens-file, so only loopback clients are answered");
    return self;
}

void
auth_destroy (auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    auth_t *self = *self_p;
    tokens_destroy (&self->tokens);
    pthread_rwlock_destroy (&self->lock);
    free (self->path);
    free (self);
    *self_p = NULL;
}

int
auth_reload (auth_t *self)
{
    assert (self);
    if (!self->path) {
        log_info ("SIGHUP: no tokens file to reload");
        return 0;
    }
    tokens_t *tokens = s_load (self->path);
    if (!tokens) {
        log_error ("tokens file not reloaded: the %zu tokens loaded before stay in use",
                   tokens_size (self->tokens));
        return -1;
    }
    pthread_rwlock_wrlock (&self->lock);
    tokens_t *old = self->tokens;
    self->tokens = tokens;
    pthread_rwlock_unlock (&self->lock);
    tokens_destroy (&old);
    log_info ("API tokens reloaded: %zu from %s", tokens_size (tokens), self->path);
    return 0;
}

bool
auth_is_loopback (const struct sockaddr *addr)
{
    return listen_addr_is_loopback (addr);
}

int
auth_check_listen (const auth_t *self, const struct sockaddr *addr)
{
    assert (self);
    if (self->path || self->insecure || auth_is_loopback (addr))
        return 0;
    log_error ("protected mode: refusing to listen on a non-loopback address without API "
               "tokens. Make tokens with herald-token and pass --tokens-file PATH "
               "(HERALD_TOKENS_FILE), or listen on 127.0.0.1, or give --insecure "
               "(HERALD_INSECURE=1) to serve everyone without authentication");
    return -1;
}

unsigned
auth_scope_for (api_endpoint_t ep)
{
    switch (ep) {
    case API_EP_LIST:
    case API_EP_GET:
        return TOKENS_SCOPE_READ;
    case API_EP_CREATE:
    case API_EP_UPDATE:
        return TOKENS_SCOPE_WRITE;
    case API_EP_METRICS:
        return TOKENS_SCOPE_ADMIN;
    default:
        return 0;
    }
}

/* A character of RFC 6750's b64token, '=' padding aside. */
static bool
s_token_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || (c != '\0' && strchr ("-._~+/", c) != NULL);
}

/* Finds the token in an "Authorization: Bearer <token>" value: the scheme
   in any case, then blanks, then the b64token of RFC 6750 §2.1, then
   optional blanks. Returns 0 with *token and *len set, -1 when value is not a
   well-formed Bearer credential. */
static int
s_bearer (const char *value, const char **token, size_t *len)
{
    static const char scheme[] = "Bearer";
    size_t n = sizeof scheme - 1;
    if (strncasecmp (value, scheme, n) != 0 || (value[n] != ' ' && value[n] != '\t'))
        return -1;
    const char *p = value + n;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *start = p;
    while (s_token_char (*p))
        p++;
    while (*p == '=')
        p++;
    size_t token_len = (size_t)(p - start);
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '\0' || token_len == 0)
        return -1;
    *token = start;
    *len = token_len;
    return 0;
}

static const char *
s_scope_challenge (unsigned scope)
{
    return scope == TOKENS_SCOPE_READ    ? s_challenge_read
           : scope == TOKENS_SCOPE_WRITE ? s_challenge_write
                                         : s_challenge_admin;
}

int
auth_check (auth_t *self, api_endpoint_t ep, const char *authorization,
            const struct sockaddr *client, api_reply_t *reply)
{
    assert (self);
    if (!self->path) {
        if (self->insecure || (client && auth_is_loopback (client)))
            return 0;
        api_reply_detail (reply, 403,
                          "Protected mode: this gateway has no API tokens configured and "
                          "answers only loopback clients (configure --tokens-file)");
        return -1;
    }
    unsigned need = auth_scope_for (ep);
    if (need == 0)
        return 0;
    const char *token = NULL;
    size_t len = 0;
    if (!authorization || s_bearer (authorization, &token, &len) != 0) {
        api_reply_detail (reply, 401, "Not authenticated");
        reply->www_authenticate = s_challenge_missing;
        return -1;
    }
    char name[TOKENS_NAME_MAX + 1] = "";
    pthread_rwlock_rdlock (&self->lock);
    const char *found = NULL;
    unsigned scopes = tokens_lookup (self->tokens, token, len, &found);
    if (found)
        snprintf (name, sizeof name, "%s", found);
    pthread_rwlock_unlock (&self->lock);
    if (scopes == 0) {
        api_reply_detail (reply, 401, "Invalid token");
        reply->www_authenticate = s_challenge_invalid;
        return -1;
    }
    if (!(scopes & need)) {
        char msg[160];
        snprintf (msg, sizeof msg, "Token '%s' lacks the '%s' scope", name,
                  tokens_scope_name (need));
        api_reply_detail (reply, 403, msg);
        reply->www_authenticate = s_scope_challenge (need);
        return -1;
    }
    return 0;
}
