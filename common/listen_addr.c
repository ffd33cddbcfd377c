/*
 * listen_addr — see listen_addr.h.
 */
#include "listen_addr.h"

#include "log.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

/* Resolves "host:port" ("[v6]:port" too) to a socket address. */
int
listen_addr_resolve (const char *listen, struct sockaddr_storage *addr, bool *v6)
{
    const char *colon = strrchr (listen, ':');
    if (!colon || colon == listen || colon[1] == '\0') {
        log_error ("listen address '%s' is not host:port", listen);
        return -1;
    }
    char host[256];
    size_t hlen = (size_t)(colon - listen);
    if (listen[0] == '[' && hlen >= 2 && listen[hlen - 1] == ']') {
        listen++;
        hlen -= 2;
    }
    if (hlen >= sizeof host) {
        log_error ("listen host too long in '%s'", listen);
        return -1;
    }
    memcpy (host, listen, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo (host, colon + 1, &hints, &res);
    if (rc != 0 || !res) {
        log_error ("cannot resolve listen address '%s': %s", listen, gai_strerror (rc));
        return -1;
    }
    memcpy (addr, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo (res);
    return 0;
}

bool
listen_addr_is_loopback (const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        return (ntohl (in->sin_addr.s_addr) >> 24) == 127;
    }
    if (addr->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)addr)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK (a) || (IN6_IS_ADDR_V4MAPPED (a) && a->s6_addr[12] == 127);
    }
    return false;
}
