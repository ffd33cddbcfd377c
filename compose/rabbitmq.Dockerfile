# RabbitMQ from Debian's rabbitmq-server package, for machines that cannot
# pull the official image (compose/base-image.sh re-tags that one as
# herald-rabbitmq:latest when a registry answers). Same contract as the
# official image where Herald relies on it: RABBITMQ_* environment,
# /etc/rabbitmq/conf.d read (compose mounts Herald's settings there: the
# users come from definitions imported at boot), `rabbitmq-diagnostics ping`
# as health check. guest keeps RabbitMQ's default: loopback only. No Erlang
# cookie in the image (the package's postinst makes one): a node makes its
# own in its data volume at first boot, and the profile `cluster` gives its
# nodes a generated shared one.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/lib/rabbitmq/mnesia/* \
      /var/lib/rabbitmq/.erlang.cookie \
 && printf 'disk_free_limit.absolute = 50MB\n' > /etc/rabbitmq/rabbitmq.conf \
 && mkdir -p /etc/rabbitmq/conf.d \
 && printf '[].\n' > /etc/rabbitmq/enabled_plugins \
 && chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
ENV RABBITMQ_NODENAME=rabbit@localhost HOME=/var/lib/rabbitmq \
    RABBITMQ_LOGS=- RABBITMQ_SASL_LOGS=-
USER rabbitmq
WORKDIR /var/lib/rabbitmq
VOLUME /var/lib/rabbitmq
EXPOSE 5672
CMD ["/usr/lib/rabbitmq/bin/rabbitmq-server"]
