#!/bin/bash
# Makes the RabbitMQ users of Herald's services and the definitions file a
# RabbitMQ node imports at boot (definitions.import_backend =
# local_filesystem), so that no service logs in as guest:
#
#   scripts/broker-users.sh [--rotate] [--notifier-owner UID] [--worker-owner UID] [DIR]
#
# DIR (default $HERALD_BROKER_USERS_DIR; created mode 0700, 0711 when owners
# are given so that those uids can reach their file, and no one can list it)
# gets
#   herald-notifier.password, herald-worker.password
#       a random password each (48 bytes from /dev/urandom, base64url: 64
#       characters, safe in an AMQP URL), mode 0400, made once and kept;
#       --rotate makes new ones. With --notifier-owner / --worker-owner (as
#       root; defaults $HERALD_BROKER_NOTIFIER_OWNER, $HERALD_BROKER_WORKER_OWNER)
#       the file belongs to that uid, for a container running as it.
#   definitions.json
#       rewritten at every call: vhost /, the two users with salted SHA-256
#       hashes of those passwords (rabbit_password_hashing_sha256:
#       base64(salt[4] + sha256(salt + password)), a new salt each time), their
#       permissions, and Herald's topology (exchanges, queues, bindings, the
#       same arguments as amqp/broker.c declares: herald.notifications bounded
#       at $HERALD_QUEUE_MAX messages, default 100000, 0 = unbounded, as the
#       services' --queue-max must say too; with HERALD_QUEUE_TYPE=quorum both
#       queues are quorum queues and herald.notifications has
#       x-delivery-limit $HERALD_DELIVERY_LIMIT, default 20, as the services'
#       --queue-type and --delivery-limit must say). Mode 0444: hashes only, and
#       the broker may run as another user; DIR's own mode guards it.
#
# Why the topology is in the definitions: RabbitMQ asks for read permission
# on a queue to *create* it with a dead-letter exchange, but only configure
# permission to redeclare it once it exists. With the queues made at boot,
# the notifier's user needs no read permission on herald.notifications, so
# it cannot consume (or purge) the notifications. README "RabbitMQ users"
# has the whole design; tests/broker/test_broker_users.sh checks it.
#
# The passwords never appear in argv (here or later) or in output: they go
# to files, and to the services through HERALD_AMQP_PASSWORD_FILE.
# Needs bash and coreutils only (it also runs in the compose image).
set -euo pipefail
umask 077

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

rotate=0
notifier_owner=${HERALD_BROKER_NOTIFIER_OWNER:-} worker_owner=${HERALD_BROKER_WORKER_OWNER:-}
while [ $# -gt 0 ]; do
    case "$1" in
    --rotate) rotate=1; shift ;;
    --notifier-owner) notifier_owner=${2:?}; shift 2 ;;
    --worker-owner) worker_owner=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -le 1 ] || usage
dir=${1:-${HERALD_BROKER_USERS_DIR:-}}
queue_max=${HERALD_QUEUE_MAX:-100000}
if ! [[ "$queue_max" =~ ^[0-9]{1,9}$ ]] || [ "$((10#$queue_max))" -gt 100000000 ]; then
    echo "broker-users.sh: HERALD_QUEUE_MAX must be 0..100000000, not '$queue_max'" >&2
    exit 2
fi
queue_max=$((10#$queue_max))
queue_type=${HERALD_QUEUE_TYPE:-classic}
delivery_limit=${HERALD_DELIVERY_LIMIT:-20}
case "$queue_type" in
classic | quorum) ;;
*)
    echo "broker-users.sh: HERALD_QUEUE_TYPE must be classic or quorum, not '$queue_type'" >&2
    exit 2
    ;;
esac
if ! [[ "$delivery_limit" =~ ^[0-9]{1,7}$ ]] || [ "$((10#$delivery_limit))" -lt 1 ] ||
    [ "$((10#$delivery_limit))" -gt 1000000 ]; then
    echo "broker-users.sh: HERALD_DELIVERY_LIMIT must be 1..1000000, not '$delivery_limit'" >&2
    exit 2
fi
# The same arguments, in the same cases, as amqp/broker.c declares.
notifications_args='"x-dead-letter-exchange": "herald.dead"'
[ "$queue_max" -eq 0 ] ||
    notifications_args+=", \"x-max-length\": $queue_max, \"x-overflow\": \"reject-publish\""
