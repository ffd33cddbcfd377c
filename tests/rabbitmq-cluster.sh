#!/bin/bash
# Starts and stops a private RabbitMQ cluster for tests: N nodes h1..hN
# @localhost on loopback, each a tests/rabbitmq-node.sh node in DIR/hI with
# its own AMQP and distribution ports, all registered with one epmd of the
# cluster's own and sharing one Erlang cookie generated for this cluster
# (DIR/cookie, mode 0400, copied 0400 into each node's HOME; never in the
# source tree).
#
#   rabbitmq-cluster.sh start DIR AMQP_PORT...   # one port per node (1..9)
#   rabbitmq-cluster.sh stop DIR                 # every node, then the epmd
#   rabbitmq-cluster.sh kill DIR I               # SIGKILL node hI (fault tests)
#
# The cluster forms at boot by classic_config peer discovery: every node
# lists all members. h1 boots first and alone (a node that finds no peer
# up starts a cluster of its own, so booting all at once could make
# several); the others boot next, in parallel, find h1 and join it. start
# returns once every node answers and h1 lists all of them as running.
# Guest/guest may log in from anywhere, as on tests/rabbitmq-node.sh's
# node without definitions.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
node_sh=$here/rabbitmq-node.sh
RMQ_BIN=/usr/lib/rabbitmq/bin
usage="usage: $0 start DIR AMQP_PORT... | stop DIR | kill DIR I"
cmd=${1:?$usage}
dir=${2:?$usage}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export HERALD_FREE_PORTS_FILE="${HERALD_FREE_PORTS_FILE:-$dir/ports}" # distinct ports (free_port.py)

free_port() { # below the ephemeral range: see tests/free_port.py
    python3 "$here/free_port.py"
}

# rabbitmqctl against node hI, as that node's own user.
ctl() {
    i=$1
    shift
    # shellcheck source=/dev/null disable=SC2153  # node.env, written below, sets EPMD_PORT
    (. "$dir/h$i/node.env" && ERL_EPMD_PORT=$EPMD_PORT HOME="$dir/h$i" \
        "$RMQ_BIN/rabbitmqctl" -q -n "$NODE" "$@")
}

case "$cmd" in
start)
    shift 2
    n=$#
    if [ "$n" -lt 1 ] || [ "$n" -gt 9 ]; then
        echo "$usage" >&2
        exit 2
    fi
    if [ -f "$dir/cluster.env" ]; then
        echo "rabbitmq-cluster: $dir already holds a cluster" >&2
        exit 1
    fi
    epmd_port=$(free_port)
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/cookie")
    chmod 0400 "$dir/cookie"
    conf="cluster_formation.peer_discovery_backend = classic_config"
    for i in $(seq 1 "$n"); do
        conf="$conf
cluster_formation.classic_config.nodes.$i = h$i@localhost"
    done
    i=0
    for port in "$@"; do
        i=$((i + 1))
        mkdir -p "$dir/h$i/mnesia" "$dir/h$i/log"
        echo '[].' > "$dir/h$i/enabled_plugins"
        printf 'NODE=h%d@localhost\nAMQP_PORT=%d\nDIST_PORT=%d\nEPMD_PORT=%d\n' \
            "$i" "$port" "$(free_port)" "$epmd_port" > "$dir/h$i/node.env"
        printf '%s\n' "$conf" > "$dir/h$i/cluster.conf"
        install -m 0400 "$dir/cookie" "$dir/h$i/.erlang.cookie"
    done
    printf 'NODES=%d\nEPMD_PORT=%d\n' "$n" "$epmd_port" > "$dir/cluster.env"
    # The shared epmd first: rabbitmq-node.sh keeps the ports of a node
    # whose epmd runs.
    epmd -port "$epmd_port" -address 127.0.0.1 -daemon
    "$node_sh" start "$dir/h1" "$1" >> "$dir/cluster.log" 2>&1
    pids=""
    i=1
    for port in "${@:2}"; do
        i=$((i + 1))
        "$node_sh" start "$dir/h$i" "$port" >> "$dir/cluster.log" 2>&1 &
        pids="$pids $!"
    done
    for pid in $pids; do
        wait "$pid" || { echo "rabbitmq-cluster: a node did not start; see $dir" >&2; exit 1; }
    done
    # Joined: h1 lists every node as running (≤ 60 s).
    tries=0
    until [ "$(ctl 1 eval 'length(rabbit_nodes:all_running()).' 2>/dev/null)" = "$n" ]; do
        tries=$((tries + 1))
        if [ $tries -gt 240 ]; then
            echo "rabbitmq-cluster: the nodes did not form one cluster; see $dir" >&2
            ctl 1 cluster_status >&2 || true
            exit 1
        fi
        sleep 0.25
    done
    ;;
stop)
    [ -f "$dir/cluster.env" ] || exit 0
    # shellcheck source=/dev/null  # written by start
    . "$dir/cluster.env"
    pids=""
    for i in $(seq 1 "$NODES"); do
        "$node_sh" stop "$dir/h$i" >> "$dir/cluster.log" 2>&1 &
        pids="$pids $!"
    done
    for pid in $pids; do
        wait "$pid" || true
    done
    epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
    ;;
kill)
    i=${3:?$usage}
    "$node_sh" kill "$dir/h$i"
    ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac
