#!/bin/sh
# Makes the images Herald's Dockerfiles start from available to the local
# Docker daemon, with or without an image registry:
#
#   debian:bookworm-slim   pulled when a registry answers; otherwise built
#                          here with debootstrap (minbase) from the Debian
#                          mirror apt already uses, slimmed, `docker import`ed
#   herald-rabbitmq:latest the official rabbitmq image re-tagged when it can
#                          be pulled (HERALD_RABBITMQ_UPSTREAM); otherwise left
#                          to compose, which builds it from Debian's
#                          rabbitmq-server package (compose/rabbitmq.Dockerfile)
#
# An image already present is kept (delete it to rebuild). Needs root for
# debootstrap; installs debootstrap when missing.
#   compose/base-image.sh            # both
#   HERALD_NO_PULL=1 compose/base-image.sh   # never try a registry
set -eu
BASE=debian:bookworm-slim
SUITE=bookworm
RABBIT=herald-rabbitmq:latest
RABBIT_UPSTREAM=${HERALD_RABBITMQ_UPSTREAM:-rabbitmq:3.12}
PULL_TIMEOUT=${HERALD_PULL_TIMEOUT:-60}

say() { echo "base-image: $*" >&2; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

try_pull() {
    [ -z "${HERALD_NO_PULL:-}" ] || return 1
    timeout "$PULL_TIMEOUT" docker pull -q "$1" >/dev/null 2>&1
}

# The first mirror apt uses for the suite itself (not -updates/-security),
# from one-line .list files or deb822 .sources files.
apt_mirror() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v s="$SUITE" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i == s) { u = $(i-1); print u; exit } }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" }
            { uri = ""; ok = 0; deb = 0
              for (i = 1; i <= NF; i++) {
                  if ($i ~ /^URIs:/) { split($i, a, " "); uri = a[2] }
                  if ($i ~ /^Types:/ && $i ~ /deb( |$)/) deb = 1
                  if ($i ~ /^Suites:/) { n = split($i, a, " "); for (j = 2; j <= n; j++) if (a[j] == s) ok = 1 }
                  if ($i ~ /^Enabled: *no/) ok = 0
              }
              if (ok && deb && uri != "") { print uri; exit } }' "$f"
    done
}

build_base() {
    if ! command -v debootstrap >/dev/null 2>&1; then
        say "installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    fi
    mirror=$(apt_mirror | grep -E '^https?://' | head -1)
    mirror=${mirror:-http://deb.debian.org/debian}
    work=$(mktemp -d /var/tmp/herald-rootfs.XXXXXX)
    trap 'rm -rf "$work"' EXIT INT TERM
    say "no registry: building $BASE with debootstrap from $mirror (a few minutes)"
    if ! debootstrap --variant=minbase "$SUITE" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -20 "$work/debootstrap.log" >&2
        say "debootstrap failed"
        exit 1
    fi
    r=$work/root
    # What the official slim image does: no docs, man pages or locales from
    # later installs; apt keeps no package cache; the same mirror as here.
    cat >"$r/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$r/etc/apt/apt.conf.d/docker-no-recommends"
    printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };\n' \
        >"$r/etc/apt/apt.conf.d/docker-clean"
    # No service starts inside an image build (as in the official images).
    printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
    chmod 755 "$r/usr/sbin/policy-rc.d"
    rm -f "$r/etc/apt/sources.list"
    cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/}-security
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    find "$r/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
    rm -rf "$r/usr/share/man"/* "$r/usr/share/info"/* "$r/usr/share/locale"/* \
        "$r/var/lib/apt/lists"/* "$r/var/cache/apt"/*.bin "$r/var/cache/apt/archives"/*.deb \
        "$r/var/log"/*.log "$r/tmp"/* "$r/root/.bash_history"
    : >"$r/etc/hostname"
    tar --numeric-owner -C "$r" -c . |
        docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' \
            -m "debootstrap --variant=minbase $SUITE $mirror" - "$BASE" >/dev/null
    rm -rf "$work"
    trap - EXIT INT TERM
    say "built $BASE ($(docker image inspect -f '{{.Size}}' "$BASE" | awk '{ printf "%d MB", $1 / 1e6 }'))"
}

if ! docker info >/dev/null 2>&1; then
    say "no Docker daemon answers (start dockerd first)"
    exit 1
fi

if have_image "$BASE"; then
    say "$BASE present"
elif try_pull "$BASE"; then
    say "pulled $BASE"
else
    build_base
fi

if have_image "$RABBIT"; then
    say "$RABBIT present"
elif try_pull "$RABBIT_UPSTREAM"; then
    docker tag "$RABBIT_UPSTREAM" "$RABBIT"
    say "pulled $RABBIT_UPSTREAM as $RABBIT"
else
    say "$RABBIT will be built from Debian's rabbitmq-server (compose/rabbitmq.Dockerfile)"
fi