dead_args=""
if [ "$queue_type" = quorum ]; then
    notifications_args+=", \"x-delivery-limit\": $((10#$delivery_limit)), \"x-queue-type\": \"quorum\""
    dead_args='"x-queue-type": "quorum"'
fi
notifications_args="{$notifications_args}"
dead_args="{$dead_args}"
[ -n "$dir" ] || usage
mkdir -p "$dir"
if [ -n "$notifier_owner$worker_owner" ]; then chmod 0711 "$dir"; else chmod 0700 "$dir"; fi

# Permissions, as RabbitMQ checks them for what each service does
# (amqp/broker.c declares the topology; see README "RabbitMQ users"):
#   configure: exchange.declare / queue.declare of the four names (both services)
#   write:     queue.bind needs write on the queue; basic.publish write on the
#              exchange (notifier: herald.events); creating herald.notifications
#              with its dead-letter exchange needs write on herald.dead (worker)
#   read:      queue.bind needs read on the exchange; basic.consume read on the
#              queue (worker: herald.notifications; creating the queue needs it too)
configure='^herald\\.(events|dead|notifications|notifications\\.dead)$'
notifier_write='^herald\\.(events|notifications|notifications\\.dead)$'
notifier_read='^herald\\.(events|dead)$'
worker_write='^herald\\.(dead|notifications|notifications\\.dead)$'
worker_read='^herald\\.(events|dead|notifications)$'

new_password() {
    head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_'
}

bytes() { # hex digits: writes the bytes they spell (NUL included)
    local hex=$1 esc=""
    while [ -n "$hex" ]; do
        esc+="\\x${hex:0:2}"
        hex=${hex:2}
    done
    printf '%b' "$esc"
}

# rabbit_password_hashing_sha256 of the password read from file $1.
password_hash() {
    local salt digest
    salt=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
    digest=$({ bytes "$salt"; tr -d '\n' <"$1"; } | sha256sum | cut -d' ' -f1)
    bytes "$salt$digest" | base64 -w0
}

for user in herald-notifier herald-worker; do
    f=$dir/$user.password
    if [ "$rotate" = 1 ] || [ ! -s "$f" ]; then
        rm -f "$f.new"
        new_password >"$f.new"
        chmod 0400 "$f.new"
        mv -f "$f.new" "$f"
    fi
done
[ -z "$notifier_owner" ] || chown "$notifier_owner" "$dir/herald-notifier.password"
[ -z "$worker_owner" ] || chown "$worker_owner" "$dir/herald-worker.password"

user_json() { # name
    printf '    {"name": "%s", "password_hash": "%s",\n' "$1" "$(password_hash "$dir/$1.password")"
    printf '     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}'
}
perm_json() { # user configure write read
    printf '    {"user": "%s", "vhost": "/",\n     "configure": "%s",\n     "write": "%s",\n     "read": "%s"}' \
        "$1" "$2" "$3" "$4"
}

tmp=$dir/definitions.json.new
rm -f "$tmp"
{
    printf '{\n  "vhosts": [{"name": "/"}],\n  "users": [\n'
    user_json herald-notifier
    printf ',\n'
    user_json herald-worker
    printf '\n  ],\n  "permissions": [\n'
    perm_json herald-notifier "$configure" "$notifier_write" "$notifier_read"
    printf ',\n'
    perm_json herald-worker "$configure" "$worker_write" "$worker_read"
    cat <<JSON

  ],
  "exchanges": [
    {"name": "herald.events", "vhost": "/", "type": "topic", "durable": true,
     "auto_delete": false, "internal": false, "arguments": {}},
    {"name": "herald.dead", "vhost": "/", "type": "fanout", "durable": true,
     "auto_delete": false, "internal": false, "arguments": {}}
  ],
  "queues": [
    {"name": "herald.notifications", "vhost": "/", "durable": true, "auto_delete": false,
     "arguments": $notifications_args},
    {"name": "herald.notifications.dead", "vhost": "/", "durable": true, "auto_delete": false,
     "arguments": $dead_args}
  ],
  "bindings": [
    {"source": "herald.events", "vhost": "/", "destination": "herald.notifications",
     "destination_type": "queue", "routing_key": "event.created", "arguments": {}},
    {"source": "herald.dead", "vhost": "/", "destination": "herald.notifications.dead",
     "destination_type": "queue", "routing_key": "", "arguments": {}}
  ]
}
JSON
} >"$tmp"
chmod 0444 "$tmp"
mv -f "$tmp" "$dir/definitions.json"
