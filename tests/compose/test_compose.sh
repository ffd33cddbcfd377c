#!/bin/bash
# Compose integration test: Herald's images built and run for real under
# Docker Compose, over 127.0.0.1 only.
#
# Installs docker.io / docker-compose / debootstrap when missing; starts
# `dockerd --bridge=none --iptables=false` when no daemon answers (and stops
# it afterwards, by PID); makes the base images (compose/base-image.sh:
# registry or debootstrap); builds; brings the stack up with the host-network
# override on free loopback ports under a project name of its own; waits for
# every container to be healthy; checks RabbitMQ's users (only
# herald-notifier and herald-worker, made by the one-shot broker-users
# service; guest refused; each service connected as its own user, its
# password in no container's environment, the worker unable to read the
# notifier's); reads the client API token the `secrets` service made on
# first start (the gateway answers 401 without it, and the tokens are
# nowhere in the image); checks the store runs with CURVE keys; creates
# events through the gateway with it, sees each one `processed` (GET
# /events/{id}) and the worker's exact line in `logs worker`; rotates the
# passwords as the README says (old one refused, events still delivered);
# scales the workers to 2 (both consuming, per RabbitMQ) and
# does it again; runs herald-stat inside the image and the `observe`
# profile's Prometheus, which must see the gateway (through the metrics
# token), the store and the notifier up and count the 30 events; then
# `down -v`.
#
# Then the profile `cluster` (docker-compose.cluster.yml with its
# host-network override), in the same daemon: three RabbitMQ nodes in one
# cluster with the quorum queues on all three, two gateways behind HAProxy,
# two workers; a burst of events through HAProxy during which one gateway
# container and the RabbitMQ container leading herald.notifications are
# killed (docker kill); every event answered 201 must be `processed` (read
# through HAProxy) with its worker line; it prints how long HAProxy took to
# mark the gateway DOWN and how long after the node's death a new event was
# processed; then `down -v`. Built images stay cached for the next run.
# HERALD_COMPOSE_PHASES="single cluster" (the default) picks the parts.
#
# It never skips: when Docker cannot run here, it fails and says why.
# HERALD_COMPOSE picks the client ("docker compose" or "docker-compose");
# by default v2 when present, else docker-compose.
set -euo pipefail

