# HAProxy from Debian's package (2.6), for the compose profile `cluster`
# (compose/docker-compose.cluster.yml): one HTTP front for several gateways,
# each checked with GET /readyz. Its configuration is compose/haproxy.cfg,
# mounted read-only; the addresses come from the environment. Runs as the
# package's unprivileged haproxy user; bash is the health check's client.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
USER haproxy
EXPOSE 8000
CMD ["haproxy", "-W", "-db", "-f", "/etc/herald/haproxy.cfg"]
