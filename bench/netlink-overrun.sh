#!/usr/bin/env bash
# Benchmark (issue 16 item 5): netlink overrun. While the daemon runs, another
# program adds and deletes thousands of addresses and links per second in
# the daemon's namespace, so that the link monitor's receive buffer overflows
# (the kernel's ENOBUFS); keepalived 2.2.7 and keepalived-rs one after the
# other in the same run, each with a small monitor buffer
# (vrrp_netlink_monitor_rcv_bufs 16384) to make overruns certain.
# During the churn, three changes the daemon must not miss:
#   1. trk0 (tracked, weight 0) goes down   -> VI_1 must go to FAULT (VIP leaves);
#   2. trk0 comes back up                   -> VI_1 must become MASTER again;
#   3. another program deletes VI_2's VIP   -> VI_2 (MASTER) must put it back.
# Each change is made while the VRRP child is stopped (SIGSTOP for 2 s) and
# the churn fills its monitor buffer, so its notification is lost for certain.
# Figures per implementation: for each change, whether the state is right a
# few seconds after the child resumed (still during the churn); churn
# operations per second; overrun lines the daemon logged; whether it still
# runs.
#
# Usage: [CHURN_SECS=16] [OURS=path] [KEEP=dir] bench/netlink-overrun.sh
# Asserts nothing; prints both implementations' figures.
set -euo pipefail
cd "$(dirname "$0")/.."
CHURN_SECS=${CHURN_SECS:-16}
. bench/lib.sh
bench_prologue
tmp=${KEEP:-$(mktemp -d /tmp/bench-netlink-overrun.XXXXXX)}
mkdir -p "$tmp"
P=bno$$
cleanup() {
    bench_kill_runs
    jobs -p | xargs -r kill 2>/dev/null || true
    bench_del_runs 1 p
}
trap cleanup EXIT

conf() {
    cat <<'EOF'
global_defs {
    router_id overrun
    vrrp_netlink_monitor_rcv_bufs 16384
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 1
    track_interface {
        trk0
    }
    virtual_ipaddress {
        192.0.2.51/32
    }
}
vrrp_instance VI_2 {
    state MASTER
    interface eth0
    virtual_router_id 52
    priority 200
    advert_int 1
    virtual_ipaddress {
        192.0.2.52/32
    }
}
EOF
}

# churn NS SECS: address and link churn on churn0 (a veth whose peer is in the
# peer namespace) and on temporary veth pairs; prints the operations done.
churn() {
    local ns=$1 secs=$2 end ops=0 i
    end=$(( $(date +%s) + secs ))
    while [ "$(date +%s)" -lt "$end" ]; do
        { for i in $(seq 1 250); do echo "address add 10.77.$((i / 250)).$((i % 250 + 1))/32 dev churn0"; done
          for i in $(seq 1 5); do echo "link add tmp$i type veth peer name tmpp$i"; done
          for i in $(seq 1 250); do echo "address del 10.77.$((i / 250)).$((i % 250 + 1))/32 dev churn0"; done
          for i in $(seq 1 5); do echo "link del tmp$i"; done; } | ip -n "$ns" -force -batch - 2>/dev/null || true
        ops=$((ops + 510))
    done
    echo "$ops"
}

has() { ip -n "$1" -o -4 addr show | grep -q " $2/"; }

run() {   # run TAG BINARY
    local tag=$1 bin=$2 ns=$P$1 pns=$P${1}p dir=$tmp/$1
    mkdir -p "$dir"
    conf > "$dir/keepalived.conf"
    ip netns add "$ns"; ip netns add "$pns"
    ip -n "$ns" link add eth0 type veth peer name peth0 netns "$pns"
    ip -n "$ns" link add trk0 type veth peer name ptrk0 netns "$pns"
    ip -n "$ns" link add churn0 type veth peer name pchurn0 netns "$pns"
    for l in lo eth0 trk0 churn0; do ip -n "$ns" link set "$l" up; done
    for l in peth0 ptrk0 pchurn0; do ip -n "$pns" link set "$l" up; done
    ip -n "$ns" addr add 198.51.100.1/24 dev eth0
    ip netns exec "$ns" "$bin" -n -l -P -f "$dir/keepalived.conf" -p "$dir/k.pid" -r "$dir/v.pid" \
        -c "$dir/c.pid" -b "$dir/b.pid" > "$dir/daemon.log" 2>&1 &
    local i
    for i in $(seq 1 100); do has "$ns" 192.0.2.51 && has "$ns" 192.0.2.52 && break; sleep 0.1; done
    sleep 1
    local vpid; vpid=$(cat "$dir/v.pid")
    churn "$ns" "$CHURN_SECS" > "$dir/ops" &
    local churner=$!
    # Each change is made while the VRRP child is stopped for 2 s (SIGSTOP, well inside the
    # watchdog's 5 s): the churn fills the monitor's buffer first, so the change's notification
    # is lost for certain and only a re-read can find it.
    sleep 0.5
    kill -STOP "$vpid"; sleep 1
    ip -n "$pns" link set ptrk0 down            # 1: trk0 loses its carrier
    sleep 1; kill -CONT "$vpid"; sleep 2
    local s1=no; has "$ns" 192.0.2.51 || s1=yes
    kill -STOP "$vpid"; sleep 1
    ip -n "$pns" link set ptrk0 up              # 2: back
    sleep 1; kill -CONT "$vpid"; sleep 5
    local s2=no; has "$ns" 192.0.2.51 && s2=yes
    kill -STOP "$vpid"; sleep 1
    ip -n "$ns" addr del 192.0.2.52/32 dev eth0 # 3: a VIP removed by someone else
    sleep 1; kill -CONT "$vpid"; sleep 2
    local s3=no; has "$ns" 192.0.2.52 && s3=yes
    wait "$churner" || true
    local ops; ops=$(cat "$dir/ops")
    local overruns; overruns=$(grep -ci 'overrun\|ENOBUFS\|No buffer space' "$dir/daemon.log" || true)
    local alive=no; kill -0 "$(cat "$dir/k.pid")" 2>/dev/null && alive=yes
    printf '%-14s %20s %18s %20s %10s %9s %5s\n' "$tag" "$s1" "$s2" "$s3" \
        "$((ops / CHURN_SECS))" "$overruns" "$alive"
    kill "$(cat "$dir/k.pid")" 2>/dev/null || true
    sleep 1
}

echo "netlink overrun: ${CHURN_SECS} s of address/link churn, monitor buffer 16 KiB; ours: $OURS"
printf '%-14s %20s %18s %20s %10s %9s %5s\n' implementation "trk0 down->FAULT" "trk0 up->MASTER" \
    "VIP removed->back" "churn op/s" "overruns" alive
run ka "$KA"
run rs "$OURS"