root=${HERALD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-compose-test.XXXXXX")
export HERALD_FREE_PORTS_FILE="$work/ports" # distinct ports (tests/free_port.py)
project=heraldctest$$
t0=$SECONDS
dockerd_pid=""
compose_up=0
cluster_up=0
burst_pid=""
stack=single
phases=${HERALD_COMPOSE_PHASES:-single cluster}

say() { printf '[%4ds] compose-test: %s\n' $((SECONDS - t0)) "$*"; }
fail() {
    printf 'compose-test: FAIL: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local rc=$? i
    set +e
    if [ -n "$burst_pid" ]; then
        kill "$burst_pid" 2>/dev/null
        wait "$burst_pid" 2>/dev/null
    fi
    for stack in single cluster; do
        if [ "$stack" = single ]; then [ "$compose_up" = 1 ] || continue; fi
        if [ "$stack" = cluster ]; then [ "$cluster_up" = 1 ] || continue; fi
        if [ "$rc" != 0 ]; then
            echo "---- $compose ps / logs of the $stack stack (last 40 lines per service)" >&2
            dc ps >&2
            dc logs --no-color --tail 40 >&2
        fi
        say "tearing down the $stack stack (down -v)"
        dc --profile observe down -v --remove-orphans >"$work/down.log" 2>&1 ||
            cat "$work/down.log" >&2
    done
    if [ -n "$dockerd_pid" ]; then
        say "stopping the dockerd this test started (pid $dockerd_pid)"
        kill -TERM "$dockerd_pid" 2>/dev/null
        for ((i = 0; i < 300; i++)); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$dockerd_pid" 2>/dev/null && kill -KILL "$dockerd_pid"
        wait "$dockerd_pid" 2>/dev/null
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Docker itself ----------------------------------------------------------------
say "checking packages (docker.io, docker-compose, debootstrap)"
"$root/scripts/install-deps.sh" "$root/compose/packages.txt" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "could not install Docker packages (see above)"; }
command -v docker >/dev/null || fail "no docker client after installing docker.io"

if docker info >/dev/null 2>&1; then
    say "using the Docker daemon that already answers"
else
    command -v dockerd >/dev/null || fail "no dockerd after installing docker.io"
    say "no Docker daemon answers: starting dockerd --bridge=none --iptables=false"
    setsid dockerd --bridge=none --iptables=false --pidfile "$work/dockerd.pid" \
        >"$work/dockerd.log" 2>&1 </dev/null &
    dockerd_pid=$!
    for ((i = 0; i < 240; i++)); do
        docker info >/dev/null 2>&1 && break
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 0.25
    done
    if ! docker info >/dev/null 2>&1; then
        tail -25 "$work/dockerd.log" >&2
        fail "Docker cannot run on this machine: dockerd did not come up (log above)"
    fi
fi

if [ -n "${HERALD_COMPOSE:-}" ]; then
    compose=$HERALD_COMPOSE
elif docker compose version >/dev/null 2>&1; then
    compose="docker compose"
elif command -v docker-compose >/dev/null; then
    compose=docker-compose
else
    fail "neither 'docker compose' nor docker-compose is available"
fi
say "client: $compose ($($compose version 2>/dev/null | head -1))"

# --- ports and the compose command ---------------------------------------------------
free_port() { # below the ephemeral range: see tests/free_port.py
    python3 "$root/tests/free_port.py"
}
export_free_ports() { # VAR...: each set to a free loopback port and exported
    local v
    for v in "$@"; do
        printf -v "$v" %s "$(free_port)"
        export "${v?}"
    done
}
export_free_ports HERALD_HTTP_PORT HERALD_STORE_PORT HERALD_STORE_PUB_PORT HERALD_AMQP_PORT \
    HERALD_EPMD_PORT HERALD_RABBITMQ_DIST_PORT HERALD_STORE_METRICS_PORT \
    HERALD_NOTIFIER_METRICS_PORT HERALD_PROMETHEUS_PORT
api=http://127.0.0.1:$HERALD_HTTP_PORT
# The stack the helpers below act on: $stack, single (docker-compose.yml)
# or cluster (the profile `cluster`, a project of its own).
dc() {
    if [ "$stack" = cluster ]; then
        $compose -p "${project}c" -f "$root/compose/docker-compose.yml" \
            -f "$root/compose/docker-compose.cluster.yml" \
            -f "$root/compose/docker-compose.hostnet.yml" \
            -f "$root/compose/docker-compose.cluster.hostnet.yml" --profile cluster "$@"
    else
        $compose -p "$project" -f "$root/compose/docker-compose.yml" \
            -f "$root/compose/docker-compose.hostnet.yml" "$@"
    fi
}

# --- images ----------------------------------------------------------------------
say "base images (compose/base-image.sh)"
"$root/compose/base-image.sh" || fail "could not provide debian:bookworm-slim"
say "building the Herald image"
dc build store >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "image build failed"; }
say "building the Prometheus image (profile observe)"
dc --profile observe build prometheus >"$work/build-prometheus.log" 2>&1 ||
    { tail -40 "$work/build-prometheus.log" >&2; fail "Prometheus image build failed"; }
# Built again (from cache when unchanged) unless it is the official image
# compose/base-image.sh re-tagged: an image of an older rabbitmq.Dockerfile
# must not be tested.
if ! docker image inspect herald-rabbitmq:latest >/dev/null 2>&1 ||
    docker image inspect -f '{{json .Config.Cmd}}' herald-rabbitmq:latest |
    grep -qF /usr/lib/rabbitmq/bin/rabbitmq-server; then
    say "building the RabbitMQ image from Debian's package"
    dc build rabbitmq >"$work/build-rabbitmq.log" 2>&1 ||
        { tail -40 "$work/build-rabbitmq.log" >&2; fail "RabbitMQ image build failed"; }
fi

# --- helpers ---------------------------------------------------------------------
prom_value() { # query: the first result's value, "" when none
    curl -sS -G "$prom/api/v1/query" --data-urlencode "query=$1" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}

