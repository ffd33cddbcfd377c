/*
 * listen_addr — an HTTP listen value ("host:port", "[v6]:port": the
 * gateway's --listen, every service's --metrics-listen) resolved to the
 * socket address libmicrohttpd binds (numeric port, any address family
 * getaddrinfo gives first), and the loopback test protected mode uses.
 */
#ifndef HERALD_LISTEN_ADDR_H
#define HERALD_LISTEN_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* Resolves listen into addr, *v6 telling the family. Returns 0, or -1
   after logging why (not host:port, host too long, not resolvable). */
int listen_addr_resolve (const char *listen, struct sockaddr_storage *addr, bool *v6);

/* Whether addr is a loopback address: 127/8, ::1, or 127/8 mapped into
   IPv6. */
bool listen_addr_is_loopback (const struct sockaddr *addr);

#endif
