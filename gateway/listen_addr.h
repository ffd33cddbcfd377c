/*
 * listen_addr — the gateway's --listen value ("host:port", "[v6]:port")
 * resolved to the socket address libmicrohttpd binds (numeric port, any
 * address family getaddrinfo gives first).
 */
#ifndef HERALD_GATEWAY_LISTEN_ADDR_H
#define HERALD_GATEWAY_LISTEN_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* Resolves listen into addr, *v6 telling the family. Returns 0, or -1
   after logging why (not host:port, host too long, not resolvable). */
int listen_addr_resolve (const char *listen, struct sockaddr_storage *addr, bool *v6);

#endif