# Every long-running container of the project healthy (count of them
# given), ≤ secs. The one-shot containers (`secrets`, `broker-users`, and
# the cluster's `erlang-cookie` and `rabbitmq-cluster`) are not counted;
# they must have exited 0.
wait_healthy() { # count secs
    local want=$1 deadline=$((SECONDS + $2)) ids n healthy st
    while :; do
        ids=$(dc ps -q 2>/dev/null)
        n=0 healthy=0
        for id in $ids; do
            service=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")
            if [[ "$service" =~ ^(broker-users|secrets|erlang-cookie|rabbitmq-cluster)$ ]]; then
                st=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id")
                [ "$st" != "exited 0" ] || continue
                [ "$st" = "running 0" ] || [ "$st" = "created 0" ] || fail "$service: $st"
            fi
            n=$((n + 1))
            st=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
            [ "$st" = healthy ] && healthy=$((healthy + 1))
        done
        [ "$n" -eq "$want" ] && [ "$healthy" -eq "$want" ] && return 0
        [ $SECONDS -lt $deadline ] || fail "$healthy of $want containers healthy ($n running) after $2 s"
        sleep 1
    done
}

json_field() { # field: from one JSON object on stdin
    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

ids=() users=() descs=()
create_events() { # count tag
    local i body id
    for ((i = 1; i <= $1; i++)); do
        local user="user-$2-$i" desc="Order $2/$i shipped — ünïcode ✓"
        body=$(curl -sS -f -X POST "$api/events" -H 'Content-Type: application/json' -H "$auth" \
            -d "{\"user_id\":\"$user\",\"description\":\"$desc\"}") ||
            fail "POST /events failed"
        id=$(json_field event_id <<<"$body")
        [ "$(json_field status <<<"$body")" = pending ] || fail "new event not pending: $body"
        ids+=("$id") users+=("$user") descs+=("$desc")
    done
}

# Each event so far processed, and its exact line printed exactly once
# (with "at-least-once": once or more; how many events had more than one
# line is left in $duplicates).
check_delivered() { # secs [at-least-once]
    local deadline=$((SECONDS + $1)) i missing
    # GET /events/{id} of each, in one process over one keep-alive
    # connection (hundreds of curl | python pairs take a minute).
    printf '%s\n' "${ids[@]}" >"$work/ids"
    AUTH=$auth API=$api python3 - "$work/ids" "$1" <<'PY' || fail "not every event is processed after $1 s"
import http.client, json, os, sys, time, urllib.parse
url = urllib.parse.urlsplit(os.environ["API"])
headers = {"Authorization": os.environ["AUTH"].split(": ", 1)[1]}
deadline = time.monotonic() + float(sys.argv[2])
conn = None
for event_id in open(sys.argv[1]).read().split():
    status = ""
    while True:
        try:
            if conn is None:
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            conn.request("GET", "/events/" + event_id, headers=headers)
            reply = conn.getresponse()
            body = reply.read()
            status = json.loads(body).get("status", "") if reply.status == 200 else str(reply.status)
        except (OSError, http.client.HTTPException, ValueError) as e:
            conn, status = None, repr(e)
        if status == "processed":
            break
        if time.monotonic() > deadline:
            sys.exit("event %s is '%s', not processed" % (event_id, status))
        time.sleep(0.2)
PY
    while :; do
        # Strip the "worker_1  | " prefix compose adds; compare whole lines.
        dc logs --no-color worker 2>/dev/null | sed 's/^[^|]*| //' >"$work/worker.lines"
        missing=0 duplicates=0
        for ((i = 0; i < ${#ids[@]}; i++)); do
            n=$(grep -cFx "Event ${ids[i]} has been sent to ${users[i]}: ${descs[i]}" \
                "$work/worker.lines" || true)
            if [ "${2:-}" = at-least-once ]; then
                [ "$n" -ge 1 ] || missing=$((missing + 1))
                [ "$n" -le 1 ] || duplicates=$((duplicates + 1))
            else
                [ "$n" -eq 1 ] || missing=$((missing + 1))
            fi
        done
        [ "$missing" -eq 0 ] && break
        [ $SECONDS -lt $deadline ] || {
            grep -F 'has been sent' "$work/worker.lines" >&2 || true
            fail "$missing of ${#ids[@]} events lack exactly one worker line"
        }
        sleep 0.5
    done
}

# Consumers of herald.notifications as a RabbitMQ service sees them
# (default: the single node).
queue_consumers() {
    dc exec -T "${1:-rabbitmq}" rabbitmqctl -q list_queues name consumers |
        awk '$1 == "herald.notifications" { print $2 }' | tr -d '\r'
}

# --- the single-node stack ----------------------------------------------------------
single_stack() {
    say "up (project $project, gateway on $api)"
    compose_up=1
    dc up -d >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; fail "$compose up failed"; }
    wait_healthy 5 240
    say "all 5 containers healthy"
    # grep, not grep -q, after a pipe: grep -q exits at the first match, and
    # the writer's SIGPIPE would then fail the pipeline (pipefail).
    dc logs --no-color store 2>&1 | grep 'CURVE on: 2 client key' >/dev/null ||
        fail "the store is not running with CURVE keys for the gateway and the notifier"
    say "the store speaks CurveZMQ, to the gateway's and the notifier's keys only"

    # The API requires the tokens the secrets service made into its volume.
    code=$(curl -sS -o /dev/null -w '%{http_code}' "$api/events")
    [ "$code" = 401 ] || fail "GET /events without a token answered $code, not 401"
    token=$(dc exec -T gateway cat /var/lib/herald-secrets/client.token) || fail "no client.token in the secrets volume"
    auth="Authorization: Bearer $token"
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "$auth" "$api/events")
    [ "$code" = 200 ] || fail "GET /events with client.token answered $code, not 200"
    docker run --rm --entrypoint sh "${HERALD_IMAGE:-herald:latest}" -c 'ls -A /var/lib/herald-secrets' \
        >"$work/image-secrets" 2>&1 || fail "cannot list the image's secrets directory"
    [ ! -s "$work/image-secrets" ] || fail "the image holds files in /var/lib/herald-secrets: $(cat "$work/image-secrets")"
    say "401 without a token, 200 with client.token; the image holds no token"

    # --- RabbitMQ's users --------------------------------------------------------------
    rabbitctl() { dc exec -T rabbitmq rabbitmqctl -q "$@"; }
    listed=$(rabbitctl list_users | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ')
    [ "$listed" = "herald-notifier herald-worker " ] || fail "RabbitMQ's users: '$listed'"
    if rabbitctl authenticate_user guest guest >/dev/null 2>&1; then fail "guest/guest authenticates"; fi
    conns=$(rabbitctl list_connections user | awk 'NR > 1' | sort | tr '\n' ' ')
    [ "$conns" = "herald-notifier herald-worker " ] || fail "RabbitMQ's connections by user: '$conns'"
    for svc in notifier worker; do
        pw=$(dc exec -T "$svc" cat "/run/herald-broker-users/herald-$svc.password") ||
            fail "$svc cannot read its password file"
        [ "${#pw}" -ge 32 ] || fail "$svc's password is ${#pw} characters"
        for id in $(dc ps -q); do
            if docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}{{range .Config.Cmd}}{{println .}}{{end}}' "$id" |
                grep -F -- "$pw" >/dev/null; then
                fail "herald-$svc's password is in the environment or command of container $id"
            fi
        done
    done
    if dc exec -T worker cat /run/herald-broker-users/herald-notifier.password >/dev/null 2>&1; then
        fail "the worker can read the notifier's password"
    fi
    say "RabbitMQ: users herald-notifier and herald-worker only, each service connected as its own, guest refused"

    create_events 5 one
    check_delivered 60
    say "5 events processed, worker lines seen"

    # --- rotating the passwords, as the README says -------------------------------------
    old=$(dc exec -T worker cat /run/herald-broker-users/herald-worker.password)
    dc run --rm broker-users broker-users.sh --rotate >"$work/rotate.log" 2>&1 ||
        { cat "$work/rotate.log" >&2; fail "broker-users.sh --rotate failed"; }
    [ "$(dc exec -T worker cat /run/herald-broker-users/herald-worker.password)" != "$old" ] ||
        fail "--rotate kept the worker's password"
    dc restart rabbitmq notifier worker >"$work/restart.log" 2>&1 ||
        { cat "$work/restart.log" >&2; fail "restart after --rotate failed"; }
    wait_healthy 5 240
    deadline=$((SECONDS + 60))
    until [ "$(rabbitctl list_connections user 2>/dev/null | awk 'NR > 1' | sort | tr '\n' ' ')" = \
        "herald-notifier herald-worker " ]; do
        [ $SECONDS -lt $deadline ] || fail "notifier and worker not connected again after --rotate"
        sleep 1
    done
    if rabbitctl authenticate_user herald-worker "$old" >/dev/null 2>&1; then
        fail "the worker's old password still authenticates after --rotate"
    fi
    create_events 5 rotated
    check_delivered 60
    say "passwords rotated: the old one refused, 10 events processed"

    say "scaling workers to 2"
    dc up -d --scale worker=2 --no-recreate >"$work/scale.log" 2>&1 ||
        { cat "$work/scale.log" >&2; fail "scale failed"; }
    wait_healthy 6 120
    deadline=$((SECONDS + 60))
    until [ "$(queue_consumers)" = 2 ]; do
        [ $SECONDS -lt $deadline ] || fail "herald.notifications has $(queue_consumers) consumers, not 2"
        sleep 1
    done
    say "2 workers consuming herald.notifications"

    create_events 20 two
    check_delivered 60
    by_worker=$(dc logs --no-color worker | grep -F 'has been sent to user-two-' |
        sed 's/ *|.*//' | sort | uniq -c | tr -s ' \n' ' ')
    say "30 events processed in total, every line once (batch two by container:$by_worker)"

    # --- observing it: herald-stat in the image, Prometheus (profile observe) ----------
    dc exec -T gateway herald-stat --count 2 --interval-ms 500 \
        --gateway-token-file /var/lib/herald-secrets/metrics.token \
        --gateway "$api/metrics" --store "http://127.0.0.1:$HERALD_STORE_METRICS_PORT/metrics" \
        --notifier "http://127.0.0.1:$HERALD_NOTIFIER_METRICS_PORT/metrics" \
        --workers http://127.0.0.1:1/metrics >"$work/stat.out" 2>&1 || {
        cat "$work/stat.out" >&2
        fail "herald-stat failed in the gateway's container"
    }
    # the workers' metrics are on ports of their own here: that column reads -
    if ! { [ "$(grep -c '^[0-9]' "$work/stat.out")" = 2 ] && grep -q '^time .*creates/s' "$work/stat.out" &&
        awk '/^[0-9]/ { if ($5 != "0" || $2 == "-" || $4 == "-") bad = 1 } END { exit bad }' \
            "$work/stat.out"; }; then
        cat "$work/stat.out" >&2
        fail "herald-stat's lines are wrong"
    fi
    say "herald-stat runs in the image: store, gateway and notifier columns read, feed empty"
    dc --profile observe up -d prometheus >"$work/prometheus.log" 2>&1 ||
        { cat "$work/prometheus.log" >&2; fail "up --profile observe failed"; }
    prom=http://127.0.0.1:$HERALD_PROMETHEUS_PORT
    deadline=$((SECONDS + 90))
    until [ "$(prom_value 'sum(up{job=~"gateway|store|notifier"})')" = 3 ] &&
        [ "$(prom_value 'herald_store_events')" = 30 ] &&
        [ "$(prom_value 'sum(herald_http_requests_total{route="POST /events",code="201"})')" = 30 ] &&
        [ -n "$(prom_value 'herald_notifier_confirmed_total > 0')" ]; do
        [ $SECONDS -lt $deadline ] || {
            curl -sS "$prom/api/v1/targets" >&2 || true
            dc logs --no-color --tail 20 prometheus >&2
            fail "Prometheus does not see the 3 targets up with 30 events (up: $(prom_value 'sum(up)'), events: $(prom_value herald_store_events))"
        }
        sleep 2
    done
    say "Prometheus (profile observe) scrapes the gateway (with metrics.token), the store and the notifier: 30 events, 30 201s"
    say "single-node stack: PASS"
    say "tearing down the single-node stack (down -v)"
    dc --profile observe down -v --remove-orphans >"$work/down.log" 2>&1 ||
        { cat "$work/down.log" >&2; fail "down -v failed"; }
    compose_up=0
}

# --- the profile `cluster` --------------------------------------------------------------
# Milliseconds since the epoch (failover times).
now_ms() { date +%s%3N; }

# The status of HAProxy's server $1 in the backend gateways (UP, DOWN, ...).
haproxy_status() {
    curl -sS "http://127.0.0.1:$HERALD_HAPROXY_STATS_PORT/;csv" 2>/dev/null |
        awk -F, -v s="$1" '$1 == "gateways" && $2 == s { print $18 }'
}

# POSTs $1 events through HAProxy one after the other, each as "code id i"
# into file $2 (id "-" when the answer is not a 201 with an event).
burst() { # count file
    local i body code
    for ((i = 1; i <= $1; i++)); do
        body=$(curl -sS -m 10 -w '\n%{http_code}' -X POST "$api/events" \
            -H 'Content-Type: application/json' -H "$auth" \
            -d "{\"user_id\":\"user-burst-$i\",\"description\":\"Burst $i through HAProxy\"}" 2>/dev/null) ||
            true
        code=${body##*$'\n'}
        if [ "$code" = 201 ] && [[ "$body" =~ \"event_id\":\"([0-9a-f-]+)\" ]]; then
            echo "201 ${BASH_REMATCH[1]} $i"
        else
            echo "${code:-000} - $i"
        fi
    done >"$2"
}

cluster_stack() {
    local n=300 t_kill id st body cookie code store_ms leader leader_svc node gw_ms rmq_ms failed by_worker deadline
    export_free_ports HERALD_HTTP_PORT HERALD_HTTP_PORT2 HERALD_HAPROXY_PORT HERALD_HAPROXY_STATS_PORT \
        HERALD_STORE_PORT HERALD_STORE_PUB_PORT HERALD_AMQP_PORT HERALD_AMQP_PORT2 HERALD_AMQP_PORT3 \
        HERALD_EPMD_PORT HERALD_RABBITMQ_DIST_PORT HERALD_RABBITMQ_DIST_PORT2 \
        HERALD_RABBITMQ_DIST_PORT3 HERALD_STORE_METRICS_PORT HERALD_NOTIFIER_METRICS_PORT
    api=http://127.0.0.1:$HERALD_HAPROXY_PORT
    ids=() users=() descs=()

    say "cluster: building the HAProxy image"
    dc build haproxy >"$work/build-haproxy.log" 2>&1 ||
        { tail -40 "$work/build-haproxy.log" >&2; fail "HAProxy image build failed"; }
    say "cluster: up (project ${project}c, HAProxy on $api, 2 workers)"
    cluster_up=1
    dc up -d --scale worker=2 >"$work/up-cluster.log" 2>&1 ||
        { cat "$work/up-cluster.log" >&2; fail "$compose up (profile cluster) failed"; }
    # epmd, 3 nodes, store, 2 gateways, HAProxy, notifier, 2 workers
    wait_healthy 11 300
    dc logs --no-color rabbitmq-cluster |
        grep -F 'cluster of 3 nodes; both quorum queues on every node' >/dev/null ||
        fail "rabbitmq-cluster did not report the queues on all 3 nodes"
    [ "$(dc exec -T rabbitmq2 rabbitmqctl -q eval 'length(rabbit_nodes:all_running()).' | tr -d '\r')" = 3 ] ||
        fail "rabbitmq2 does not see 3 running nodes"
    dc exec -T rabbitmq2 rabbitmqctl -q list_queues name type | awk 'NR > 1' | sort >"$work/queues"
    printf 'herald.notifications\tquorum\nherald.notifications.dead\tquorum\n' | cmp -s - "$work/queues" ||
        fail "queues are not both quorum: $(cat "$work/queues")"
    if docker run --rm --entrypoint ls herald-rabbitmq:latest /var/lib/rabbitmq/.erlang.cookie >/dev/null 2>&1; then
        fail "the RabbitMQ image holds an Erlang cookie"
    fi
    cookie=$(dc exec -T rabbitmq2 cat /run/herald-erlang-cookie/.erlang.cookie) || fail "no Erlang cookie"
    [ "${#cookie}" -ge 32 ] || fail "the Erlang cookie is ${#cookie} characters"
    [ "$(dc exec -T rabbitmq2 stat -c %a /run/herald-erlang-cookie/.erlang.cookie | tr -d '\r')" = 400 ] ||
        fail "the Erlang cookie is not mode 0400"
    for id in $(dc ps -q); do
        if docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}{{range .Config.Cmd}}{{println .}}{{end}}' "$id" |
            grep -F -- "$cookie" >/dev/null; then
            fail "the Erlang cookie is in the environment or command of container $id"
        fi
    done
    # HAProxy's own checks (rise 2, 1 s apart) may trail the containers' health.
    deadline=$((SECONDS + 30))
    until [ "$(haproxy_status gateway1) $(haproxy_status gateway2)" = "UP UP" ]; do
        [ $SECONDS -lt $deadline ] ||
            fail "HAProxy does not see both gateways UP after 30 s: $(haproxy_status gateway1) $(haproxy_status gateway2)"
        sleep 0.5
    done
    say "cluster: 3 RabbitMQ nodes, quorum queues on all, shared cookie (0400, in no image or environment), HAProxy sees 2 gateways UP"

    token=$(dc exec -T gateway cat /var/lib/herald-secrets/client.token) || fail "no client.token"
    auth="Authorization: Bearer $token"

    # The burst, and two containers killed while it runs.
    burst "$n" "$work/burst" &
    burst_pid=$!
    sleep 1
    # Times run from `docker kill`'s return (the container is dead then).
    # One worker goes with the gateway: its unacked deliveries come back to
    # the other.
    id=$(dc ps -q gateway)
    docker kill "$id" "$(dc ps -q worker | head -1)" >/dev/null || fail "docker kill gateway, worker failed"
    t_kill=$(now_ms)
    until [ "$(haproxy_status gateway1)" = DOWN ]; do
        [ $(($(now_ms) - t_kill)) -lt 30000 ] || fail "HAProxy still routes to the killed gateway after 30 s"
        sleep 0.05
    done
    gw_ms=$(($(now_ms) - t_kill))
    say "cluster: gateway 1 killed; HAProxy marked it DOWN after $gw_ms ms"

    leader=$(dc exec -T rabbitmq2 rabbitmq-queues -q quorum_status herald.notifications --formatter json |
        python3 -c 'import json,sys; print([m["Node Name"] for m in json.load(sys.stdin) if m["Raft State"] == "leader"][0])') ||
        fail "no leader for herald.notifications"
    case "$leader" in
    rabbit1@*) leader_svc=rabbitmq ;;
    rabbit2@*) leader_svc=rabbitmq2 ;;
    rabbit3@*) leader_svc=rabbitmq3 ;;
    *) fail "unknown leader $leader" ;;
    esac
    id=$(dc ps -q "$leader_svc")
    docker kill "$id" >/dev/null || fail "docker kill $leader_svc failed"
    t_kill=$(now_ms)
    # A new event, created after the kill: processed once the notifier and a
    # worker are on the surviving nodes and the queue has a new leader.
    body=$(curl -sS -f -X POST "$api/events" -H 'Content-Type: application/json' -H "$auth" \
        -d '{"user_id":"user-probe","description":"after the node died"}') || fail "POST /events after the kill failed"
    id=$(json_field event_id <<<"$body")
    ids+=("$id") users+=(user-probe) descs+=("after the node died")
    while :; do
        st=$(curl -sS -H "$auth" "$api/events/$id" | json_field status) || st=""
        [ "$st" = processed ] && break
        [ $(($(now_ms) - t_kill)) -lt 90000 ] || fail "no event processed 90 s after $leader_svc was killed"
        sleep 0.1
    done
    rmq_ms=$(($(now_ms) - t_kill))
    say "cluster: $leader_svc ($leader, the queue's leader) killed; an event created after it was processed $rmq_ms ms later"
    # The notifier killed and started again (docker does not restart a
    # container `docker kill` stopped): it re-reads the feed from its cursor.
    id=$(dc ps -q notifier)
    docker kill "$id" >/dev/null || fail "docker kill notifier failed"
    docker start "$id" >/dev/null || fail "docker start notifier failed"
    say "cluster: the notifier killed and started again"

    wait "$burst_pid" || fail "the burst failed"
    burst_pid=""
    say "cluster: burst of $n POSTs through HAProxy done"
    failed=$(awk '$1 != 201' "$work/burst" | wc -l)
    # At most the one request gateway 1 held when it died (one at a time).
    [ "$failed" -le 1 ] || { cat "$work/burst" >&2; fail "$failed of $n POSTs through HAProxy were not 201"; }
    while read -r code id i; do
        [ "$code" = 201 ] || continue
        ids+=("$id") users+=("user-burst-$i") descs+=("Burst $i through HAProxy")
    done <"$work/burst"
    check_delivered 120 at-least-once
    by_worker=$(dc logs --no-color worker | grep -F 'has been sent to user-burst-' |
        sed 's/ *|.*//' | sort | uniq -c | tr -s ' \n' ' ')
    say "cluster: all ${#ids[@]} events answered 201 processed (read through HAProxy), each with its worker line; $failed POST not 201, $duplicates events printed twice (at least once); by container:$by_worker"
    node=rabbitmq2
    [ "$leader_svc" != rabbitmq2 ] || node=rabbitmq3
    # The killed worker's consumer goes when its node notices the closed
    # connection (or, if it was on the killed node, when the queue's new
    # leader does), and the survivor may be re-subscribing after a failover:
    # the count settles, so wait for it rather than read it once.
    deadline=$((SECONDS + 60))
    until [ "$(queue_consumers "$node")" = 1 ]; do
        [ $SECONDS -lt $deadline ] ||
            fail "herald.notifications has $(queue_consumers "$node") consumers 60 s after the kills, not 1 (the surviving worker)"
        sleep 1
    done

    # The store killed: 503 through HAProxy until it is back from its journal.
    id=$(dc ps -q store)
    docker kill "$id" >/dev/null || fail "docker kill store failed"
    t_kill=$(now_ms)
    body='{"user_id":"user-outage","description":"while the store is down"}'
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$api/events" -H 'Content-Type: application/json' \
        -H "$auth" -d "$body")
    [ "$code" = 503 ] || fail "POST /events with the store down answered $code, not 503"
    docker start "$id" >/dev/null || fail "docker start store failed"
    until [ "$(curl -sS -o "$work/outage" -w '%{http_code}' -X POST "$api/events" \
        -H 'Content-Type: application/json' -H "$auth" -d "$body")" = 201 ]; do
        [ $(($(now_ms) - t_kill)) -lt 60000 ] || fail "no 201 60 s after the store was started again"
        sleep 0.1
    done
    store_ms=$(($(now_ms) - t_kill))
    ids+=("$(json_field event_id <"$work/outage")") users+=(user-outage) descs+=("while the store is down")
    check_delivered 60 at-least-once
    say "cluster: the store killed: 503 through HAProxy; started again, 201 after $store_ms ms (kill, start and journal replay), all ${#ids[@]} events still processed"
    dc logs --no-color notifier worker | grep -F 'connected to RabbitMQ' | tail -4
    say "cluster: failover times: gateway killed -> HAProxy DOWN $gw_ms ms; RabbitMQ leader killed -> new event processed $rmq_ms ms; store killed -> 201 again $store_ms ms after docker start"
    say "cluster: PASS"
}

for phase in $phases; do
    case "$phase" in
    single) stack=single; single_stack ;;
    cluster) stack=cluster; cluster_stack ;;
    *) fail "HERALD_COMPOSE_PHASES: unknown part '$phase'" ;;
    esac
done
say "PASS"
