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
