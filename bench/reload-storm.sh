#!/usr/bin/env bash
# Benchmark (issue 16 item 4): a reload storm, keepalived 2.2.7 and
# keepalived-rs one after the other in the same run, each on its own pair of
# network namespaces:
#   node   (eth0 198.51.100.1/24): the daemon, 10 "untouched" MASTER instances
#          U1..U10 (VIP 10.99.0.N) present in every configuration, plus churn;
#   client (peth0 198.51.100.2/24): pings U1's VIP every 10 ms during the storm.
# The storm: RELOADS (default 100) SIGHUPs at INTERVAL (default 0.1 s), the
# configuration alternating between
#   A: churn instances C1..C20 (VRID 101..120, one VIP each),
#   B: C1..C10 with two VIPs each (addresses added and removed) and C21..C25.
# Figures per implementation:
#   - transitions of the untouched instances after start-up (notify script
#     calls; goal 0),
#   - lost pings to U1's VIP / pings sent,
#   - open file descriptors and VmRSS of the parent and the VRRP child before
#     the storm and 5 s after it (goal: no drift),
#   - whether every untouched VIP and the last configuration's churn VIPs are
#     in place at the end, and the daemon still runs.
# The checker child is not exercised (this kernel has no IPVS; real servers
# in a storm need the IPVS guest).
#
# Usage: [RELOADS=100] [INTERVAL=0.1] [OURS=path] [KEEP=dir] bench/reload-storm.sh
# Asserts nothing; prints both implementations' figures.
set -euo pipefail
cd "$(dirname "$0")/.."
RELOADS=${RELOADS:-100}
INTERVAL=${INTERVAL:-0.1}
. bench/lib.sh
bench_prologue ping python3   # ping: apt-get install iputils-ping
tmp=${KEEP:-$(mktemp -d /tmp/bench-reload-storm.XXXXXX)}
mkdir -p "$tmp"
P=brs$$
cleanup() {
    bench_kill_runs
    bench_del_runs 1 c
}
trap cleanup EXIT

instance() {   # instance NAME VRID VIP...
    local name=$1 vrid=$2; shift 2
    printf 'vrrp_instance %s {\n    state MASTER\n    interface eth0\n    virtual_router_id %s\n' "$name" "$vrid"
    printf '    priority 200\n    advert_int 1\n    notify "%s/notify.sh"\n    virtual_ipaddress {\n' "$dir"
    for v in "$@"; do printf '        %s/32\n' "$v"; done
    printf '    }\n}\n'
}

configs() {   # writes $dir/A.conf and $dir/B.conf
    local common; common=$(printf 'global_defs {\n    router_id storm\n    script_user root\n}\n'
        for i in $(seq 1 10); do instance "U$i" "$i" "10.99.0.$i"; done)
    { echo "$common"; for i in $(seq 1 20); do instance "C$i" $((100 + i)) "10.98.0.$i"; done; } > "$dir/A.conf"
    { echo "$common"
      for i in $(seq 1 10); do instance "C$i" $((100 + i)) "10.98.0.$i" "10.98.1.$i"; done
      for i in $(seq 21 25); do instance "C$i" $((100 + i)) "10.98.0.$i"; done; } > "$dir/B.conf"
}

fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -; }

