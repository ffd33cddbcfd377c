/*
 * check — `herald-gateway --check`: is a gateway at this listen address
 * ready (its /readyz answers 200, i.e. it is up and reaches the store)?
 * Docker health checks and scripts use it.
 */
#ifndef HERALD_GATEWAY_CHECK_H
#define HERALD_GATEWAY_CHECK_H

/* Returns 0 when GET http://<listen>/readyz answers 200 within timeout_ms,
   -1 otherwise (after logging why). A wildcard host (0.0.0.0, ::) is
   probed on loopback. Blocks up to timeout_ms. */
int check_gateway (const char *listen, int timeout_ms);

#endif
