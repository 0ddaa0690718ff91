#!/usr/bin/env bash
# keepalived-rs live demo: three keepalived-rs routers in network namespaces
# on one bridge share 198.51.100.100 with VRRP. Shows the VIP on the master,
# stops the master (SIGTERM: priority 0), shows the VIP move and the time it
# took, then kills the new master (SIGKILL: master-down timer) and shows
# the VIP move again. Everything is created here and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ip >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq iproute2 >/dev/null; }
cargo build --release --locked -p keepalived 2>&1 | tail -1
bin=$PWD/target/release/keepalived
P=karsdemo$$-
tmp=$(mktemp -d)
cleanup() {
    for n in 1 2 3; do [ -s "$tmp/h$n.pid" ] && kill -TERM "$(cat "$tmp/h$n.pid")" 2>/dev/null || true; done
    sleep 0.5
    for n in 1 2 3; do [ -s "$tmp/h$n.pid" ] && kill -KILL "$(cat "$tmp/h$n.pid")" 2>/dev/null || true; done
    for ns in sw h1 h2 h3; do ip netns del "$P$ns" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "${P}sw"
ip -n "${P}sw" link add br0 type bridge
ip -n "${P}sw" link set br0 up
for n in 1 2 3; do
    ip netns add "$P$n" 2>/dev/null || true
    ip netns add "${P}h$n"
    ip link add eth0 netns "${P}h$n" type veth peer name h$n netns "${P}sw"
    ip -n "${P}sw" link set h$n master br0 up
    ip -n "${P}h$n" link set lo up
    ip -n "${P}h$n" link set eth0 up
    ip -n "${P}h$n" addr add 198.51.100.$n/24 dev eth0
    ip netns del "$P$n" 2>/dev/null || true
done

cat > "$tmp/keepalived.conf" <<'CONF'
global_defs {
    vrrp_garp_master_delay 1
    vrrp_garp_master_repeat 1
}
vrrp_instance VI_DEMO {
    state BACKUP
    interface eth0
    virtual_router_id 100
    @h1 priority 150
    @h2 priority 100
    @h3 priority 50
    advert_int 1
    virtual_ipaddress {
        198.51.100.100/24
    }
}
CONF

start() {  # start N
    ip netns exec "${P}h$1" "$bin" -n -l -G -P -i "h$1" -f "$tmp/keepalived.conf" \
        -p "$tmp/h$1.pid" -r "$tmp/h$1-vrrp.pid" -c "$tmp/h$1-c.pid" -b "$tmp/h$1-b.pid" \
        >"$tmp/h$1.log" 2>&1 &
    disown
}
holder() { for n in 1 2 3; do ip -n "${P}h$n" -o addr show dev eth0 | grep -q ' 198.51.100.100/' && echo -n "h$n "; done; echo; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_vip() {  # wait_vip N: until host N holds the VIP; prints ms waited
    local t0; t0=$(now_ms)
    until ip -n "${P}h$1" -o addr show dev eth0 | grep -q ' 198.51.100.100/'; do sleep 0.002; done
    echo $(( $(now_ms) - t0 ))
}

echo "== three keepalived-rs routers (priorities h1 150, h2 100, h3 50), VIP 198.51.100.100"
for n in 1 2 3; do start $n; done
ms=$(wait_vip 1); echo "h1 elected master after ${ms} ms (3 x advert + skew); VIP on: $(holder)"
sleep 2
echo "== SIGTERM the master h1: it sends priority 0"
t0=$(now_ms); kill -TERM "$(cat "$tmp/h1.pid")"; wait_vip 2 >/dev/null
echo "VIP moved to h2 in $(( $(now_ms) - t0 )) ms (protocol: skew (256-100)/256 s = 609 ms); VIP on: $(holder)"
sleep 2
echo "== SIGKILL h2 (no priority 0): h3 takes over when the master-down timer expires"
t0=$(now_ms); kill -STOP "$(cat "$tmp/h2.pid")"; kill -KILL "$(cat "$tmp/h2-vrrp.pid")" "$(cat "$tmp/h2.pid")"
wait_vip 3 >/dev/null
echo "VIP moved to h3 in $(( $(now_ms) - t0 )) ms (protocol: 3 s + skew 0.8 s after h2's last advert)"
echo "== h3's log:"
sed 's/^/   /' "$tmp/h3.log"
