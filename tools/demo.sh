#!/usr/bin/env bash
# keepalived-rs demo (current stage: the configuration front end).
# Builds keepalived-rs, then in a throw-away network namespace with eth0
# checks keepalived.conf.example with `keepalived -t`, side by side with
# the real keepalived when it is installed, and shows what a broken
# configuration looks like.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ip >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq iproute2 >/dev/null; }
cargo build --release --locked -p keepalived
bin=$PWD/target/release/keepalived
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

in_netns() {  # run "$@" in a fresh network namespace that has eth0
    unshare -n bash -c 'ip link set lo up
        ip link add eth0 type veth peer name peth0 && ip link set eth0 up && ip link set peth0 up
        "$@"' _ "$@"
}

echo "== keepalived-rs -t keepalived.conf.example"
in_netns "$bin" -t -f "$PWD/keepalived.conf.example" && echo "exit 0: configuration OK"

# A broken copy: a typo, a value out of range, a missing interface.
sed -e 's/virtual_router_id 51/virtual_routr_id 51/' -e 's/priority 100/priority 300/' \
    -e 's/^\$IF=eth0/$IF=eth9/' keepalived.conf.example > "$tmp/broken.conf"
echo
echo "== keepalived-rs -t broken.conf (typo, out-of-range priority, missing interface)"
set +e
in_netns "$bin" -t -f "$tmp/broken.conf"; echo "exit $?"
if command -v keepalived >/dev/null 2>&1 || [ -x /usr/sbin/keepalived ]; then
    echo
    echo "== keepalived 2.2.7 -t broken.conf, for comparison"
    in_netns /usr/sbin/keepalived -t -f "$tmp/broken.conf"; echo "exit $?"
fi

# The process model: parent + children in a throw-away namespace.
echo
echo "== keepalived-rs daemon: parent supervising its VRRP and checker children"
d=$tmp/run; mkdir -p "$d"
unshare -n bash -c 'ip link set lo up; ip link add eth0 type veth peer name peth0; ip link set eth0 up; ip link set peth0 up
    exec "$0" -n -l -G -f "$1" -p "$2/keepalived.pid" -r "$2/vrrp.pid" -c "$2/checkers.pid" -b "$2/bfd.pid"' \
    "$bin" "$PWD/keepalived.conf.example" "$d" 2>"$d/log" &
parent=$!
for _ in $(seq 1 100); do [ -s "$d/vrrp.pid" ] && [ -s "$d/checkers.pid" ] && break; sleep 0.05; done
ps -o pid,ppid,cmd --ppid "$parent" -p "$parent" | cut -c1-100
old=$(cat "$d/vrrp.pid")
echo "-- kill -9 of the VRRP child ($old)"
kill -9 "$old"
for _ in $(seq 1 100); do new=$(cat "$d/vrrp.pid" 2>/dev/null || true); [ -n "$new" ] && [ "$new" != "$old" ] && break; sleep 0.02; done
echo "   respawned as $new"
echo "-- SIGHUP (reload), then SIGTERM (stop)"
kill -HUP "$parent"; sleep 0.5
kill -TERM "$parent"; wait "$parent"; echo "   exit $?"
echo "-- the daemon's log:"
sed 's/^/   /' "$d/log"