run() {   # run TAG BINARY
    local tag=$1 bin=$2 ns=$P$1 cns=$P${1}c
    dir=$tmp/$tag
    mkdir -p "$dir" && chmod 755 "$dir"
    printf '#!/bin/sh\necho "$2 $3" >> %s/notify.log\n' "$dir" > "$dir/notify.sh"
    chmod 755 "$dir/notify.sh"
    : > "$dir/notify.log"
    configs
    cp "$dir/A.conf" "$dir/keepalived.conf"
    ip netns add "$ns"; ip netns add "$cns"
    ip -n "$ns" link add eth0 type veth peer name peth0 netns "$cns"
    ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up
    ip -n "$cns" link set lo up; ip -n "$cns" link set peth0 up
    ip -n "$ns" addr add 198.51.100.1/24 dev eth0
    ip -n "$cns" addr add 198.51.100.2/24 dev peth0
    ip -n "$cns" route add 10.99.0.0/24 via 198.51.100.1
    ip netns exec "$ns" "$bin" -n -l -P -f "$dir/keepalived.conf" -p "$dir/k.pid" -r "$dir/v.pid" \
        -c "$dir/c.pid" -b "$dir/b.pid" > "$dir/daemon.log" 2>&1 &
    local i
    for i in $(seq 1 100); do
        [ "$(ip -n "$ns" -o -4 addr show | grep -c ' 10\.99\.0\.')" = 10 ] && break
        sleep 0.1
    done
    sleep 2
    local ppid cpid; ppid=$(cat "$dir/k.pid"); cpid=$(cat "$dir/v.pid")
    local fd0 fdc0 rss0 rssc0; fd0=$(fds "$ppid"); fdc0=$(fds "$cpid"); rss0=$(rss "$ppid"); rssc0=$(rss "$cpid")
    local before; before=$(grep -c '^U' "$dir/notify.log" || true)
    local secs; secs=$(python3 -c "print(int($RELOADS * $INTERVAL) + 3)")
    ip netns exec "$cns" ping -q -i 0.01 -W 0.2 -w "$secs" 10.99.0.1 > "$dir/ping.txt" 2>&1 &
    local pinger=$!
    sleep 0.5
    for i in $(seq 1 "$RELOADS"); do
        # Replaced atomically (a rename): a reload reading a half-copied file would remove the
        # untouched instances in both implementations.
        if [ $((i % 2)) = 1 ]; then cp "$dir/B.conf" "$dir/next.conf"; else cp "$dir/A.conf" "$dir/next.conf"; fi
        mv "$dir/next.conf" "$dir/keepalived.conf"
        kill -HUP "$ppid"
        sleep "$INTERVAL"
    done
    wait "$pinger" || true
    # Churn instances created by the last reload start in BACKUP: 3 adverts and the skew.
    sleep 5
    local cpid1; cpid1=$(cat "$dir/v.pid" 2>/dev/null || echo -)
    local fd1 fdc1 rss1 rssc1; fd1=$(fds "$ppid"); fdc1=$(fds "$cpid1"); rss1=$(rss "$ppid"); rssc1=$(rss "$cpid1")
    local after; after=$(grep -c '^U' "$dir/notify.log" || true)
    local last=A; [ $((RELOADS % 2)) = 1 ] && last=B
    local want; want=$(grep -c '10\.9[89]\.' "$dir/$last.conf")
    local have; have=$(ip -n "$ns" -o -4 addr show | grep -c ' 10\.9[89]\.' || true)
    local alive=no; kill -0 "$ppid" 2>/dev/null && alive=yes
    local sent recv
    sent=$(awk '/packets transmitted/ {print $1}' "$dir/ping.txt"); recv=$(awk '/packets transmitted/ {print $4}' "$dir/ping.txt")
    printf '%-14s %11s %12s %13s %16s %15s %17s %9s %5s\n' "$tag" "$((after - before))" \
        "$((sent - recv))/$sent" "$fd0->$fd1" "$fdc0->$fdc1 " "$rss0->$rss1" "$rssc0->$rssc1" "$have/$want" "$alive"
    [ "$cpid" = "$cpid1" ] || echo "  ($tag: the VRRP child changed pid $cpid -> $cpid1)"
    kill "$ppid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$ppid" 2>/dev/null || break; sleep 0.1; done
}

echo "reload storm: $RELOADS SIGHUPs every $INTERVAL s, 10 untouched + 20/15 churn instances; ours: $OURS"
printf '%-14s %11s %12s %13s %16s %15s %17s %9s %5s\n' implementation transitions "lost pings" "parent fds" \
    "VRRP child fds" "parent RSS KiB" "child RSS KiB" "VIPs" alive
run ka "$KA"
run rs "$OURS"
