# Prometheus from Debian's package, for the compose profile `observe`
# (README "Operating Herald"): scrapes every Herald service's /metrics with
# compose/prometheus.yml. Runs as uid 10001, the owner of the secrets volume,
# to read the gateway's metrics token (metrics.token, admin scope); its data
# in /prometheus (a named volume takes this directory's owner).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && install -d -o 10001 -g 10001 -m 0750 /prometheus
USER 10001:10001
WORKDIR /prometheus
EXPOSE 9090
# compose/docker-compose.yml gives the command: it fills in the targets of
# compose/prometheus.yml first.
CMD ["prometheus", "--version"]
