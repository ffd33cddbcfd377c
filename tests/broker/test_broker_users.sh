#!/bin/bash
# The services' own RabbitMQ users, against a real node and the real binaries
# (label `broker`):
#   - scripts/broker-users.sh makes the passwords and the definitions; a
#     private node (tests/rabbitmq-node.sh with DEFINITIONS) imports them at
#     boot and has no guest any more: guest/guest, accepted before, is
#     refused;
#   - herald-store, herald-gateway, herald-notifier and herald-worker run the
#     pipeline end to end, the notifier and the worker logging in as
#     herald-notifier and herald-worker with --amqp-password-file
#     (HERALD_AMQP_PASSWORD_FILE);
#   - herald-broker-probe, logged in as each user, is refused what that user
#     must not do (the worker publishing to herald.events, the notifier
#     consuming or purging herald.notifications, either one reading the
#     dead letters...) and allowed what it must do; a message the worker
#     cannot decode still reaches herald.notifications.dead (the broker
#     dead-letters it, the worker needs no right on that queue);
#   - --rotate: after a node restart the old password is refused and the new
#     one works.
set -euo pipefail

root=${HERALD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${HERALD_BIN_DIR:-$root/build/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-test-broker-users.XXXXXX")
export HERALD_FREE_PORTS_FILE="$work/ports" # distinct ports (tests/free_port.py)
node_dir=$work/rabbitmq users=$work/users
pids=()
node_up=0

say() { printf '[%3ds] broker-users: %s\n' "$SECONDS" "$*"; }
fail() {
    printf 'broker-users: FAIL: %s\n' "$*" >&2
    for f in "$work"/*.log; do
        [ -f "$f" ] || continue
        printf -- '---- %s (last 15 lines)\n' "$f" >&2
        tail -15 "$f" >&2
    done
    exit 1
}

cleanup() {
    local rc=$? i
    set +e
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    [ "$node_up" = 0 ] || "$root/tests/rabbitmq-node.sh" stop "$node_dir" >/dev/null 2>&1
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { # below the ephemeral range: see tests/free_port.py
    python3 "$root/tests/free_port.py"
}
wait_for() { # what seconds command...: polls the command until it succeeds
    local what=$1 secs=$2 deadline=$((SECONDS + $2))
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "$what: not after $secs s"
        sleep 0.2
    done
}
rabbitctl() {
    # shellcheck source=/dev/null  # written by tests/rabbitmq-node.sh
    (. "$node_dir/node.env" &&
        HOME=$node_dir ERL_EPMD_PORT=$EPMD_PORT /usr/lib/rabbitmq/bin/rabbitmqctl -q -n "$NODE" "$@")
}

amqp_port=$(free_port) store_port=$(free_port) pub_port=$(free_port) http_port=$(free_port)
api=http://127.0.0.1:$http_port

# probe USER PASSWORD-FILE EXPECTED-EXIT OP ARGS...: the broker's verdict
# on one operation as that user (0 allowed, 3 refused).
probe() {
    local user=$1 file=$2 want=$3 out rc
    shift 3
    rc=0
    out=$(HERALD_AMQP_URL="amqp://$user@127.0.0.1:$amqp_port/" HERALD_AMQP_PASSWORD_FILE=$file \
        "$bin/herald-broker-probe" "$@" 2>&1) || rc=$?
    [ "$rc" = "$want" ] || fail "$user $*: exit $rc, expected $want ($out)"
    say "$user $*: $out"
}
as_notifier() { probe herald-notifier "$users/herald-notifier.password" "$@"; }
as_worker() { probe herald-worker "$users/herald-worker.password" "$@"; }

# --- the users and the node ---------------------------------------------------------
"$root/scripts/broker-users.sh" "$users"
for f in herald-notifier.password herald-worker.password; do
    [ "$(stat -c %a "$users/$f")" = 400 ] || fail "$f is mode $(stat -c %a "$users/$f"), not 0400"
done
[ "$(stat -c %a "$users")" = 700 ] || fail "$users is not mode 0700"
if grep -qF -f "$users/herald-worker.password" "$users/definitions.json"; then
    fail "definitions.json holds a password in clear"
fi

# The node starts as the test harness's (guest/guest, from any address), as
# a node made before the definitions existed (an older .run/rabbitmq), then
# restarts with them: guest goes, only the two users remain.
node_up=1
"$root/tests/rabbitmq-node.sh" start "$node_dir" "$amqp_port" >"$work/node.log" 2>&1 ||
    fail "RabbitMQ did not start"
printf 'guest' >"$work/guest.password"
probe guest "$work/guest.password" 0 login
"$root/tests/rabbitmq-node.sh" stop "$node_dir" >>"$work/node.log" 2>&1
say "restarting RabbitMQ on 127.0.0.1:$amqp_port with the generated definitions"
"$root/tests/rabbitmq-node.sh" start "$node_dir" "$amqp_port" "$users/definitions.json" \
    >>"$work/node.log" 2>&1 || fail "RabbitMQ did not restart with the definitions"
listed=$(rabbitctl list_users | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ')
[ "$listed" = "herald-notifier herald-worker " ] || fail "users on the node: '$listed'"
probe guest "$work/guest.password" 3 login

# --- the pipeline, each service as its own user -------------------------------------
start() { # name command...: stderr to $work/name.log, stdout to $work/name.out
    local name=$1
    shift
    setsid "$@" >"$work/$name.out" 2>"$work/$name.log" </dev/null &
    pids+=($!)
}
store_ep=tcp://127.0.0.1:$store_port
start store "$bin/herald-store" --bind "$store_ep" --pub-bind "tcp://127.0.0.1:$pub_port"
wait_for "store healthy" 30 "$bin/herald-store" --check --bind "$store_ep"
start gateway "$bin/herald-gateway" --listen "127.0.0.1:$http_port" --store-endpoint "$store_ep"
wait_for "gateway healthy" 30 "$bin/herald-gateway" --check --listen "127.0.0.1:$http_port"
HERALD_AMQP_URL="amqp://herald-notifier@127.0.0.1:$amqp_port/" \
    HERALD_AMQP_PASSWORD_FILE=$users/herald-notifier.password \
    start notifier "$bin/herald-notifier" --store-endpoint "$store_ep" \
    --store-pub-endpoint "tcp://127.0.0.1:$pub_port" --health-file "$work/notifier.health"
HERALD_AMQP_URL="amqp://herald-worker@127.0.0.1:$amqp_port/" \
    HERALD_AMQP_PASSWORD_FILE=$users/herald-worker.password \
    start worker "$bin/herald-worker" --gateway-url "$api" --health-file "$work/worker.health"
wait_for "notifier connected" 30 "$bin/herald-notifier" --check --health-file "$work/notifier.health"
wait_for "worker consuming" 30 "$bin/herald-worker" --check --health-file "$work/worker.health"
conns=$(rabbitctl list_connections user | awk 'NR > 1' | sort | tr '\n' ' ')
[ "$conns" = "herald-notifier herald-worker " ] || fail "connections by user: '$conns'"
if grep -qF -f "$users/herald-notifier.password" "$work/notifier.log" "$work/worker.log"; then
    fail "a password appears in a service's log"
fi

ids=()
for i in 1 2 3; do
    body=$(curl -sS -f -X POST "$api/events" -H 'Content-Type: application/json' \
        -d "{\"user_id\":\"u-$i\",\"description\":\"order $i shipped\"}") || fail "POST /events"
    ids+=("$(python3 -c 'import json,sys; print(json.load(sys.stdin)["event_id"])' <<<"$body")")
done
processed() {
    local id
    for id in "${ids[@]}"; do
        curl -sS "$api/events/$id" | grep -q '"status":"processed"' || return 1
    done
}
wait_for "3 events processed" 60 processed
for i in 1 2 3; do
    grep -qFx "Event ${ids[i - 1]} has been sent to u-$i: order $i shipped" "$work/worker.out" ||
        fail "no worker line for event $i"
done
say "3 events processed end to end by herald-notifier and herald-worker"

# --- what each user may and may not do ------------------------------------------------
# The worker: consumes its queue; never publishes new notifications, reads
# the dead letters or publishes anywhere else.
as_worker 0 consume herald.notifications
as_worker 3 publish herald.events event.created
as_worker 3 publish "" herald.notifications
as_worker 3 consume herald.notifications.dead
as_worker 3 purge herald.notifications.dead
# The notifier: publishes to herald.events only; never consumes, reads or
# purges a queue.
as_notifier 3 consume herald.notifications
as_notifier 3 get herald.notifications
as_notifier 3 purge herald.notifications
as_notifier 3 consume herald.notifications.dead
as_notifier 3 publish herald.dead ""
as_notifier 3 publish "" herald.notifications
# Neither can make anything outside Herald's names.
as_notifier 3 declare-queue herald.other
as_worker 3 declare-queue herald.other
# Allowed: the notifier publishes to herald.events. This body is no
# notification, so the worker rejects it and RabbitMQ dead-letters it to
# herald.notifications.dead (the worker has no right on that queue itself).
as_notifier 0 publish herald.events event.created
dead() { rabbitctl list_queues name messages | awk '$1 == "herald.notifications.dead" && $2 == 1 { ok = 1 } END { exit !ok }'; }
wait_for "the undecodable message dead-lettered" 30 dead
say "the probe's message was dead-lettered by the broker"

# --- rotation -------------------------------------------------------------------------
cp "$users/herald-worker.password" "$work/old-worker.password"
"$root/scripts/broker-users.sh" --rotate "$users"
cmp -s "$users/herald-worker.password" "$work/old-worker.password" && fail "--rotate kept the password"
"$root/tests/rabbitmq-node.sh" stop "$node_dir" >>"$work/node.log" 2>&1
"$root/tests/rabbitmq-node.sh" start "$node_dir" "$amqp_port" "$users/definitions.json" \
    >>"$work/node.log" 2>&1 || fail "RabbitMQ did not restart"
probe herald-worker "$work/old-worker.password" 3 login
as_worker 0 login
as_notifier 0 login
probe guest "$work/guest.password" 3 login
say "PASS"
