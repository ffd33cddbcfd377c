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
# `down -v`. Built images stay cached for the next run.
#
# It never skips: when Docker cannot run here, it fails and says why.
# HERALD_COMPOSE picks the client ("docker compose" or "docker-compose");
# by default v2 when present, else docker-compose.
set -euo pipefail

root=${HERALD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-compose-test.XXXXXX")
project=heraldctest$$
t0=$SECONDS
dockerd_pid=""
compose_up=0

say() { printf '[%4ds] compose-test: %s\n' $((SECONDS - t0)) "$*"; }
fail() {
    printf 'compose-test: FAIL: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local rc=$? i
    set +e
    if [ "$compose_up" = 1 ]; then
        if [ "$rc" != 0 ]; then
            echo "---- $compose ps / logs (last 40 lines per service)" >&2
            dc ps >&2
            dc logs --no-color --tail 40 >&2
        fi
        say "tearing down (down -v)"
        dc --profile observe down -v --remove-orphans >"$work/down.log" 2>&1 ||
            cat "$work/down.log" >&2
    fi
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
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
export HERALD_HTTP_PORT=$(free_port) HERALD_STORE_PORT=$(free_port)
export HERALD_STORE_PUB_PORT=$(free_port) HERALD_AMQP_PORT=$(free_port)
export HERALD_EPMD_PORT=$(free_port) HERALD_RABBITMQ_DIST_PORT=$(free_port)
export HERALD_STORE_METRICS_PORT=$(free_port) HERALD_NOTIFIER_METRICS_PORT=$(free_port)
export HERALD_PROMETHEUS_PORT=$(free_port)
api=http://127.0.0.1:$HERALD_HTTP_PORT
dc() {
    $compose -p "$project" -f "$root/compose/docker-compose.yml" \
        -f "$root/compose/docker-compose.hostnet.yml" "$@"
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
# Every long-running container of the project healthy (count of them
# given), ≤ secs. The one-shot `secrets` and `broker-users` containers are
# not counted; they must have exited 0.
wait_healthy() { # count secs
    local want=$1 deadline=$((SECONDS + $2)) ids n healthy st
    while :; do
        ids=$(dc ps -q 2>/dev/null)
        n=0 healthy=0
        for id in $ids; do
            service=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")
            if [ "$service" = broker-users ] || [ "$service" = secrets ]; then
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

# Each event so far processed, and its exact line printed exactly once.
check_delivered() { # secs
    local deadline=$((SECONDS + $1)) i st missing
    for ((i = 0; i < ${#ids[@]}; i++)); do
        while :; do
            st=$(curl -sS -H "$auth" "$api/events/${ids[i]}" | json_field status) || st=""
            [ "$st" = processed ] && break
            [ $SECONDS -lt $deadline ] || fail "event ${ids[i]} is '$st', not processed, after $1 s"
            sleep 0.2
        done
    done
    while :; do
        # Strip the "worker_1  | " prefix compose adds; compare whole lines.
        dc logs --no-color worker 2>/dev/null | sed 's/^[^|]*| //' >"$work/worker.lines"
        missing=0
        for ((i = 0; i < ${#ids[@]}; i++)); do
            n=$(grep -cFx "Event ${ids[i]} has been sent to ${users[i]}: ${descs[i]}" \
                "$work/worker.lines" || true)
            [ "$n" -eq 1 ] || missing=$((missing + 1))
        done
        [ "$missing" -eq 0 ] && break
        [ $SECONDS -lt $deadline ] || {
            grep -F 'has been sent' "$work/worker.lines" >&2 || true
            fail "$missing of ${#ids[@]} events lack exactly one worker line"
        }
        sleep 0.5
    done
}

consumers() {
    dc exec -T rabbitmq rabbitmqctl -q list_queues name consumers |
        awk '$1 == "herald.notifications" { print $2 }'
}

# --- the stack --------------------------------------------------------------------
say "up (project $project, gateway on $api)"
compose_up=1
dc up -d >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; fail "$compose up failed"; }
wait_healthy 5 240
say "all 5 containers healthy"
dc logs --no-color store 2>&1 | grep -q 'CURVE on: 2 client key' ||
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
            grep -qF -- "$pw"; then
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
until [ "$(consumers)" = 2 ]; do
    [ $SECONDS -lt $deadline ] || fail "herald.notifications has $(consumers) consumers, not 2"
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
[ "$(grep -c '^[0-9]' "$work/stat.out")" = 2 ] && grep -q '^time .*creates/s' "$work/stat.out" &&
    awk '/^[0-9]/ { if ($5 != "0" || $2 == "-" || $4 == "-") bad = 1 } END { exit bad }' \
        "$work/stat.out" || { cat "$work/stat.out" >&2; fail "herald-stat's lines are wrong"; }
say "herald-stat runs in the image: store, gateway and notifier columns read, feed empty"
dc --profile observe up -d prometheus >"$work/prometheus.log" 2>&1 ||
    { cat "$work/prometheus.log" >&2; fail "up --profile observe failed"; }
prom=http://127.0.0.1:$HERALD_PROMETHEUS_PORT
prom_value() { # query: the first result's value, "" when none
    curl -sS -G "$prom/api/v1/query" --data-urlencode "query=$1" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}
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
say "PASS"
