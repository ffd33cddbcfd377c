#!/bin/bash
# Starts and stops a private RabbitMQ node for tests, benchmarks and the
# local runner: its own data dir, its own epmd, every port on 127.0.0.1.
#
#   rabbitmq-node.sh start DIR AMQP_PORT [DEFINITIONS]  # boots, waits until AMQP accepts
#   rabbitmq-node.sh stop DIR              # graceful stop (returns once the VM is gone), then its epmd
#   rabbitmq-node.sh kill DIR              # SIGKILL the node (fault tests)
#
# DIR keeps the node's state (mnesia, logs, name), so a stop followed by a
# start on the same DIR restarts the same node with its durable queues. Each
# start listens on the AMQP_PORT it is given. A start after a kill finds the
# node's epmd still running and keeps its ports, as the fault tests expect;
# a start after a stop (epmd gone with the node, maybe days ago, as between
# two scripts/run.sh) picks fresh epmd and distribution ports, since the old
# ones may have been taken since (a distribution port in use makes the boot
# fail with dist_port_already_used).
# Without DEFINITIONS the node has RabbitMQ's default user guest/guest,
# allowed from any address (loopback_users = none): the test harness's
# broker. With DEFINITIONS (a file from scripts/broker-users.sh) the node
# imports it at every boot (users, permissions, topology), guest is never
# created on a new node and is deleted from an old one, so only the users of
# the definitions can log in (scripts/run.sh, tests/broker).
# Runs the node as the calling user (root in CI), so no system service and
# no shared /var/lib/rabbitmq state is involved.
# A member of a cluster (tests/rabbitmq-cluster.sh) has DIR/cluster.conf:
# its lines (peer discovery) are added to the node's rabbitmq.conf, its
# node.env and Erlang cookie were written by the cluster script, and the
# epmd all members share is the cluster script's to stop, not the node's.
set -eu
RMQ_BIN=/usr/lib/rabbitmq/bin
cmd=${1:?usage: $0 start|stop|kill DIR [AMQP_PORT]}
dir=${2:?usage: $0 start|stop|kill DIR [AMQP_PORT]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export HERALD_FREE_PORTS_FILE="${HERALD_FREE_PORTS_FILE:-$dir/ports}" # distinct ports (free_port.py)

node_here=$(cd "$(dirname "$0")" && pwd)
free_port() { # below the ephemeral range: see tests/free_port.py
    python3 "$node_here/free_port.py"
}

node_env() {
    # shellcheck source=/dev/null
    . "$dir/node.env"
    export RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log"
    export RABBITMQ_NODENAME="$NODE" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT="$AMQP_PORT" RABBITMQ_DIST_PORT="$DIST_PORT"
    export RABBITMQ_FEATURE_FLAGS_FILE="$dir/feature_flags"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
    export RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
    export RABBITMQ_PID_FILE="$dir/node.pid"
    export ERL_EPMD_PORT="$EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export HOME="$dir"
}

# Waits until process $1 is gone, at most $2 tenths of a second.
wait_gone() {
    n=0
    while kill -0 "$1" 2>/dev/null; do
        n=$((n + 1))
        [ $n -le "$2" ] || return 1
        sleep 0.1
    done
}

port_open() { # something accepts TCP connections on 127.0.0.1:$1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

case "$cmd" in
start)
    port=${3:?AMQP_PORT required}
    if [ ! -f "$dir/node.env" ]; then
        mkdir -p "$dir/mnesia" "$dir/log"
        echo '[].' > "$dir/enabled_plugins"
        cat > "$dir/node.env" <<ENV
NODE=herald-$(basename "$dir" | tr -c 'a-zA-Z0-9\n' '-')-$$@localhost
AMQP_PORT=$port
DIST_PORT=$(free_port)
EPMD_PORT=$(free_port)
ENV
    else
        # shellcheck source=/dev/null
        . "$dir/node.env"
        epmd=$EPMD_PORT dist=$DIST_PORT
        if ! port_open "$epmd"; then # no epmd of ours left: not just killed
            epmd=$(free_port) dist=$(free_port)
        fi
        cat > "$dir/node.env.new" <<ENV
NODE=$NODE
AMQP_PORT=$port
DIST_PORT=$dist
EPMD_PORT=$epmd
ENV
        mv "$dir/node.env.new" "$dir/node.env"
    fi
    # Quiet, small-footprint node: no disk alarm surprises on busy CI disks.
    # Written at every start: a node may move from guest to definitions.
    definitions=${4:-}
    if [ -n "$definitions" ]; then
        definitions=$(cd "$(dirname "$definitions")" && pwd)/$(basename "$definitions")
        printf 'disk_free_limit.absolute = 50MB\ndefinitions.import_backend = local_filesystem\ndefinitions.local.path = %s\n' \
            "$definitions" > "$dir/rabbitmq.conf"
    else
        printf 'disk_free_limit.absolute = 50MB\nloopback_users = none\n' > "$dir/rabbitmq.conf"
    fi
    [ ! -f "$dir/cluster.conf" ] || cat "$dir/cluster.conf" >> "$dir/rabbitmq.conf"
    node_env
    nohup "$RMQ_BIN/rabbitmq-server" > "$dir/log/console.log" 2>&1 &
    # Wait until the node answers and its AMQP listener accepts (≤ 60 s).
    i=0
    until port_open "$AMQP_PORT" && "$RMQ_BIN/rabbitmq-diagnostics" -q -n "$NODE" ping >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 240 ]; then
            echo "rabbitmq-node: node $NODE did not start; see $dir/log" >&2
            tail -20 "$dir/log/console.log" >&2 || true
            exit 1
        fi
        sleep 0.25
    done
    # A node made before it had definitions still has guest: delete it.
    if [ -n "$definitions" ] &&
        "$RMQ_BIN/rabbitmqctl" -q -n "$NODE" list_users 2>/dev/null | grep -q '^guest[[:space:]]'; then
        "$RMQ_BIN/rabbitmqctl" -q -n "$NODE" delete_user guest >/dev/null
    fi
    ;;
stop)
    [ -f "$dir/node.env" ] || exit 0
    node_env
    # The node deletes its pid file as it begins to halt: read it first.
    pid=$(cat "$dir/node.pid" 2>/dev/null || true)
    "$RMQ_BIN/rabbitmqctl" -q -n "$NODE" stop >/dev/null 2>&1 || true
    # rabbitmqctl returns once the node has begun to halt; the VM takes a
    # few more seconds. Stopped means the process is gone (≤ 30 s, then
    # SIGKILL), so a start right after never meets the old node.
    [ -z "$pid" ] || wait_gone "$pid" 300 || { kill -9 "$pid" 2>/dev/null; wait_gone "$pid" 50 || true; }
    # Its epmd is ours to stop, unless the cluster's members share it.
    [ -f "$dir/cluster.conf" ] || epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
    ;;
kill)
    [ -f "$dir/node.env" ] || exit 0
    node_env
    pid=$(cat "$dir/node.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
        kill -9 "$pid" 2>/dev/null || true
        wait_gone "$pid" 50 || true
    fi
    ;;
*)
    echo "usage: $0 start|stop|kill DIR [AMQP_PORT]" >&2
    exit 2
    ;;
esac
